export * from './contract.ts';
export * from './wmmseDmp.ts';
export * from './nodeRunner.ts';
export * from './algorithms.ts';
export * from './decision.ts';
export * from './inProcess.ts';
export * from './deliveryFaults.ts';
