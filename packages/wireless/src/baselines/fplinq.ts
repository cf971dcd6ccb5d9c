import { squaredGains, type Instance } from '../instance.ts';
import { sinrSiso } from '../objectives.ts';

/**
 * FPLinQ power control (Shen & Yu, fractional programming with the Lagrangian dual and quadratic
 * transforms) for the weighted sum rate, power gains G_ij = g_ij^2 (transmitter i to receiver j):
 *   gamma_k = SINR_k(p)
 *   y_k = sqrt(w_k (1 + gamma_k) G_kk p_k) / (sum_j G_jk p_j + sigma^2)
 *   p_k = min(Pmax, w_k (1 + gamma_k) y_k^2 G_kk / (sum_j y_j^2 G_kj)^2)
 * from p = p0 (default Pmax). Each iteration does not decrease the objective.
 */
export function fplinqPower(inst: Instance, o: { iterations: number; p0?: Float64Array; onIteration?: (t: number, p: Float64Array) => void }): Float64Array {
  const { K, noise, pmax, weights: w } = inst;
  const G = squaredGains(inst);
  const p = o.p0 ? Float64Array.from(o.p0) : new Float64Array(K).fill(pmax);
  const gamma = new Float64Array(K);
  const y = new Float64Array(K);
  for (let t = 1; t <= o.iterations; t++) {
    sinrSiso(G, K, noise, p, gamma);
    for (let k = 0; k < K; k++) {
      let received = noise;
      for (let j = 0; j < K; j++) received += G[j * K + k] * p[j];
      y[k] = Math.sqrt(w[k] * (1 + gamma[k]) * G[k * K + k] * p[k]) / received;
    }
    for (let k = 0; k < K; k++) {
      let denom = 0;
      for (let j = 0; j < K; j++) denom += y[j] * y[j] * G[k * K + j];
      const pk = (w[k] * (1 + gamma[k]) * y[k] * y[k] * G[k * K + k]) / (denom * denom);
      p[k] = Number.isFinite(pk) ? Math.min(pmax, pk) : 0;
    }
    o.onIteration?.(t, p);
  }
  return p;
}
