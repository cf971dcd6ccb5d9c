/**
 * FPLinQ power control (Shen and Yu, "FPLinQ: a cooperative spectrum sharing strategy for
 * device-to-device communications", fractional programming with the quadratic transform) as a
 * distributed message passing algorithm, written only against dmpemu's DMP contract (README,
 * "Write your own algorithm"): no imports, the types it needs written out below.
 *
 * With power gains G_ij = g_ij^2 (transmitter i to receiver j), one iteration is two rounds:
 *   even round: broadcast p_j; agent k sums I_k = sum_{j in N(k)} G_jk p_j and sets
 *               gamma_k = G_kk p_k / (I_k + sigma^2),  y_k = sqrt(w_k (1 + gamma_k) G_kk p_k) / (I_k + G_kk p_k + sigma^2)
 *   odd round:  broadcast y_j^2; agent k sums D_k = sum_{j in N(k)} G_kj y_j^2 and sets
 *               p_k = min(Pmax, w_k (1 + gamma_k) y_k^2 G_kk / (D_k + G_kk y_k^2)^2)
 * from p = Pmax. With full CSI, 2T rounds give centralized FPLinQ after T iterations.
 * Parameters: `iterations` (default 50).
 */

/** What agent k knows (dmpemu's LocalView): its own features and, per neighbour slot i, g_jk (gIn) and g_kj (gOut). */
interface LocalView {
  k: number;
  weight: number;
  noise: number;
  pmax: number;
  direct: number;
  neighbours: Int32Array;
  gIn: Float64Array;
  gOut: Float64Array;
}

interface State {
  view: LocalView;
  p: number;
  y: number;
  gamma: number;
  Gin: Float64Array;
  Gout: Float64Array;
}

export default function fplinqDmp(params: Record<string, unknown>) {
  const iterations = params.iterations === undefined ? 50 : Number(params.iterations);
  if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`iterations must be a positive integer, got ${JSON.stringify(params.iterations)}`);
  return {
    name: 'fplinq-dmp',
    rounds: 2 * iterations,
    period: 2,
    init(view: LocalView): State {
      return { view, p: view.pmax, y: 0, gamma: 0, Gin: view.gIn.map((g) => g * g), Gout: view.gOut.map((g) => g * g) };
    },
    broadcastSize: () => 1,
    messageSize: () => 1,
    aggregation: () => 'sum' as const,
    broadcast(s: State, t: number, out: Float64Array): void {
      out[0] = t % 2 === 0 ? s.p : s.y * s.y;
    },
    message(s: State, t: number, i: number, b: Float64Array, out: Float64Array): void {
      out[0] = (t % 2 === 0 ? s.Gin[i] : s.Gout[i]) * b[0];
    },
    update(s: State, t: number, agg: Float64Array): void {
      const { weight: w, noise, pmax } = s.view;
      const Gkk = s.view.direct * s.view.direct;
      if (t % 2 === 0) {
        s.gamma = (Gkk * s.p) / (agg[0] + noise);
        s.y = Math.sqrt(w * (1 + s.gamma) * Gkk * s.p) / (agg[0] + Gkk * s.p + noise);
      } else {
        const denom = agg[0] + Gkk * s.y * s.y;
        const p = (w * (1 + s.gamma) * s.y * s.y * Gkk) / (denom * denom);
        s.p = Number.isFinite(p) ? Math.min(pmax, p) : 0;
      }
    },
    output: (s: State) => Float64Array.of(s.p),
  };
}
