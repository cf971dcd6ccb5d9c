/**
 * messageQuantization: a broadcast travels as `bits`-bit codes, bit-packed. Uniform scheme: entry
 * x becomes code round((clamp(x, lo, hi) - lo) / (hi - lo) (2^bits - 1)) and is read back as
 * lo + code (hi - lo) / (2^bits - 1). Log scheme (values spanning orders of magnitude): a sign
 * bit and bits - 1 bits of log10 |x| quantised the same way over [log10 lo, log10 hi] (|x| below
 * lo, zero included, reads back as +-lo). The range is the message's own (`per-message`: min and
 * max of x, or of the nonzero |x| for log, travel in front of the codes as two float32, 8 bytes)
 * or a fixed [min, max]. Every executor applies the same functions, so a quantised run over NATS
 * equals the in-process one.
 */
export interface Quantization {
  bits: number;
  scheme: 'uniform' | 'log';
  range: 'per-message' | 'fixed';
  /** range `fixed`: the interval the codes span. */
  min?: number;
  max?: number;
}

const HEADER = 8;

/** Bytes of a packed broadcast of n entries: the codes and, per message, the range. */
export function packedBytes(q: Quantization, n: number): number {
  return (q.range === 'per-message' ? HEADER : 0) + Math.ceil((n * q.bits) / 8);
}

/** The range [lo, hi] the codes of `b` span (per message: its extremes, as float32 as they travel). */
function rangeOf(q: Quantization, b: Float64Array): [number, number] {
  if (q.range === 'fixed') return [q.min!, q.max!];
  let lo = Infinity, hi = -Infinity;
  for (const v of b) {
    const x = q.scheme === 'log' ? Math.abs(v) : v;
    if (q.scheme === 'log' && !(x > 0)) continue;
    (lo = Math.min(lo, x)), (hi = Math.max(hi, x));
  }
  if (lo === Infinity) lo = hi = q.scheme === 'log' ? 1 : 0;
  // as they travel: float32 (an entry just outside by that rounding is clamped)
  return [Math.fround(lo), Math.fround(hi)];
}

/** The wire form of broadcast `b`. */
export function pack(q: Quantization, b: Float64Array): Uint8Array {
  const out = new Uint8Array(packedBytes(q, b.length));
  const [lo, hi] = rangeOf(q, b);
  let at = 0;
  if (q.range === 'per-message') {
    const v = new DataView(out.buffer);
    v.setFloat32(0, lo, true);
    v.setFloat32(4, hi, true);
    at = HEADER * 8;
  }
  const log = q.scheme === 'log';
  const levels = 2 ** (log ? q.bits - 1 : q.bits) - 1;
  const [a, z] = log ? [Math.log10(lo), Math.log10(hi)] : [lo, hi];
  for (const v of b) {
    const x = log ? Math.log10(Math.max(Math.abs(v), lo)) : v;
    let code = z > a ? Math.round(((Math.min(z, Math.max(a, x)) - a) / (z - a)) * levels) : 0;
    if (log && v < 0) code |= 1 << (q.bits - 1); // the sign bit
    for (let i = 0; i < q.bits; i++, at++) if ((code >>> i) & 1) out[at >>> 3] |= 1 << (at & 7);
  }
  return out;
}

/** The broadcast of n entries a receiver reads from `bytes`; undefined when they are not such a message. */
export function unpack(q: Quantization, bytes: Uint8Array, n: number): Float64Array | undefined {
  if (bytes.length !== packedBytes(q, n)) return undefined;
  let lo: number, hi: number, at = 0;
  if (q.range === 'per-message') {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    lo = v.getFloat32(0, true);
    hi = v.getFloat32(4, true);
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo || (q.scheme === 'log' && !(lo > 0))) return undefined;
    at = HEADER * 8;
  } else [lo, hi] = [q.min!, q.max!];
  const log = q.scheme === 'log';
  const levels = 2 ** (log ? q.bits - 1 : q.bits) - 1;
  const [a, z] = log ? [Math.log10(lo), Math.log10(hi)] : [lo, hi];
  const b = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let code = 0;
    for (let i = 0; i < q.bits; i++, at++) if ((bytes[at >>> 3] >>> (at & 7)) & 1) code |= 1 << i;
    if (!log) b[k] = a + (code * (z - a)) / levels;
    else {
      const m = code & ~(1 << (q.bits - 1));
      const x = levels > 0 ? 10 ** (a + (m * (z - a)) / levels) : lo;
      b[k] = code >>> (q.bits - 1) ? -x : x;
    }
  }
  return b;
}

/** What a receiver sees of broadcast `b` (the in-process executors apply this; agents pack and unpack). */
export function quantize(q: Quantization | undefined, b: Float64Array): Float64Array {
  return q ? unpack(q, pack(q, b), b.length)! : b;
}
