import { MAX_K, MAX_NT, MODEL_NAMES, type Instance, type ModelName } from './instance.ts';

/**
 * Instance files. dmpemu writes `{ format: "dmpemu-instances/1", model, K, Nt, noise, pmax,
 * params, seed, instances: [...] }`; it also reads the format of ../shared/reference/
 * (`generator`, `K`, `noise`, `pmax`, `instances[n].gain`, `instances[n].weights`).
 * Per instance: `gain[i][j]` amplitude from transmitter i to receiver j; `weights[k]`;
 * MISO: `hRe[i][j]`, `hIm[i][j]` arrays of Nt numbers; geometric models: `tx[k]`, `rx[k]` as
 * [x, y]; `csi[k]`: the neighbours j whose edge (j, k) agent k knows (absent: full CSI).
 * The binary form (msgpack) has the same keys with the arrays flat and typed, as in Instance:
 * `gain` a Float64Array of K^2, `weights` of K, `hRe`, `hIm` of K^2 Nt, `tx`, `rx` of 2K, `csi`
 * a Uint8Array of K^2 (`csi[j K + k] = 1`); parseInstanceFile reads both.
 */
export const FORMAT = 'dmpemu-instances/1';

export interface InstanceFile {
  model: ModelName;
  K: number;
  seed?: number | string;
  params?: Record<string, unknown>;
  instances: Instance[];
  /** Fields of the source file kept as they were (e.g. the reference's wmmse100 solutions). */
  extra: Record<string, unknown>[];
}

export class InstanceFormatError extends Error {
  /** `gotText` says what was found when `got` itself would not (e.g. "all 0"). */
  constructor(readonly field: string, expected: string, got: unknown, gotText = describe(got)) {
    super(`${field}: expected ${expected}, got ${gotText}`);
    this.name = 'InstanceFormatError';
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (missing)';
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of length ${(v as Float64Array).length}`;
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v);
  return typeof v;
}

function num(v: unknown, field: string, check?: (x: number) => boolean, expected = 'a finite number'): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (check && !check(v))) throw new InstanceFormatError(field, expected, v);
  return v;
}

function vector(v: unknown, n: number, field: string, out: Float64Array, offset: number, check?: (x: number) => boolean, expected = 'a finite number'): void {
  if (v instanceof Float64Array) {
    out.set(flat(v, n, field, (i) => `[${i}]`, check, expected), offset);
    return;
  }
  if (!Array.isArray(v) || v.length !== n) throw new InstanceFormatError(field, `an array of ${n} numbers`, v);
  for (let i = 0; i < n; i++) out[offset + i] = num(v[i], `${field}[${i}]`, check, expected);
}

/** The binary form: a Float64Array of n values, each checked; `at(i)` names entry i as the nested form would. */
function flat(v: Float64Array, n: number, field: string, at: (i: number) => string, check?: (x: number) => boolean, expected = 'a finite number'): Float64Array {
  if (v.length !== n) throw new InstanceFormatError(field, `a Float64Array of ${n} values`, v);
  for (let i = 0; i < n; i++) if (!Number.isFinite(v[i]) || (check && !check(v[i]))) throw new InstanceFormatError(`${field}${at(i)}`, expected, v[i]);
  return v;
}

const nonNegative = (x: number): boolean => x >= 0;

/** Gains g_ij >= 0, the direct ones g_kk > 0 (a pair without its own link has no rate: dB features and WMMSE's u_k would be -Infinity and 0/0). */
function matrix(v: unknown, K: number, field: string): Float64Array {
  let out: Float64Array;
  if (v instanceof Float64Array) out = flat(v, K * K, field, (i) => `[${Math.floor(i / K)}][${i % K}]`, nonNegative, 'a finite number >= 0');
  else {
    if (!Array.isArray(v) || v.length !== K) throw new InstanceFormatError(field, `a ${K} x ${K} matrix (${K} rows)`, v);
    out = new Float64Array(K * K);
    for (let i = 0; i < K; i++) vector(v[i], K, `${field}[${i}]`, out, i * K, nonNegative, 'a finite number >= 0');
  }
  for (let k = 0; k < K; k++) if (!(out[k * K + k] > 0)) throw new InstanceFormatError(`${field}[${k}][${k}]`, "a finite number > 0 (pair k's own link)", out[k * K + k]);
  return out;
}

function complexTensor(v: unknown, K: number, Nt: number, field: string): Float64Array {
  if (v instanceof Float64Array) return flat(v, K * K * Nt, field, (i) => `[${Math.floor(i / (K * Nt))}][${Math.floor(i / Nt) % K}][${i % Nt}]`);
  if (!Array.isArray(v) || v.length !== K) throw new InstanceFormatError(field, `${K} rows of ${K} vectors of ${Nt} numbers`, v);
  const out = new Float64Array(K * K * Nt);
  for (let i = 0; i < K; i++) {
    const row = v[i];
    if (!Array.isArray(row) || row.length !== K) throw new InstanceFormatError(`${field}[${i}]`, `${K} vectors of ${Nt} numbers`, row);
    for (let j = 0; j < K; j++) vector(row[j], Nt, `${field}[${i}][${j}]`, out, (i * K + j) * Nt);
  }
  return out;
}

function points(v: unknown, K: number, field: string): Float64Array {
  if (v instanceof Float64Array) return flat(v, 2 * K, field, (i) => `[${i >> 1}][${i & 1}]`);
  if (!Array.isArray(v) || v.length !== K) throw new InstanceFormatError(field, `${K} points [x, y]`, v);
  const out = new Float64Array(2 * K);
  for (let k = 0; k < K; k++) vector(v[k], 2, `${field}[${k}]`, out, 2 * k);
  return out;
}

function csiLists(v: unknown, K: number, field: string): Uint8Array {
  if (v instanceof Uint8Array) {
    if (v.length !== K * K) throw new InstanceFormatError(field, `a Uint8Array of ${K * K} values`, v);
    for (let i = 0; i < K * K; i++) {
      const ok = i % (K + 1) === 0 ? v[i] === 0 : v[i] <= 1; // csi[j K + k]; no self edge
      if (!ok) throw new InstanceFormatError(`${field}[${i}]`, i % (K + 1) === 0 ? '0 (no edge from a pair to itself)' : '0 or 1', v[i]);
    }
    return v;
  }
  if (!Array.isArray(v) || v.length !== K) throw new InstanceFormatError(field, `${K} neighbour lists`, v);
  const out = new Uint8Array(K * K);
  for (let k = 0; k < K; k++) {
    const list = v[k];
    if (!Array.isArray(list)) throw new InstanceFormatError(`${field}[${k}]`, 'an array of neighbour indices', list);
    list.forEach((j, n) => {
      num(j, `${field}[${k}][${n}]`, (x) => Number.isInteger(x) && x >= 0 && x < K && x !== k, `an integer in [0, ${K}) other than ${k}`);
      out[j * K + k] = 1;
    });
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parse and validate an instance file (ours or the reference format). `source` names it in errors. */
export function parseInstanceFile(data: unknown, source = 'instances'): InstanceFile {
  const at = (f: string): string => `${source}: ${f}`;
  if (!isRecord(data)) throw new InstanceFormatError(at('(top level)'), 'a JSON object', data);
  if (data.format !== undefined && data.format !== FORMAT) throw new InstanceFormatError(at('format'), `${JSON.stringify(FORMAT)} (the version this dmpemu reads) or none`, data.format);
  refuseNearMisses(data, TOP_KEYS, (key) => at(key));
  const modelRaw = data.model ?? data.generator ?? 'rayleigh-ic';
  if (typeof modelRaw !== 'string' || !(MODEL_NAMES as readonly string[]).includes(modelRaw))
    throw new InstanceFormatError(at('model'), `one of ${MODEL_NAMES.join(', ')}`, modelRaw);
  const model = modelRaw as ModelName;
  const K = num(data.K, at('K'), (x) => Number.isInteger(x) && x > 0 && x <= MAX_K, `an integer from 1 to ${MAX_K}`);
  // only miso has several antennas; the other models are single-antenna (Nt 1, or no Nt)
  if (model === 'miso' && data.Nt === undefined) throw new InstanceFormatError(at('Nt'), `an integer from 1 to ${MAX_NT} for model miso`, undefined);
  const Nt = model !== 'miso' && data.Nt === undefined ? 1
    : model === 'miso' ? num(data.Nt, at('Nt'), (x) => Number.isInteger(x) && x > 0 && x <= MAX_NT, `an integer from 1 to ${MAX_NT}`)
    : num(data.Nt, at('Nt'), (x) => x === 1, `1 for model ${model} (single-antenna; multi-antenna networks are miso)`);
  const noiseTop = data.noise === undefined ? undefined : num(data.noise, at('noise'), (x) => x > 0, 'a finite number > 0');
  const pmaxTop = data.pmax === undefined ? 1 : num(data.pmax, at('pmax'), (x) => x > 0, 'a finite number > 0');
  if (!Array.isArray(data.instances) || data.instances.length === 0)
    throw new InstanceFormatError(at('instances'), 'a non-empty array', data.instances);
  const instances: Instance[] = [];
  const extra: Record<string, unknown>[] = [];
  data.instances.forEach((raw: unknown, n: number) => {
    const f = (name: string): string => at(`instances[${n}].${name}`);
    if (!isRecord(raw)) throw new InstanceFormatError(at(`instances[${n}]`), 'an object', raw);
    refuseNearMisses(raw, INSTANCE_KEYS, f);
    const noise = raw.noise === undefined ? noiseTop : num(raw.noise, f('noise'), (x) => x > 0, 'a finite number > 0');
    if (noise === undefined) throw new InstanceFormatError(f('noise'), 'a finite number > 0 (here or at the top level)', undefined);
    const pmax = raw.pmax === undefined ? pmaxTop : num(raw.pmax, f('pmax'), (x) => x > 0, 'a finite number > 0');
    const gain = matrix(raw.gain, K, f('gain'));
    const weights = new Float64Array(K).fill(1);
    if (raw.weights !== undefined) vector(raw.weights, K, f('weights'), weights, 0, nonNegative, 'a finite number >= 0');
    if (weights.every((x) => x === 0)) throw new InstanceFormatError(f('weights'), 'at least one weight > 0 (the weighted sum rate of all-0 weights is 0 whatever the powers)', raw.weights, 'all 0');
    const inst: Instance = { model, K, Nt, noise, pmax, weights, gain };
    if (model !== 'miso' && (raw.hRe !== undefined || raw.hIm !== undefined)) throw new InstanceFormatError(f(raw.hRe !== undefined ? 'hRe' : 'hIm'), `none for model ${model} (complex channels are miso's; ${model} has gain)`, raw.hRe ?? raw.hIm);
    if (model === 'miso') {
      inst.hRe = complexTensor(raw.hRe, K, Nt, f('hRe'));
      inst.hIm = complexTensor(raw.hIm, K, Nt, f('hIm'));
    }
    if (raw.tx !== undefined || raw.rx !== undefined) {
      inst.tx = points(raw.tx, K, f('tx'));
      inst.rx = points(raw.rx, K, f('rx'));
    }
    if (raw.csi !== undefined) inst.csi = csiLists(raw.csi, K, f('csi'));
    instances.push(inst);
    const rest: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) if (!INSTANCE_KEYS.has(key)) rest[key] = value;
    extra.push(rest);
  });
  const params = isRecord(data.params) ? data.params : undefined;
  const seed = typeof data.seed === 'number' || typeof data.seed === 'string' ? data.seed : undefined;
  return { model, K, seed, params, instances, extra };
}

const INSTANCE_KEYS = new Set(['noise', 'pmax', 'gain', 'weights', 'hRe', 'hIm', 'tx', 'rx', 'csi']);
const TOP_KEYS = new Set(['format', 'model', 'generator', 'K', 'Nt', 'noise', 'pmax', 'seed', 'params', 'instances']);
/** Names users give what the files call otherwise. */
const SYNONYMS: Record<string, string> = { sigma2: 'noise', sigma: 'noise', noisepower: 'noise', w: 'weights' };

/** The kind of value each key the format reads holds (a near miss holding one is a misspelt key). */
const KEY_VALUES: Record<string, (v: unknown) => boolean> = {
  noise: (v) => typeof v === 'number', pmax: (v) => typeof v === 'number', K: (v) => typeof v === 'number', Nt: (v) => typeof v === 'number',
  weights: isArrayLike, gain: isArrayLike, hRe: isArrayLike, hIm: isArrayLike, tx: isArrayLike, rx: isArrayLike, csi: isArrayLike, instances: Array.isArray,
  model: isModelName, generator: isModelName, format: (v) => typeof v === 'string' && v.startsWith('dmpemu-instances'),
  seed: (v) => typeof v === 'number' || typeof v === 'string', params: isRecord,
};

function isModelName(v: unknown): boolean {
  return (MODEL_NAMES as readonly unknown[]).includes(v);
}

function isArrayLike(v: unknown): boolean {
  return Array.isArray(v) || ArrayBuffer.isView(v);
}

/**
 * Other keys are kept as they are (the reference files' solutions, a user's notes), but one that
 * looks like a key the file reads, misspelt (weight, Pmax, sigma2), and holds what that key would,
 * is refused: its value would be ignored and a default used in its place (weights 1, the top-level
 * noise), silently. So is a per-instance key at the top level (`weights` there was ignored).
 */
function refuseNearMisses(o: Record<string, unknown>, known: Set<string>, field: (key: string) => string): void {
  for (const key of Object.keys(o)) {
    if (known.has(key)) continue;
    if (known === TOP_KEYS && INSTANCE_KEYS.has(key)) throw new InstanceFormatError(field(key), `it per instance (instances[n].${key}): at the top level it would be ignored`, o[key]);
    const meant = SYNONYMS[key.toLowerCase()] ?? [...known].find((k) => k.toLowerCase() === key.toLowerCase() || (Math.min(k.length, key.length) >= 4 && editDistance(k.toLowerCase(), key.toLowerCase()) <= (Math.min(k.length, key.length) >= 7 ? 2 : 1)));
    if (meant !== undefined && known.has(meant) && KEY_VALUES[meant]?.(o[key])) throw new InstanceFormatError(field(key), `a key this format reads (did you mean ${meant}? this one would be ignored and the default of ${meant} used)`, o[key]);
  }
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length];
}

function rows(a: Float64Array, K: number, width = K): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < a.length / width; i++) out.push(Array.from(a.subarray(i * width, (i + 1) * width)));
  return out;
}

function complexRows(a: Float64Array, K: number, Nt: number): number[][][] {
  const out: number[][][] = [];
  for (let i = 0; i < K; i++) {
    const row: number[][] = [];
    for (let j = 0; j < K; j++) row.push(Array.from(a.subarray((i * K + j) * Nt, (i * K + j + 1) * Nt)));
    out.push(row);
  }
  return out;
}

/** Neighbour lists: for each agent k, the j whose edge (j, k) it knows. */
export function csiToLists(csi: Uint8Array, K: number): number[][] {
  const out: number[][] = [];
  for (let k = 0; k < K; k++) {
    const list: number[] = [];
    for (let j = 0; j < K; j++) if (j !== k && csi[j * K + k] === 1) list.push(j);
    out.push(list);
  }
  return out;
}

/** Serialise instances to the dmpemu JSON format (plain data, ready for JSON.stringify). */
export function instanceFileToJson(file: { model: ModelName; seed?: number | string; params?: Record<string, unknown>; instances: Instance[] }): Record<string, unknown> {
  const first = file.instances[0];
  return {
    format: FORMAT,
    model: file.model,
    K: first.K,
    Nt: first.Nt,
    noise: first.noise,
    pmax: first.pmax,
    seed: file.seed,
    params: file.params ?? {},
    instances: file.instances.map((inst) => {
      const o: Record<string, unknown> = { noise: inst.noise, pmax: inst.pmax, gain: rows(inst.gain, inst.K), weights: Array.from(inst.weights) };
      if (inst.hRe && inst.hIm) {
        o.hRe = complexRows(inst.hRe, inst.K, inst.Nt);
        o.hIm = complexRows(inst.hIm, inst.K, inst.Nt);
      }
      if (inst.tx && inst.rx) {
        o.tx = rows(inst.tx, inst.K, 2);
        o.rx = rows(inst.rx, inst.K, 2);
      }
      if (inst.csi) o.csi = csiToLists(inst.csi, inst.K);
      return o;
    }),
  };
}

/** JSON.stringify of a number (null for what JSON cannot hold). */
const jsonNumber = (x: number): string => (Number.isFinite(x) ? String(x) : 'null');

function jsonRow(a: Float64Array, from: number, to: number): string {
  let s = '[';
  for (let i = from; i < to; i++) s += (i > from ? ',' : '') + jsonNumber(a[i]);
  return s + ']';
}

/** `[[...],[...]]` of `a` in rows of `width`, one chunk per row. */
function* jsonRows(a: Float64Array, width: number): Generator<string> {
  const n = a.length / width;
  for (let i = 0; i < n; i++) yield (i === 0 ? '[' : ',') + jsonRow(a, i * width, (i + 1) * width) + (i === n - 1 ? ']' : '');
  if (n === 0) yield '[]';
}

/** `[[[...Nt], ...K], ...K]`, one chunk per row i. */
function* jsonComplexRows(a: Float64Array, K: number, Nt: number): Generator<string> {
  for (let i = 0; i < K; i++) {
    let s = i === 0 ? '[[' : ',[';
    for (let j = 0; j < K; j++) s += (j > 0 ? ',' : '') + jsonRow(a, (i * K + j) * Nt, (i * K + j + 1) * Nt);
    yield s + (i === K - 1 ? ']]' : ']');
  }
}

/** One instance as instanceFileToJson and JSON.stringify write it, row by row. */
function* instanceJsonChunks(inst: Instance): Generator<string> {
  yield `{"noise":${jsonNumber(inst.noise)},"pmax":${jsonNumber(inst.pmax)},"gain":`;
  yield* jsonRows(inst.gain, inst.K);
  yield `,"weights":${jsonRow(inst.weights, 0, inst.weights.length)}`;
  if (inst.hRe && inst.hIm) {
    yield ',"hRe":';
    yield* jsonComplexRows(inst.hRe, inst.K, inst.Nt);
    yield ',"hIm":';
    yield* jsonComplexRows(inst.hIm, inst.K, inst.Nt);
  }
  if (inst.tx && inst.rx) {
    yield ',"tx":';
    yield* jsonRows(inst.tx, 2);
    yield ',"rx":';
    yield* jsonRows(inst.rx, 2);
  }
  if (inst.csi) {
    const lists = csiToLists(inst.csi, inst.K);
    yield ',"csi":';
    for (let k = 0; k < lists.length; k++) yield (k === 0 ? '[' : ',') + JSON.stringify(lists[k]) + (k === lists.length - 1 ? ']' : '');
  }
  yield '}';
}

/**
 * The dmpemu JSON form of an instance file in pieces (the header, then instance by instance, row
 * by row), so a file of any size is written without one string for all of it: the pieces joined are
 * exactly JSON.stringify(instanceFileToJson(file)). `instances` may be drawn lazily.
 */
export function* instanceFileJsonChunks(file: { model: ModelName; seed?: number | string; params?: Record<string, unknown>; instances: Iterable<Instance> }): Generator<string> {
  let n = 0;
  for (const inst of file.instances) {
    if (n++ === 0) {
      const header = JSON.stringify({ format: FORMAT, model: file.model, K: inst.K, Nt: inst.Nt, noise: inst.noise, pmax: inst.pmax, seed: file.seed, params: file.params ?? {}, instances: [] });
      yield header.slice(0, -2); // without the closing `]}`
    } else yield ',';
    yield* instanceJsonChunks(inst);
  }
  if (n === 0) throw new Error('instanceFileJsonChunks: no instances');
  yield ']}';
}
