export * from './backend.ts';
export * from './batch.ts';
export * from './features.ts';
export * from './loss.ts';
export * from './ops.ts';
export * from './wcgcn.ts';
export * from './train.ts';
