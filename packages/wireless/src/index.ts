export * from './rng.ts';
export * from './instance.ts';
export * from './rayleigh.ts';
export * from './objectives.ts';
export * from './io.ts';
export * from './baselines/wmmse.ts';
export * from './models.ts';
export * from './baselines/index.ts';
