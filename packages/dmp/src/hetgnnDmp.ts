import type { LocalView } from '@dmpemu/wireless';
import type { Checkpoint, HetgnnArchitecture } from './checkpoint.ts';
import type { DmpAlgorithm } from './contract.ts';
import { addRowsTimes, DenseLayers } from './denseLayers.ts';
import { checkWeightShapes, denseWeightShapes } from './mlpInference.ts';
import { scaleGain } from './wcgcnDmp.ts';

/** Node types of a HetGNN layer's weights, user then AP. */
const SIDES = ['ue', 'ap'] as const;

/**
 * Names and shapes of a HetGNN's weights (kernels [in, out], y = x W + b), per layer t and side
 * s (`ue`: W_1, w_2, W_5 of eq. 13; `ap`: W_3, w_4, W_6):
 * - `layer.<t>.<s>.edge.kernel` [1, H] (w_2 / w_4 on the scaled v_mk), `layer.<t>.<s>.bias` [H];
 * - from layer 1 on (d^(0) is empty): `layer.<t>.<s>.neighbour.kernel` [H, H] (W_1 / W_3, on the
 *   other side's d^(t-1)) and `layer.<t>.<s>.self.kernel` [H, H] (W_5 / W_6);
 * - `head.<l>.kernel`, `head.<l>.bias`: the users' output MLP H -> head... -> 1, then the sigmoid.
 */
export function hetgnnWeightShapes(a: HetgnnArchitecture): Record<string, number[]> {
  const H = a.hidden;
  const shapes: Record<string, number[]> = {};
  for (let t = 0; t < a.layers; t++)
    for (const s of SIDES) {
      shapes[`layer.${t}.${s}.edge.kernel`] = [1, H];
      shapes[`layer.${t}.${s}.bias`] = [H];
      if (t > 0) {
        shapes[`layer.${t}.${s}.neighbour.kernel`] = [H, H];
        shapes[`layer.${t}.${s}.self.kernel`] = [H, H];
      }
    }
  return denseWeightShapes([H, ...a.head, 1], 'head', shapes);
}

export function validateHetgnn(c: Checkpoint<HetgnnArchitecture>): void {
  checkWeightShapes('hetgnn checkpoint', c.weights, hetgnnWeightShapes(c.architecture));
}

export interface HetgnnState {
  view: LocalView;
  /** d^(t) of this node (empty before the first layer). */
  d: Float64Array;
}

/**
 * HetGNN (eq. 13 of gnn-wireless-theory-to-practice-dmp.md) as a DMP over APs and users: T
 * layers = T rounds; in round t every node broadcasts d^(t) and aggregates the other type's:
 *   user k: d_k = ReLU(W_5 d_k + A_m (W_1 d_m + w_2 v_mk) + b)
 *   AP m:   d_m = ReLU(W_6 d_m + A_k (W_3 d_k + w_4 v_mk) + b)       (13; A: PL = SUM, or the mean)
 *   p_k = sigmoid(MLP(d_k^(T))); v_mk scaled as features.cross, from the views' sqrt(v_mk).
 */
export function hetgnnDmp(c: Checkpoint<HetgnnArchitecture>): DmpAlgorithm<HetgnnState> {
  validateHetgnn(c);
  const a = c.architecture, H = a.hidden, f = a.features;
  const w = (name: string): Float64Array => Float64Array.from(c.weights[name].data);
  const layers = Array.from({ length: a.layers }, (_, t) =>
    Object.fromEntries(SIDES.map((s) => [s, { edge: w(`layer.${t}.${s}.edge.kernel`), b: w(`layer.${t}.${s}.bias`), neighbour: t > 0 ? w(`layer.${t}.${s}.neighbour.kernel`) : undefined, self: t > 0 ? w(`layer.${t}.${s}.self.kernel`) : undefined }])) as Record<(typeof SIDES)[number], { edge: Float64Array; b: Float64Array; neighbour?: Float64Array; self?: Float64Array }>,
  );
  const head = new DenseLayers([H, ...a.head, 1], c.weights, 'head', false);
  const y = new Float64Array(1);
  const side = (view: LocalView): 'ue' | 'ap' => (view.type === 'ap' ? 'ap' : 'ue');
  return {
    name: 'hetgnn',
    rounds: a.layers,
    period: 1,
    types: ['ap', 'ue'],
    init: (view) => ({ view, d: new Float64Array(0) }),
    broadcastSize: (t) => (t === 0 ? 0 : H),
    messageSize: () => H,
    aggregation: () => a.aggregation,
    listens: (view, t, i) => view.neighbourTypes![i] !== view.type,
    broadcast(s, _t, out) {
      out.set(s.d);
    },
    message(s, t, i, b, out) {
      const L = layers[t][side(s.view)];
      const x = scaleGain(s.view.gIn[i], 'cross', f);
      for (let h = 0; h < H; h++) out[h] = L.edge[h] * x;
      if (t > 0) addRowsTimes(b, L.neighbour!, H, H, out);
    },
    update(s, t, agg) {
      const L = layers[t][side(s.view)];
      const next = Float64Array.from(agg, (v, h) => v + L.b[h]);
      if (t > 0) addRowsTimes(s.d, L.self!, H, H, next);
      for (let h = 0; h < H; h++) if (next[h] < 0) next[h] = 0;
      s.d = next;
    },
    output(s) {
      if (s.view.type !== 'ue') return new Float64Array(0);
      head.forward(s.d, y);
      return Float64Array.of(s.view.pmax / (1 + Math.exp(-y[0])));
    },
  };
}
