import type { LocalView } from '@dmpemu/wireless';
import { MAX_LAYERS, type Checkpoint, type RegnnArchitecture } from './checkpoint.ts';
import type { DmpAlgorithm } from './contract.ts';
import { checkWeightShapes } from './mlpInference.ts';
import { scaleGain } from './wcgcnDmp.ts';

/*
 * Conventions (regnn-primal-dual.md, Section II and Remark 1): [H]_ij = h_ij is the channel from
 * transmitter i to receiver r(j), so the graph filter's shift [H z]_k = sum_j h_kj z_j weighs what
 * pair k's transmitter does to pair j's receiver; dmpemu's gain[i K + j] is that amplitude, so H is
 * gain row-major (`shift: 'outgoing'`); the authors' code shifts by the transpose (the gains into
 * k's receiver, `incoming`). The paper's eq. 6 uses power gains, and its text gives no
 * normalisation; the authors' code divides each sample of H by its spectral norm, a property of
 * the whole network that no agent can compute from its local view. Here every entry is scaled on
 * its own: H_kj = scaleGain(g_kj sqrt(p0 / sigma^2)) with the checkpoint's constants (log1p: the
 * SNR or INR at power p0 in log10(1 + .), divided by a constant fitted at training), so agent k
 * builds row k of H from its direct gain and its neighbours' gains alone. The input signal is
 * x = 1: problem (49) has no node state.
 */

/** H_kj from amplitude g (direct: the self loop h_kk) for noise sigma^2: scaleGain(g sqrt(p0 / sigma^2)). */
export function regnnShiftEntry(g: number, noise: number, kind: 'direct' | 'cross', a: Pick<RegnnArchitecture, 'p0' | 'features'>): number {
  return scaleGain(g * Math.sqrt(a.p0 / noise), kind, a.features);
}

/** Rounds of a REGNN: one shift of H per round, K_l - 1 per layer. */
export function regnnRounds(a: Pick<RegnnArchitecture, 'taps'>): number {
  return a.taps.reduce((s, K) => s + K - 1, 0);
}

/** F_{l-1}: the input width of layer l (x = 1 has one feature). */
export function regnnInputWidth(a: Pick<RegnnArchitecture, 'widths'>, l: number): number {
  return l === 0 ? 1 : a.widths[l - 1];
}

/**
 * Names and shapes of a REGNN's weights, per layer l: `layer.<l>.taps` [K_l F_{l-1}, F_l], row
 * k F_{l-1} + f, column g holding alpha_lk^fg of eq. 13; `layer.<l>.bias` [F_l] (added before the
 * nonlinearity, as the authors' code does; eq. 14 has none).
 */
export function regnnWeightShapes(a: RegnnArchitecture): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  for (let l = 0; l < a.layers; l++) {
    shapes[`layer.${l}.taps`] = [a.taps[l] * regnnInputWidth(a, l), a.widths[l]];
    shapes[`layer.${l}.bias`] = [a.widths[l]];
  }
  return shapes;
}

/** Throws unless the REGNN runs at least one round; `what` starts the error. */
export function validateRegnnArchitecture(a: RegnnArchitecture, what = 'regnn checkpoint'): void {
  if (regnnRounds(a) < 1) throw new Error(`${what}: architecture.taps must include a filter of length >= 2 (taps ${JSON.stringify(a.taps)} run no rounds)`);
  if (regnnRounds(a) > MAX_LAYERS) throw new Error(`${what}: architecture.taps run sum_l (K_l - 1) = ${regnnRounds(a)} rounds, at most ${MAX_LAYERS} (as a checkpoint's layers)`);
}

/** Throws unless the REGNN runs at least one round and the weights have exactly the shapes of the architecture. */
export function validateRegnn(c: Checkpoint<RegnnArchitecture>): void {
  const a = c.architecture;
  validateRegnnArchitecture(a);
  checkWeightShapes('regnn checkpoint', c.weights, regnnWeightShapes(a));
}

export interface RegnnState {
  view: LocalView;
  /** h_kk and, per neighbour slot, h_kj (outgoing) or h_jk (incoming): agent k's row of H. */
  self: number;
  edges: Float64Array;
  /** Layer l in progress and the power k of H its signal `s` has reached. */
  layer: number;
  k: number;
  /** s = [H^k z_{l-1}]_k, F_{l-1} values. */
  s: Float64Array;
  /** y = sum_{k' <= k} alpha_lk'^T [H^k' z_{l-1}]_k, F_l values; after the last layer, the logit. */
  y: Float64Array;
}

/**
 * The REGNN of eqs. 12-14 as a DMP algorithm: layer l's filter sum_k alpha_lk H^k z_{l-1} takes
 * K_l - 1 rounds, round k broadcasting [H^(k-1) z_{l-1}]_k; the message from neighbour j is
 * h_kj b_j and the sum aggregate plus the self loop h_kk s_k is [H^k z_{l-1}]_k, which the agent
 * adds to y_l through alpha_lk. A finished layer gives z_l = ReLU(y_l + b_l) (the last one the logit
 * y_L + b_L, pi_k = sigmoid). Output [p_k]: p0 when pi_k > 1/2 (`threshold`) or pi_k p0 (`expected`);
 * 0 (silent) until the last round has given the logit.
 * Every round means something else, so `last` reuses the latest broadcast (period 1, like the
 * other GNNs). `c` must be verified (createAlgorithm does); its shapes are checked here.
 */
export function regnnDmp(c: Checkpoint<RegnnArchitecture>, rounds = regnnRounds(c.architecture)): DmpAlgorithm<RegnnState> {
  validateRegnn(c);
  const a = c.architecture;
  if (rounds !== regnnRounds(a)) throw new Error(`regnn: rounds must equal the checkpoint's sum of (K_l - 1) = ${regnnRounds(a)} (one per shift of H), got ${rounds}`);
  const taps = Array.from({ length: a.layers }, (_, l) => Float64Array.from(c.weights[`layer.${l}.taps`].data));
  const bias = Array.from({ length: a.layers }, (_, l) => Float64Array.from(c.weights[`layer.${l}.bias`].data));
  /** y += alpha_lk^T s. */
  const accumulate = (st: RegnnState): void => {
    const fin = st.s.length, F = st.y.length, W = taps[st.layer];
    for (let f = 0; f < fin; f++) for (let g = 0; g < F; g++) st.y[g] += st.s[f] * W[(st.k * fin + f) * F + g];
  };
  /** Start layer l on z (k = 0: s = z, y = alpha_l0^T z), finishing every layer that has a single tap. */
  const start = (st: RegnnState, l: number, z: Float64Array): void => {
    for (;;) {
      Object.assign(st, { layer: l, k: 0, s: z, y: new Float64Array(a.widths[l]) });
      accumulate(st);
      if (a.taps[l] > 1 || l + 1 === a.layers) return;
      z = st.y.map((v, g) => Math.max(v + bias[l][g], 0));
      l++;
    }
  };
  const broadcastSize = (t: number): number => {
    let left = t;
    for (let l = 0; l < a.layers; l++) {
      if (left < a.taps[l] - 1) return regnnInputWidth(a, l);
      left -= a.taps[l] - 1;
    }
    throw new Error(`regnn: round ${t} is past the last (${rounds} rounds)`);
  };
  return {
    name: 'regnn',
    powerLimit: a.p0,
    rounds,
    period: 1,
    init(view) {
      const out = a.shift === 'outgoing' ? view.gOut : view.gIn;
      const st = {
        view,
        self: regnnShiftEntry(view.direct, view.noise, 'direct', a),
        edges: Float64Array.from(out, (g) => regnnShiftEntry(g, view.noise, 'cross', a)),
      } as RegnnState;
      start(st, 0, Float64Array.of(1));
      return st;
    },
    broadcastSize,
    messageSize: broadcastSize,
    aggregation: () => 'sum',
    broadcast(st, _t, out) {
      out.set(st.s);
    },
    message(st, _t, i, b, out) {
      const h = st.edges[i];
      for (let f = 0; f < b.length; f++) out[f] = h * b[f];
    },
    update(st, t, agg) {
      if (agg.length !== st.s.length) throw new Error(`regnn: round ${t} aggregates ${agg.length} values, layer ${st.layer} shifts ${st.s.length}`);
      st.s = st.s.map((v, f) => st.self * v + agg[f]);
      st.k++;
      accumulate(st);
      const l = st.layer;
      if (st.k + 1 === a.taps[l] && l + 1 < a.layers) start(st, l + 1, st.y.map((v, g) => Math.max(v + bias[l][g], 0)));
    },
    output(st) {
      if (st.layer + 1 !== a.layers || st.k + 1 !== a.taps[st.layer]) return Float64Array.of(0);
      const y = st.y[0] + bias[a.layers - 1][0];
      return Float64Array.of(a.decision === 'threshold' ? (y > 0 ? a.p0 : 0) : a.p0 / (1 + Math.exp(-y)));
    },
  };
}
