import type { LocalView } from '@dmpemu/wireless';
import type { Checkpoint, FeatureScaling, WcgcnArchitecture } from './checkpoint.ts';
import type { DmpAlgorithm } from './contract.ts';
import { DenseLayers } from './denseLayers.ts';

/** Node state width: x_k = [g_kk, w_k, p_k] (g_kk scaled, p_k as a fraction of Pmax). */
export const WCGCN_NODE_FEATURES = 3;
/** Edge feature width: e_jk = [g_jk, g_kj] (scaled). */
export const WCGCN_EDGE_FEATURES = 2;
/** Amplitudes are floored here before the dB transform (-300 dB), so log10 stays finite. */
const MIN_AMPLITUDE = 1e-15;

/** T(g) of a feature scaling: the amplitude itself, the channel gain 20 log10 g in dB, or log10(1 + g^2). */
export function transformGain(g: number, transform: FeatureScaling['transform']): number {
  if (transform === 'db') return 20 * Math.log10(Math.max(g, MIN_AMPLITUDE));
  return transform === 'log1p' ? Math.log10(1 + g * g) : g;
}

/** The checkpoint's input normalisation of one amplitude (`direct` g_kk or `cross` g_jk, g_kj). */
export function scaleGain(g: number, kind: 'direct' | 'cross', f: FeatureScaling): number {
  return (transformGain(g, f.transform) - f[kind].shift) / f[kind].scale;
}

/**
 * Names and shapes of the weights of a WCGCN: `mlp1.<l>.kernel` [in, out] and `mlp1.<l>.bias`
 * [out] for each dense layer l of MLP1, the same for MLP2. Layers are shared by all T rounds.
 */
export function wcgcnWeightShapes(a: WcgcnArchitecture): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  for (const m of ['mlp1', 'mlp2'] as const) {
    for (let l = 0; l + 1 < a[m].length; l++) {
      shapes[`${m}.${l}.kernel`] = [a[m][l], a[m][l + 1]];
      shapes[`${m}.${l}.bias`] = [a[m][l + 1]];
    }
  }
  return shapes;
}

/**
 * Widths of x_k, e_jk and y_k. Power control: x_k = [g_kk, w_k, p_k], e_jk = [g_jk, g_kj], y_k
 * scalar. Beamforming (section V-C: MLP1 {6 Nt, ...}, MLP2 {... + 4 Nt, ..., 2 Nt}):
 * x_k = [h_kk, v_k], e_jk = h_jk, h_kj or both (`edges`, BeamEdges), y_k = v_k, complex vectors
 * as Nt real parts then Nt imaginary parts.
 */
export function wcgcnWidths(a: Pick<WcgcnArchitecture, 'task' | 'Nt' | 'edges'>): { node: number; edge: number; output: number } {
  if (a.task === 'power') return { node: WCGCN_NODE_FEATURES, edge: WCGCN_EDGE_FEATURES, output: 1 };
  const Nt = a.Nt ?? 1;
  return { node: 4 * Nt, edge: (a.edges === 'both' ? 4 : 2) * Nt, output: 2 * Nt }; // in, out: 2 Nt
}

/** Throws unless the architecture's widths fit eq. 8; `what` starts the error. */
export function validateWcgcnArchitecture(a: WcgcnArchitecture, what = 'wcgcn checkpoint'): void {
  const w = wcgcnWidths(a);
  const ins = w.node + w.edge;
  if (a.mlp1[0] !== ins) throw new Error(`${what}: architecture.mlp1[0] must be ${ins} ([x_j, e_jk]), got ${a.mlp1[0]}`);
  const msg = a.mlp1[a.mlp1.length - 1];
  if (a.mlp2[0] !== w.node + msg) throw new Error(`${what}: architecture.mlp2[0] must be ${w.node + msg} ([x_k, aggregate]), got ${a.mlp2[0]}`);
  if (a.mlp2[a.mlp2.length - 1] !== w.output) throw new Error(`${what}: architecture.mlp2 must end in ${w.output} (y_k), got ${a.mlp2[a.mlp2.length - 1]}`);
}

/** Throws unless the architecture's widths fit eq. 8 and the weights have exactly the expected shapes. */
export function validateWcgcn(c: Checkpoint<WcgcnArchitecture>): void {
  const a = c.architecture;
  validateWcgcnArchitecture(a);
  const shapes = wcgcnWeightShapes(a);
  for (const [name, shape] of Object.entries(shapes)) {
    const w = c.weights[name];
    if (!w) throw new Error(`wcgcn checkpoint: weight ${name} missing (expected shape ${JSON.stringify(shape)})`);
    const n = shape.reduce((x, y) => x * y, 1);
    if (JSON.stringify(w.shape) !== JSON.stringify(shape) || w.data.length !== n) {
      throw new Error(`wcgcn checkpoint: weight ${name} has shape ${JSON.stringify(w.shape)} with ${w.data.length} values, expected ${JSON.stringify(shape)}`);
    }
  }
  for (const name of Object.keys(c.weights)) if (!(name in shapes)) throw new Error(`wcgcn checkpoint: unexpected weight ${name}`);
}


export interface WcgcnState {
  view: LocalView;
  /** x_k = [scaled g_kk, w_k, p_k / Pmax]. */
  x: Float64Array;
  /** Scaled edge features per neighbour slot: g_jk at 2i, g_kj at 2i + 1. */
  edges: Float64Array;
}

/**
 * WCGCN power control as a DMP algorithm, one round per layer, weights shared by the T layers:
 * y_k = MLP2(x_k, MAX_{j in N(k)} MLP1(x_j, e_jk)), x_k = sigma(y_k) (eq. 8 of mpgnn-wcgcn-scalable-rrm.md).
 * Node k broadcasts x_k; its message from slot i is MLP1([x_j, g_jk, g_kj]) with the edge from its
 * local view; the aggregate (max, or sum/mean per the checkpoint; 0 when nothing arrived) and x_k
 * go through MLP2; p_k = sigmoid(y_k) Pmax replaces the third entry of x_k. As in the paper's
 * code, x_k starts with p_k = Pmax and keeps g_kk, w_k. Output [p_k].
 * `c` must be verified (createAlgorithm does); its shapes are checked here.
 */
export function wcgcnDmp(c: Checkpoint<WcgcnArchitecture>, rounds = c.architecture.layers): DmpAlgorithm<WcgcnState> {
  if (c.architecture.task !== 'power') throw new Error(`wcgcn: this checkpoint does ${c.architecture.task}; wcgcnDmp runs power control (use wcgcnBeamDmp)`);
  validateWcgcn(c);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`wcgcn: rounds must be a positive integer, got ${rounds}`);
  const a = c.architecture;
  const mlp1 = new DenseLayers(a.mlp1, c.weights, 'mlp1', a.mlp1Output === 'relu');
  const mlp2 = new DenseLayers(a.mlp2, c.weights, 'mlp2', false);
  const msgSize = a.mlp1[a.mlp1.length - 1];
  const in1 = new Float64Array(a.mlp1[0]);
  const in2 = new Float64Array(a.mlp2[0]);
  const y = new Float64Array(1);
  const f = a.features;
  const edgeFeatures = (view: LocalView): Float64Array => {
    const n = view.neighbours.length;
    const edges = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      edges[2 * i] = scaleGain(view.gIn[i], 'cross', f);
      edges[2 * i + 1] = scaleGain(view.gOut[i], 'cross', f);
    }
    return edges;
  };
  return {
    name: 'wcgcn',
    rounds,
    period: 1,
    init(view) {
      return { view, x: Float64Array.of(scaleGain(view.direct, 'direct', f), view.weight, 1), edges: edgeFeatures(view) };
    },
    // new CSI: the edge features and the direct gain in x change; the power p_k goes on
    refresh(s, _t, view) {
      s.view = view;
      s.edges = edgeFeatures(view);
      s.x[0] = scaleGain(view.direct, 'direct', f);
    },
    broadcastSize: () => WCGCN_NODE_FEATURES,
    messageSize: () => msgSize,
    aggregation: () => a.aggregation,
    broadcast(s, _t, out) {
      out.set(s.x);
    },
    message(s, _t, i, b, out) {
      in1[0] = b[0];
      in1[1] = b[1];
      in1[2] = b[2];
      in1[3] = s.edges[2 * i];
      in1[4] = s.edges[2 * i + 1];
      mlp1.forward(in1, out);
    },
    update(s, _t, agg) {
      in2.set(s.x);
      in2.set(agg, WCGCN_NODE_FEATURES);
      mlp2.forward(in2, y);
      s.x[2] = 1 / (1 + Math.exp(-y[0]));
    },
    output: (s) => Float64Array.of(s.x[2] * s.view.pmax),
  };
}
