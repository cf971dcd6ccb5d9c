import type { Instance } from '../instance.ts';

/** Per-iteration objective callback: iteration t (1-based) and the current powers. */
export type IterationHook = (t: number, p: Float64Array) => void;

export interface WmmseOptions {
  iterations: number;
  /** Initial powers; default p = Pmax for every pair (channel-models.md). */
  p0?: Float64Array;
  onIteration?: IterationHook;
}

/**
 * WMMSE power control for the weighted sum rate (Shi et al. 2011; eq. 16 of
 * gnn-wireless-theory-to-practice-dmp.md), with amplitudes g_ij (transmitter i to receiver j):
 *   u_k = g_kk v_k / (sum_j g_jk^2 v_j^2 + sigma^2)                          (16b)
 *   a_k = 1 / (1 - u_k g_kk v_k)                                            (16c)
 *   v_k = [w_k a_k u_k g_kk / sum_j w_j a_j u_j^2 g_kj^2]_0^sqrt(Pmax)     (16a)
 * starting from v_k = sqrt(p0_k) and ending with p_k = v_k^2 (v_k = 0 where (16a) is 0 / 0: a
 * pair of weight 0 whose signal reaches no weighted receiver). Returns the powers.
 * Typed arrays only and no allocation inside the iteration loop.
 */
export function wmmsePower(inst: Instance, o: WmmseOptions): Float64Array {
  const { K, noise, pmax, weights: w } = inst;
  const g = inst.gain;
  const v = new Float64Array(K);
  const u = new Float64Array(K);
  const a = new Float64Array(K);
  const c = new Float64Array(K); // w_j a_j u_j^2
  const v2 = new Float64Array(K);
  const received = new Float64Array(K);
  const p = new Float64Array(K);
  const vmax = Math.sqrt(pmax);
  for (let k = 0; k < K; k++) v[k] = Math.sqrt(o.p0 ? o.p0[k] : pmax);

  // No K x K copy (g^2 or its transpose): at K = 10^4 each is 800 MB. Received power is summed
  // transmitter by transmitter over contiguous rows, the squares taken on the fly.
  const updateUA = (): void => {
    received.fill(noise);
    for (let j = 0; j < K; j++) {
      const pj = v[j] * v[j];
      v2[j] = pj;
      if (pj === 0) continue;
      const row = j * K;
      for (let k = 0; k < K; k++) received[k] += g[row + k] * g[row + k] * pj;
    }
    for (let k = 0; k < K; k++) {
      const gkk = g[k * K + k];
      u[k] = (gkk * v[k]) / received[k];
      a[k] = 1 / (1 - u[k] * gkk * v[k]);
      c[k] = w[k] * a[k] * u[k] * u[k];
    }
  };

  updateUA();
  for (let t = 1; t <= o.iterations; t++) {
    for (let k = 0; k < K; k++) {
      const denom = squaredDot(g, k * K, c, K);
      // 0 when no weighted receiver hears k (w = 0 there): the numerator is 0 too and any power is as good
      const vk = denom > 0 ? (w[k] * a[k] * u[k] * g[k * K + k]) / denom : 0;
      v[k] = Math.min(Math.max(vk, 0), vmax);
    }
    if (o.onIteration) {
      for (let k = 0; k < K; k++) p[k] = v[k] * v[k];
      o.onIteration(t, p);
    }
    if (t < o.iterations) updateUA();
  }
  for (let k = 0; k < K; k++) p[k] = v[k] * v[k];
  return p;
}

/** sum_j a[offset + j]^2 * b[j] with four accumulators (breaks the add latency chain: ~2x faster). */
function squaredDot(a: Float64Array, offset: number, b: Float64Array, n: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let j = 0;
  for (; j + 3 < n; j += 4) {
    const o = offset + j;
    s0 += a[o] * a[o] * b[j];
    s1 += a[o + 1] * a[o + 1] * b[j + 1];
    s2 += a[o + 2] * a[o + 2] * b[j + 2];
    s3 += a[o + 3] * a[o + 3] * b[j + 3];
  }
  for (; j < n; j++) s0 += a[offset + j] * a[offset + j] * b[j];
  return s0 + s1 + (s2 + s3);
}
