import { createHash } from 'node:crypto';
import type { DmpAlgorithm } from './contract.ts';

/**
 * Own algorithms as modules (README, "Write your own algorithm"): a module's default export is a
 * factory `(params) => DmpAlgorithm`. The coordinator bundles the module into one ES module (no
 * imports but Node's built-ins) and ships its code with its sha256; whoever runs it (an agent, the
 * in-process executor) verifies the hash, loads the code once per process and keeps the factory
 * here by hash, so that createAlgorithm (which is synchronous) can build it.
 */
export type AlgorithmFactory = (params: Record<string, unknown>) => DmpAlgorithm<unknown>;

/** A module as it travels: its bundled code, the code's sha256 (hex) and a name for messages. */
export interface ModuleCode {
  code: string;
  sha256: string;
  label: string;
}

const factories = new Map<string, AlgorithmFactory>();
const loading = new Map<string, Promise<void>>();

export function sha256Hex(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

/**
 * How long a module's top-level code may take. A top-level await that never settles would
 * otherwise hang an agent, and end the CLI with exit code 13 and no word (the event loop empties).
 */
export const MODULE_LOAD_TIMEOUT_MS = 10_000;

/**
 * Verify and load a module (once per process and hash). Throws one line naming the module when
 * the hash is wrong, the code does not load (in `timeoutMs`), or its default export is not a function.
 */
export function loadModule(m: ModuleCode, timeoutMs = MODULE_LOAD_TIMEOUT_MS): Promise<void> {
  const got = sha256Hex(m.code);
  if (got !== m.sha256) return Promise.reject(new Error(`module ${m.label}: code hash mismatch: expected ${m.sha256}, got ${got}`));
  let p = loading.get(m.sha256);
  if (!p) {
    p = (async () => {
      let mod: { default?: unknown };
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`did not finish loading in ${timeoutMs / 1000} s (a top-level await that never settles?)`)), timeoutMs);
      });
      try {
        mod = (await Promise.race([import(`data:text/javascript;base64,${Buffer.from(m.code).toString('base64')}`), deadline])) as { default?: unknown };
      } catch (e) {
        throw new Error(`module ${m.label}: does not load: ${firstLine(e)}`);
      } finally {
        clearTimeout(timer);
      }
      if (typeof mod.default !== 'function') throw new Error(`module ${m.label}: its default export must be a function (params) => DmpAlgorithm, got ${describe(mod.default)}`);
      factories.set(m.sha256, mod.default as AlgorithmFactory);
    })();
    p.catch(() => loading.delete(m.sha256));
    loading.set(m.sha256, p);
  }
  return p;
}

/**
 * The algorithm a loaded module's factory makes from `params`, checked against the contract and
 * frozen: one object serves every agent of a host (every node in process), so state kept on it
 * (`this.view = view` in init) would be shared, and a result would depend on how agents are packed
 * into processes. Writing to it throws instead; per-agent state belongs in what init returns.
 */
export function moduleAlgorithm(m: Pick<ModuleCode, 'sha256' | 'label'>, params: Record<string, unknown>): DmpAlgorithm<unknown> {
  const f = factories.get(m.sha256);
  if (!f) throw new Error(`module ${m.label}: not loaded (loadModule first)`);
  let alg: unknown;
  try {
    alg = f(params);
  } catch (e) {
    throw new Error(`module ${m.label}: the factory threw: ${firstLine(e)}`);
  }
  return Object.freeze(checkDmpAlgorithm(alg, `module ${m.label}`));
}

/** The most rounds an algorithm may ask for (`rounds`); also the most any job runs (wmmse-dmp: 2 x 10,000). */
export const MAX_MODULE_ROUNDS = 100_000;

const METHODS = ['init', 'broadcastSize', 'messageSize', 'aggregation', 'broadcast', 'message', 'update', 'output'] as const;

/** Throws one line saying what is missing when `alg` is not a DmpAlgorithm (contract.ts). */
export function checkDmpAlgorithm(alg: unknown, what: string): DmpAlgorithm<unknown> {
  if (typeof alg !== 'object' || alg === null) throw new Error(`${what}: the factory must return a DmpAlgorithm object, got ${describe(alg)}`);
  const a = alg as Record<string, unknown>;
  if (typeof a.name !== 'string' || !a.name) throw new Error(`${what}: name must be a non-empty string, got ${describe(a.name)}`);
  if (!Number.isInteger(a.rounds) || (a.rounds as number) < 1 || (a.rounds as number) > MAX_MODULE_ROUNDS) throw new Error(`${what}: rounds must be an integer in [1, ${MAX_MODULE_ROUNDS}], got ${describe(a.rounds)}`);
  if (!Number.isInteger(a.period) || (a.period as number) < 1) throw new Error(`${what}: period must be a positive integer, got ${describe(a.period)}`);
  if (a.powerLimit !== undefined && !(typeof a.powerLimit === 'number' && a.powerLimit > 0 && Number.isFinite(a.powerLimit))) throw new Error(`${what}: powerLimit must be a finite number > 0 when given, got ${describe(a.powerLimit)}`);
  const missing = METHODS.filter((m) => typeof a[m] !== 'function');
  if (missing.length) throw new Error(`${what}: not a DmpAlgorithm: missing method(s) ${missing.join(', ')}`);
  return alg as DmpAlgorithm<unknown>;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 30 ? `${v.slice(0, 30)}...` : v);
  return typeof v === 'object' ? (Array.isArray(v) ? 'an array' : 'an object') : typeof v === 'undefined' ? 'nothing' : `${typeof v} ${String(v)}`;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}
