export * from './agent.ts';
export * from './host.ts';
export * from './main.ts';
