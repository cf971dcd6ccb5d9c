import type { z } from 'zod';

/**
 * Keys of a sweep (`sweep.key`): a path into the scenario, written `faults.messageLoss.probability`,
 * `networks[0].K` or `networks.0.K`, that must lead to a number in the scenario schema.
 */
export type KeyPath = (string | number)[];

export const SWEEP_KEY = /^[A-Za-z]+(\.[A-Za-z]+|\.\d+|\[\d+\])+$/;

export function parseKey(key: string): KeyPath {
  return [...key.matchAll(/[A-Za-z]+|\d+/g)].map(([s]) => (/^\d/.test(s) ? Number(s) : s));
}

/** `networks[0].K`. */
export function formatKey(path: KeyPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType; out?: z.ZodType; shape?: Record<string, z.ZodType>; element?: z.ZodType; options?: z.ZodType[] };
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The schema under optional, default, preprocess and the like. */
function unwrap(s: z.ZodType): z.ZodType {
  for (;;) {
    const d = defOf(s);
    if (d.innerType) s = d.innerType;
    else if (d.type === 'pipe') s = defOf(d.in!).type === 'transform' ? d.out! : d.in!;
    else return s;
  }
}

/** Whether `path` leads to a number in `schema` (through objects, arrays by index, unions). */
export function isNumericKey(schema: z.ZodType, path: KeyPath): boolean {
  const d = defOf(unwrap(schema));
  if (path.length === 0) return d.type === 'number';
  const [p, ...rest] = path;
  if (d.type === 'object') return typeof p === 'string' && Object.hasOwn(d.shape!, p) && isNumericKey(d.shape![p], rest);
  if (d.type === 'array') return typeof p === 'number' && isNumericKey(d.element!, rest);
  if (d.type === 'union') return d.options!.some((o) => isNumericKey(o, path));
  return false;
}

/** The value at `path`, or undefined. */
export function valueAt(data: unknown, path: KeyPath): unknown {
  let o = data;
  for (const p of path) {
    if (typeof o !== 'object' || o === null) return undefined;
    o = (o as Record<string | number, unknown>)[p];
  }
  return o;
}

/**
 * A copy of scenario `data` without its sweep and with `value` at `path`: objects are created on
 * the way (`faults.messageLoss` when there are no faults yet), array entries must exist (an
 * algorithm given by its name alone becomes `{ name }`). Throws an Error naming a missing entry.
 */
export function withValue(data: unknown, path: KeyPath, value: number): unknown {
  const copy = structuredClone(data) as Record<string | number, unknown>;
  delete copy.sweep;
  let o = copy;
  path.forEach((p, i) => {
    if (i === path.length - 1) {
      o[p] = value;
      return;
    }
    if (typeof p === 'number' && (!Array.isArray(o) || o[p] === undefined)) throw new Error(`the scenario has no ${formatKey(path.slice(0, i + 1))}`);
    if (typeof o[p] === 'string') o[p] = { name: o[p] }; // `- wmmse` is short for `- { name: wmmse }`
    else if (typeof o[p] !== 'object' || o[p] === null) o[p] = {};
    o = o[p] as Record<string | number, unknown>;
  });
  return copy;
}
