export * from './subjects.ts';
export * from './codec.ts';
export * from './messages.ts';
export * from './transport.ts';
export * from './seal.ts';
export * from './redact.ts';
