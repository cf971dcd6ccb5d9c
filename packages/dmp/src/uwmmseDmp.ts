import type { LocalView } from '@dmpemu/wireless';
import type { Checkpoint, UwmmseArchitecture } from './checkpoint.ts';
import type { DmpAlgorithm } from './contract.ts';
import { checkWeightShapes } from './mlpInference.ts';
import { scaleGain } from './wcgcnDmp.ts';

/*
 * Symbols of the UWMMSE paper (Chowdhury et al., IEEE TWC 2021, eq. 7) and dmpemu's: the paper's
 * h_ii is g_kk, its h_ij the amplitude between pair i's transmitter and pair j's receiver (dmpemu's
 * gain[i K + j], transmitter i to receiver j), its alpha_i the rate weight w_k of the local view,
 * its w_i the MSE weight (here `w`), u_i and v_i as in WMMSE, a_i and b_i the learned coefficients
 * of w_i. The authors' code also learns a mu^(l) added to the v-update's denominator (initialised
 * at 0); the paper does not describe it, and unconstrained it flips that denominator's sign once
 * the learned w are small (one Adam step at lr 1e-3 drove mu^(4) to -0.001 and every power to 0 on
 * D2D networks at 40 dBm), so it is left out: the v-update is then invariant to a common scale of
 * the w. The GCN Psi's shift S is
 * agent k's row of outgoing edges, [S Z]_k = S_kk Z_k + sum_{j in N(k)} S_kj Z_j (the authors' code
 * multiplies by H itself, diagonal included, plus diag(H) through Theta_0).
 */

/** The two Psi of each unrolled iteration: `a` and `b`. */
export const UWMMSE_PSI = ['a', 'b'] as const;

/** Rounds of a UWMMSE: 2 per unrolled iteration (the u-step needs the neighbours' v_j, the v-step their u_j^2 w_j). */
export function uwmmseRounds(a: Pick<UwmmseArchitecture, 'layers'>): number {
  return 2 * a.layers;
}

/** S_kj (or S_kk) from amplitude g for noise sigma^2 and power Pmax: scaleGain(g sqrt(Pmax / sigma^2)). */
export function uwmmseShiftEntry(g: number, noise: number, pmax: number, kind: 'direct' | 'cross', a: Pick<UwmmseArchitecture, 'features'>): number {
  return scaleGain(g * Math.sqrt(pmax / noise), kind, a.features);
}

/**
 * Names and shapes of a UWMMSE's weights, per unrolled iteration l and Psi p in {a, b}, F the
 * GCN's hidden width: `layer.<l>.<p>.0.diag` [1, F] and `.0.shift` [1, F] (Theta_0, Theta_1 of
 * Psi's first layer on Z = 1), `.0.bias` [F]; `.1.diag` [F, 1], `.1.shift` [F, 1], `.1.bias` [1].
 */
export function uwmmseWeightShapes(a: UwmmseArchitecture): Record<string, number[]> {
  const F = a.gcnHidden;
  const shapes: Record<string, number[]> = {};
  for (let l = 0; l < a.layers; l++) {
    for (const p of UWMMSE_PSI) {
      shapes[`layer.${l}.${p}.0.diag`] = [1, F];
      shapes[`layer.${l}.${p}.0.shift`] = [1, F];
      shapes[`layer.${l}.${p}.0.bias`] = [F];
      shapes[`layer.${l}.${p}.1.diag`] = [F, 1];
      shapes[`layer.${l}.${p}.1.shift`] = [F, 1];
      shapes[`layer.${l}.${p}.1.bias`] = [1];
    }
  }
  return shapes;
}

/** Throws unless the weights have exactly the shapes of the architecture. */
export function validateUwmmse(c: Checkpoint<UwmmseArchitecture>): void {
  checkWeightShapes('uwmmse checkpoint', c.weights, uwmmseWeightShapes(c.architecture));
}

export interface UwmmseState {
  view: LocalView;
  /** S_kk and S_kj per neighbour slot (outgoing). */
  sSelf: number;
  sOut: Float64Array;
  /** g_jk^2 (incoming) and g_kj^2 (outgoing) per neighbour slot. */
  gIn2: Float64Array;
  gOut2: Float64Array;
  /** Psi's first layer at node k for every (l, p), F values each: local, since Z = 1. */
  z1: Float64Array;
  /** a_k^(l), b_k^(l), known after round 0 (1 and 0 before: an agent restarted after round 0 runs plain WMMSE iterations). */
  a: Float64Array;
  b: Float64Array;
  v: number;
  u: number;
  /** The MSE weight w_k of the current iteration (after a and b). */
  w: number;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * UWMMSE power control as a DMP algorithm. Round 2l (the u-step of iteration l) carries v_j^2,
 * and in round 0 also Psi's first layer Z1_j of every (l, p) (the GCNs see only the channel, so all
 * their hops ride on round 0); round 2l + 1 (the v-step) carries u_j^2 w_j. Agent k:
 *   u_k = g_kk v_k / (sigma^2 + sum_j g_jk^2 v_j^2)                                   (u-step)
 *   w_k = a_k^(l) alpha_k / (1 - u_k g_kk v_k) + b_k^(l)                               (the learned weight)
 *   v_k = [g_kk u_k w_k / sum_j g_kj^2 u_j^2 w_j]_0^sqrt(Pmax)                         (v-step)
 * from v_k = sqrt(Pmax), sums over k itself and N(k); 1 - u g v is computed as
 * (sigma^2 + interference) / (received power), its exact equal without the cancellation at high
 * SNR. Output p_k = v_k^2 (full power until the first v-step). `c` must be verified
 * (createAlgorithm does); its shapes are checked here.
 */
export function uwmmseDmp(c: Checkpoint<UwmmseArchitecture>, rounds = uwmmseRounds(c.architecture)): DmpAlgorithm<UwmmseState> {
  validateUwmmse(c);
  const a = c.architecture;
  const L = a.layers, F = a.gcnHidden, G = 2 * L; // G graph convolutions, (l, p) at index 2 l + p
  if (rounds !== uwmmseRounds(a)) throw new Error(`uwmmse: rounds must equal 2 x the checkpoint's layers = ${uwmmseRounds(a)} (2 rounds per unrolled iteration), got ${rounds}`);
  const w = (name: string): Float64Array => Float64Array.from(c.weights[name].data);
  const psi = Array.from({ length: G }, (_, g) => {
    const name = `layer.${g >> 1}.${UWMMSE_PSI[g & 1]}`;
    return { d0: w(`${name}.0.diag`), s0: w(`${name}.0.shift`), b0: w(`${name}.0.bias`), d1: w(`${name}.1.diag`), s1: w(`${name}.1.shift`), b1: w(`${name}.1.bias`)[0] };
  });
  const checkRound = (t: number): void => {
    if (!(Number.isInteger(t) && t >= 0 && t < rounds)) throw new Error(`uwmmse: round ${t} is past the last (${rounds} rounds)`);
  };
  const size = (t: number): number => (checkRound(t), t === 0 ? 1 + G * F : 1);
  return {
    name: 'uwmmse',
    rounds,
    period: 2,
    init(view) {
      const sSelf = uwmmseShiftEntry(view.direct, view.noise, view.pmax, 'direct', a);
      const sOut = Float64Array.from(view.gOut, (g) => uwmmseShiftEntry(g, view.noise, view.pmax, 'cross', a));
      const rowSum = sOut.reduce((s, x) => s + x, sSelf); // [S 1]_k
      const z1 = new Float64Array(G * F);
      psi.forEach((q, g) => {
        for (let f = 0; f < F; f++) z1[g * F + f] = Math.max(sSelf * q.d0[f] + rowSum * q.s0[f] + q.b0[f], 0);
      });
      const sq = (x: Float64Array): Float64Array => x.map((g) => g * g);
      return { view, sSelf, sOut, gIn2: sq(view.gIn), gOut2: sq(view.gOut), z1, a: new Float64Array(L).fill(1), b: new Float64Array(L), v: Math.sqrt(view.pmax), u: 0, w: 0 };
    },
    broadcastSize: size,
    messageSize: size,
    aggregation: () => 'sum',
    broadcast(s, t, out) {
      out[0] = t % 2 === 0 ? s.v * s.v : s.u * s.u * s.w;
      if (t === 0) out.set(s.z1, 1);
    },
    message(s, t, i, bj, out) {
      // even: the power j's transmitter puts at k's receiver, g_jk^2 v_j^2; odd: g_kj^2 u_j^2 w_j
      out[0] = (t % 2 === 0 ? s.gIn2[i] : s.gOut2[i]) * bj[0];
      if (t === 0) for (let e = 1; e < out.length; e++) out[e] = s.sOut[i] * bj[e]; // S_kj Z1_j
    },
    update(s, t, y) {
      checkRound(t);
      const { weight: alpha, noise, pmax, direct: g } = s.view;
      const l = t >> 1;
      if (t === 0)
        psi.forEach((q, n) => {
          let z = q.b1;
          for (let f = 0; f < F; f++) {
            const self = s.sSelf * s.z1[n * F + f];
            z += self * q.d1[f] + (self + y[1 + n * F + f]) * q.s1[f];
          }
          (n & 1 ? s.b : s.a)[n >> 1] = sigmoid(z);
        });
      if (t % 2 === 0) {
        const quiet = noise + y[0]; // sigma^2 + interference
        const received = quiet + g * g * s.v * s.v;
        s.u = (g * s.v) / received;
        s.w = (s.a[l] * alpha * received) / quiet + s.b[l]; // alpha / (1 - u g v), through a and b
      } else {
        const c = s.u * s.u * s.w;
        const v = (g * s.u * s.w) / (y[0] + g * g * c);
        s.v = Math.min(Math.max(v, 0), Math.sqrt(pmax));
      }
    },
    output: (s) => Float64Array.of(s.v * s.v),
  };
}
