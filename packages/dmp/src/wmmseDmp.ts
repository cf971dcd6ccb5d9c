import type { LocalView } from '@dmpemu/wireless';
import type { DmpAlgorithm } from './contract.ts';

/** State of node k: WMMSE variables v_k, u_k, a_k (x_k = [v, u, a] in Proposition 2). */
export interface WmmseState {
  view: LocalView;
  v: number;
  u: number;
  a: number;
  /** Squared edge amplitudes g_jk^2 (incoming) and g_kj^2 (outgoing) per neighbour slot. */
  gIn2: Float64Array;
  gOut2: Float64Array;
  /** CSI measured in the middle of an iteration (an odd round), taken up at the next one. */
  pending?: LocalView;
}

/**
 * WMMSE power control as a DMP algorithm (Proposition 2 of gnn-wireless-theory-to-practice-dmp.md):
 * T iterations = 2T rounds. Even rounds carry v_j^2 and update u_k, a_k (16b, 16c) from the received
 * power; odd rounds carry c_j = w_j a_j u_j^2 and update v_k (16a). Round 0 computes u, a from
 * v = sqrt(Pmax); the last round updates v, so the output p_k = v_k^2 after 2T rounds equals the
 * centralized WMMSE after T iterations.
 * With a partial local view (CSI range, missing CSI) node k sums only over the neighbours it knows:
 * interference from pairs outside N(k) is treated as absent, and so is the interference k causes
 * to them. That is the genuinely local algorithm; the true objective still counts all of it.
 */
export function wmmseDmp(iterations: number): DmpAlgorithm<WmmseState> {
  if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`wmmse-dmp: iterations must be a positive integer, got ${iterations}`);
  const sq = (a: Float64Array): Float64Array => a.map((x) => x * x);
  const take = (s: WmmseState, view: LocalView): void => {
    s.pending = undefined;
    s.view = view;
    s.gIn2 = sq(view.gIn);
    s.gOut2 = sq(view.gOut);
  };
  return {
    name: 'wmmse-dmp',
    rounds: 2 * iterations,
    period: 2,
    init(view) {
      return { view, v: Math.sqrt(view.pmax), u: 0, a: 0, gIn2: sq(view.gIn), gOut2: sq(view.gOut) };
    },
    // new CSI: the iterations go on from the current v, u, a (warm start); an iteration (16b-16c
    // then 16a) runs on one channel, so CSI measured at an odd round waits for the next even one
    refresh(s, t, view) {
      if (t % 2 === 1) s.pending = view;
      else take(s, view);
    },
    broadcastSize: () => 1,
    messageSize: () => 1,
    aggregation: () => 'sum',
    broadcast(s, t, out) {
      if (t % 2 === 0 && s.pending) take(s, s.pending);
      out[0] = t % 2 === 0 ? s.v * s.v : s.view.weight * s.a * s.u * s.u;
    },
    message(s, t, i, b, out) {
      // even: received power g_jk^2 v_j^2; odd: k's interference at j weighted, c_j g_kj^2
      out[0] = (t % 2 === 0 ? s.gIn2[i] : s.gOut2[i]) * b[0];
    },
    update(s, t, y) {
      const { weight: w, noise, pmax, direct: gkk } = s.view;
      if (t % 2 === 0) {
        const received = y[0] + gkk * gkk * s.v * s.v + noise;
        s.u = (gkk * s.v) / received; // (16b)
        s.a = 1 / (1 - s.u * gkk * s.v); // (16c)
      } else {
        const c = w * s.a * s.u * s.u;
        const denom = y[0] + c * gkk * gkk;
        const v = denom > 0 ? (w * s.a * s.u * gkk) / denom : 0; // (16a); 0 / 0 (weight 0, no weighted neighbour) as centralized: 0
        s.v = Math.min(Math.max(v, 0), Math.sqrt(pmax));
      }
    },
    output: (s) => Float64Array.of(s.v * s.v),
  };
}
