import type { Instance } from './instance.ts';

/**
 * SISO: SINR_k = g_kk^2 p_k / (sum_{j != k} g_jk^2 p_j + sigma^2) (channel-models.md section 1).
 * `g2` are squared amplitudes, row-major, transmitter i to receiver j.
 */
export function sinrSiso(g2: Float64Array, K: number, noise: number, p: ArrayLike<number>, out = new Float64Array(K)): Float64Array {
  return sinrRows(g2, false, K, noise, p, out);
}

/** sinrSiso from the amplitudes themselves (squared on the fly: no K x K copy). */
export function sinrFromGains(gain: Float64Array, K: number, noise: number, p: ArrayLike<number>, out = new Float64Array(K)): Float64Array {
  return sinrRows(gain, true, K, noise, p, out);
}

/**
 * The interference of every receiver summed transmitter by transmitter, reading the K x K matrix
 * row by row (contiguously: a column walk misses the cache at large K); for each k the terms are
 * added in the order j = 0, 1, ..., as a column walk would.
 */
function sinrRows(g: Float64Array, square: boolean, K: number, noise: number, p: ArrayLike<number>, out: Float64Array): Float64Array {
  const interference = new Float64Array(K).fill(noise);
  for (let j = 0; j < K; j++) {
    const pj = p[j];
    if (pj === 0) continue;
    const row = j * K;
    if (square) {
      for (let k = 0; k < j; k++) interference[k] += g[row + k] * g[row + k] * pj;
      for (let k = j + 1; k < K; k++) interference[k] += g[row + k] * g[row + k] * pj;
    } else {
      for (let k = 0; k < j; k++) interference[k] += g[row + k] * pj;
      for (let k = j + 1; k < K; k++) interference[k] += g[row + k] * pj;
    }
  }
  for (let k = 0; k < K; k++) {
    const gkk = g[k * K + k];
    out[k] = ((square ? gkk * gkk : gkk) * p[k]) / interference[k];
  }
  return out;
}

/**
 * MISO: SINR_k = |h_kk^H v_k|^2 / (sum_{j != k} |h_jk^H v_j|^2 + sigma^2) (channel-models.md
 * section 3). Beams `vRe`, `vIm` hold v_k at offset k * Nt.
 */
export function sinrMiso(inst: Instance, vRe: Float64Array, vIm: Float64Array, out = new Float64Array(inst.K)): Float64Array {
  const { K, Nt, hRe, hIm, noise } = inst;
  if (!hRe || !hIm) throw new Error('sinrMiso: instance has no complex channels (hRe, hIm)');
  for (let k = 0; k < K; k++) {
    let interference = noise;
    let signal = 0;
    for (let j = 0; j < K; j++) {
      const p = beamGain(hRe, hIm, (j * K + k) * Nt, vRe, vIm, j * Nt, Nt);
      if (j === k) signal = p;
      else interference += p;
    }
    out[k] = signal / interference;
  }
  return out;
}

/** |h^H v|^2 for h at offset `ho` and v at offset `vo`, both of length Nt. */
export function beamGain(hRe: Float64Array, hIm: Float64Array, ho: number, vRe: Float64Array, vIm: Float64Array, vo: number, Nt: number): number {
  // h^H v = sum conj(h_n) v_n
  let re = 0;
  let im = 0;
  for (let n = 0; n < Nt; n++) {
    const a = hRe[ho + n], b = hIm[ho + n], c = vRe[vo + n], d = vIm[vo + n];
    re += a * c + b * d;
    im += a * d - b * c;
  }
  return re * re + im * im;
}

/** Per-pair rates log2(1 + SINR_k) in bit/s/Hz. */
export function rates(sinr: Float64Array): Float64Array {
  const r = new Float64Array(sinr.length);
  for (let k = 0; k < sinr.length; k++) r[k] = Math.log2(1 + sinr[k]);
  return r;
}

export function sumRate(r: Float64Array): number {
  let s = 0;
  for (let k = 0; k < r.length; k++) s += r[k];
  return s;
}

export function weightedSumRate(r: Float64Array, w: Float64Array): number {
  let s = 0;
  for (let k = 0; k < r.length; k++) s += w[k] * r[k];
  return s;
}

export function minRate(r: Float64Array): number {
  let m = Infinity;
  for (let k = 0; k < r.length; k++) m = Math.min(m, r[k]);
  return m;
}

/**
 * A decision: SISO powers p (length K) or MISO beams v (re, im, length K * Nt).
 */
export type Decision = { kind: 'power'; p: Float64Array } | { kind: 'beam'; vRe: Float64Array; vIm: Float64Array };

export interface Evaluation {
  rates: Float64Array;
  sumRate: number;
  weightedSumRate: number;
  minRate: number;
}

/** Evaluate a decision on the true channel of an instance (full knowledge: the coordinator's view). */
export function evaluate(inst: Instance, d: Decision): Evaluation {
  const sinr =
    d.kind === 'power'
      ? sinrFromGains(inst.gain, inst.K, inst.noise, d.p)
      : sinrMiso(inst, d.vRe, d.vIm);
  const r = rates(sinr);
  return { rates: r, sumRate: sumRate(r), weightedSumRate: weightedSumRate(r, inst.weights), minRate: minRate(r) };
}

/** The objective every algorithm in dmpemu maximises: the weighted sum rate (sum rate when w = 1). */
export function objective(inst: Instance, d: Decision): number {
  return evaluate(inst, d).weightedSumRate;
}
