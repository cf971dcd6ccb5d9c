import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** tsx's ESM register API (beside its loader): a worker thread registers it itself; `--import tsx` does not take in a worker on Node 20. */
const TSX_API = new URL('./esm/api/index.mjs', pathToFileURL(createRequire(import.meta.url).resolve('tsx'))).href;

/** A worker thread running a TypeScript module: a JavaScript shim registers tsx, then imports it. */
export function tsWorker(module: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const shim = `import(${JSON.stringify(TSX_API)}).then((m) => { m.register(); return import(${JSON.stringify(module.href)}); })`;
  return new Worker(shim, { ...options, eval: true });
}
