import type { LocalView } from '@dmpemu/wireless';
import type { CfPcgnnArchitecture, Checkpoint } from './checkpoint.ts';
import type { DmpAlgorithm } from './contract.ts';
import { addRowsTimes, DenseLayers } from './denseLayers.ts';
import { checkWeightShapes, denseWeightShapes } from './mlpInference.ts';
import { scaleGain } from './wcgcnDmp.ts';

/** Widths of CF-PCGNN's output MLP, input first: H, the head's hidden widths, 1. */
export function cfPcgnnHeadWidths(a: CfPcgnnArchitecture): number[] {
  return [a.hidden, ...a.head, 1];
}

/**
 * Names and shapes of a CF-PCGNN's weights (kernels [in, out], y = x W + b):
 * - `ap.kernel` [1, H], `ap.bias` [H]: w_1 of eq. 22 on the scaled u_mk;
 * - per user-to-user layer t = 1..T-1: `layer.<t>.neighbour.kernel` [H, H] (W_1^(t) of eq. 23),
 *   `layer.<t>.self.kernel` [H, H] (W_2^(t)), `layer.<t>.bias` [H];
 * - `head.<l>.kernel`, `head.<l>.bias`: the output MLP H -> head... -> 1, then the sigmoid.
 */
export function cfPcgnnWeightShapes(a: CfPcgnnArchitecture): Record<string, number[]> {
  const H = a.hidden;
  const shapes: Record<string, number[]> = { 'ap.kernel': [1, H], 'ap.bias': [H] };
  for (let t = 1; t < a.layers; t++) {
    shapes[`layer.${t}.neighbour.kernel`] = [H, H];
    shapes[`layer.${t}.self.kernel`] = [H, H];
    shapes[`layer.${t}.bias`] = [H];
  }
  return denseWeightShapes(cfPcgnnHeadWidths(a), 'head', shapes);
}

export function validateCfPcgnn(c: Checkpoint<CfPcgnnArchitecture>): void {
  checkWeightShapes('cf-pcgnn checkpoint', c.weights, cfPcgnnWeightShapes(c.architecture));
}

export interface CfPcgnnState {
  view: LocalView;
  /** A user's hidden state d_k^(t) (an AP has none). */
  d: Float64Array;
}

/**
 * CF-PCGNN (eqs. 22-23 of gnn-wireless-theory-to-practice-dmp.md) as a DMP over the node types of a
 * cell-free network (@dmpemu/wireless cellFreeViews): T layers = T rounds.
 *   round 0, APs -> users: d_k^(1) = 1/M sum_m ReLU(w_1 v_mk + b)  (v_mk scaled)         (22)
 *   round t >= 1, users -> users: d_k^(t+1) = ReLU(W_2 d_k + A_{k'} W_1 d_k' + b), A the mean
 *   (or the sum) over every user, k included (the paper's sum runs over all of them)      (23)
 *   p_k = sigmoid(MLP(d_k^(T)))
 * A user knows v_mk of every AP (its view's edge features), so in round 0 an AP broadcasts an empty
 * message and the user applies w_1 itself; APs listen to nothing and output nothing.
 */
export function cfPcgnnDmp(c: Checkpoint<CfPcgnnArchitecture>): DmpAlgorithm<CfPcgnnState> {
  validateCfPcgnn(c);
  const a = c.architecture;
  const H = a.hidden;
  const f = a.features;
  const w = (name: string): Float64Array => Float64Array.from(c.weights[name].data);
  const w1 = w('ap.kernel'), b1 = w('ap.bias');
  const layers = Array.from({ length: a.layers }, (_, t) => (t === 0 ? undefined : { W1: w(`layer.${t}.neighbour.kernel`), W2: w(`layer.${t}.self.kernel`), b: w(`layer.${t}.bias`) }));
  const head = new DenseLayers(cfPcgnnHeadWidths(a), c.weights, 'head', false);
  const y = new Float64Array(1);
  /** out = x W (W [H, H]). */
  const times = (x: Float64Array, W: Float64Array, out: Float64Array): void => {
    out.fill(0);
    addRowsTimes(x, W, H, H, out);
  };
  const tmp = new Float64Array(H);
  return {
    name: 'cf-pcgnn',
    rounds: a.layers,
    period: 1,
    types: ['ap', 'ue'],
    init: (view) => ({ view, d: new Float64Array(view.type === 'ue' ? H : 0) }),
    broadcastSize: (t, type) => (type === 'ue' && t >= 1 ? H : 0),
    messageSize: (_t, type) => (type === 'ue' ? H : 0),
    // users: the sum of the others' messages, and update adds its own and divides (mean over every user)
    aggregation: (t) => (t === 0 ? 'mean' : 'sum'),
    listens: (view, t, i) => view.type === 'ue' && view.neighbourTypes![i] === (t === 0 ? 'ap' : 'ue'),
    broadcast(s, _t, out) {
      if (out.length) out.set(s.d);
    },
    message(s, t, i, b, out) {
      if (t === 0) {
        const x = scaleGain(s.view.gIn[i], 'cross', f);
        for (let h = 0; h < H; h++) out[h] = Math.max(0, w1[h] * x + b1[h]);
      } else times(b, layers[t]!.W1, out);
    },
    update(s, t, agg, received) {
      if (s.view.type !== 'ue') return;
      if (t === 0) return void s.d.set(agg);
      const L = layers[t]!;
      const next = new Float64Array(H);
      times(s.d, L.W2, next);
      times(s.d, L.W1, tmp); // the user's own term of the sum over all users
      const n = a.aggregation === 'mean' ? received + 1 : 1;
      for (let h = 0; h < H; h++) next[h] = Math.max(0, next[h] + (tmp[h] + agg[h]) / n + L.b[h]);
      s.d = next;
    },
    output(s) {
      if (s.view.type !== 'ue') return new Float64Array(0);
      head.forward(s.d, y);
      return Float64Array.of(s.view.pmax / (1 + Math.exp(-y[0])));
    },
  };
}
