import type { LocalView } from '@dmpemu/wireless';
import type { Checkpoint, FeatureScaling, PcgnnArchitecture } from './checkpoint.ts';
import type { DmpAlgorithm } from './contract.ts';
import { DenseLayers } from './denseLayers.ts';
import { checkWeightShapes, denseWeightShapes } from './mlpInference.ts';
import { scaleGain } from './wcgcnDmp.ts';

/** Node input of PCGNN's embedding (eq. 20): u_k = [g_kk, w_k] (g_kk scaled), and the transmit power with `powerFeature`. */
export function pcgnnNodeInputs(a: Pick<PcgnnArchitecture, 'powerFeature'>): number {
  return a.powerFeature ? 3 : 2;
}

/** 10 log10(Pmax / sigma^2): the transmit power in dB over the noise (in dBm up to the noise's -102 dBm on d2d networks). */
export function powerDb(pmax: number, noise: number): number {
  return 10 * Math.log10(pmax / noise);
}

/** The power node feature of a PCGNN with `powerFeature`: (powerDb - shift) / scale. */
export function scalePower(pmax: number, noise: number, f: FeatureScaling): number {
  if (!f.power) throw new Error('pcgnn: the checkpoint has powerFeature but no features.power');
  return (powerDb(pmax, noise) - f.power.shift) / f.power.scale;
}
/** Edge input of PCGNN's embedding (eq. 20): [g_jk, g_kj] (scaled). */
export const PCGNN_EDGE_INPUTS = 2;

/** Widths of PCGNN's output MLP, input first: H, the head's hidden widths, 1. */
export function pcgnnHeadWidths(a: PcgnnArchitecture): number[] {
  return [a.hidden, ...a.head, 1];
}

/**
 * Names and shapes of a PCGNN's weights (kernels [in, out], y = x W + b):
 * - `embed.node.kernel` [2, H] ([3, H] with powerFeature), `embed.node.bias` [H]: W_1^(0) of eq. 20 on u_k = [g_kk, w_k(, power)];
 * - `embed.edge.kernel` [2, E], `embed.edge.bias` [E]: W_2^(0) of eq. 20 on [g_jk, g_kj];
 * - `edge.kernel` [E, H]: W_2 of eq. 21, shared by the layers;
 * - per layer t: `layer.<t>.self.kernel` [H, H] (W_1^(t)), `layer.<t>.neighbour.kernel` [H, H]
 *   (W_3^(t)), `layer.<t>.bias` [H];
 * - `head.<l>.kernel`, `head.<l>.bias`: the output MLP H -> head... -> 1.
 */
export function pcgnnWeightShapes(a: PcgnnArchitecture): Record<string, number[]> {
  const H = a.hidden, E = a.edgeEmbedding;
  const shapes: Record<string, number[]> = {
    'embed.node.kernel': [pcgnnNodeInputs(a), H],
    'embed.node.bias': [H],
    'embed.edge.kernel': [PCGNN_EDGE_INPUTS, E],
    'embed.edge.bias': [E],
    'edge.kernel': [E, H],
  };
  for (let t = 0; t < a.layers; t++) {
    shapes[`layer.${t}.self.kernel`] = [H, H];
    shapes[`layer.${t}.neighbour.kernel`] = [H, H];
    shapes[`layer.${t}.bias`] = [H];
  }
  return denseWeightShapes(pcgnnHeadWidths(a), 'head', shapes);
}

/** Throws unless the weights have exactly the shapes of the architecture. */
export function validatePcgnn(c: Checkpoint<PcgnnArchitecture>): void {
  checkWeightShapes('pcgnn checkpoint', c.weights, pcgnnWeightShapes(c.architecture));
}

export interface PcgnnState {
  view: LocalView;
  /** x_k^(t): the node embedding before round 0, then the aggregate d_k^(t-1) of the last round. */
  x: Float64Array;
  /** W_2 e_jk per neighbour slot i at i H (the edge embedding through the shared weight, fixed). */
  edgeTerm: Float64Array;
  /** W_1^(t) x_k^(t) + b^(t) for round `selfRound` (computed at that round's first message). */
  self: Float64Array;
  selfRound: number;
}

const relu = (v: number): number => (v > 0 ? v : 0);

/** y = b + x W for a kernel W [nIn, nOut] (b optional), into `out`. */
function affine(x: ArrayLike<number>, nIn: number, W: Float64Array, b: Float64Array | undefined, nOut: number, out: Float64Array, offset = 0): void {
  for (let o = 0; o < nOut; o++) out[offset + o] = b ? b[o] : 0;
  for (let i = 0; i < nIn; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const row = i * nOut;
    for (let o = 0; o < nOut; o++) out[offset + o] += xi * W[row + o];
  }
}

/**
 * PCGNN power control as a DMP algorithm (eqs. 20-21 of gnn-wireless-theory-to-practice-dmp.md),
 * one round per layer. Agent k embeds its own features, x_k^(0) = ReLU(W_1^(0) [g_kk, w_k] + b) (with
 * `powerFeature` also its transmit power, which it knows: 10 log10(Pmax / sigma^2), scaled),
 * and each known edge, e_jk = ReLU(W_2^(0) [g_jk, g_kj] + b) (eq. 20). In round t it broadcasts
 * x_k^(t); its message from slot i is ReLU(W_1^(t) x_k^(t) + W_2 e_jk + W_3^(t) x_j^(t) + b^(t)),
 * the aggregate (max, as in the paper; 0 when nothing arrived) is x_k^(t+1) = d_k^(t) (eq. 21).
 * Output p_k = sigmoid(MLP(x_k)) Pmax, which after the T rounds is MLP(d_k^(T)) of eq. 21.
 * The layers do not share weights, so it runs exactly T rounds. `c` must be verified
 * (createAlgorithm does); its shapes are checked here.
 */
export function pcgnnDmp(c: Checkpoint<PcgnnArchitecture>, rounds = c.architecture.layers): DmpAlgorithm<PcgnnState> {
  validatePcgnn(c);
  const a = c.architecture;
  if (rounds !== a.layers) throw new Error(`pcgnn: rounds must equal the checkpoint's layers (T = ${a.layers}: its layers do not share weights), got ${rounds}`);
  const H = a.hidden, E = a.edgeEmbedding, f = a.features;
  const w = (name: string): Float64Array => Float64Array.from(c.weights[name].data);
  const nodeW = w('embed.node.kernel'), nodeB = w('embed.node.bias');
  const edgeW = w('embed.edge.kernel'), edgeB = w('embed.edge.bias');
  const W2 = w('edge.kernel');
  const W1 = Array.from({ length: a.layers }, (_, t) => w(`layer.${t}.self.kernel`));
  const W3 = Array.from({ length: a.layers }, (_, t) => w(`layer.${t}.neighbour.kernel`));
  const bias = Array.from({ length: a.layers }, (_, t) => w(`layer.${t}.bias`));
  const head = new DenseLayers(pcgnnHeadWidths(a), c.weights, 'head', false);
  const e = new Float64Array(E);
  const y = new Float64Array(1);
  const checkRound = (t: number): void => {
    if (!(t >= 0 && t < a.layers)) throw new Error(`pcgnn: round ${t} has no layer (T = ${a.layers})`);
  };
  /** W_2 e_jk per neighbour slot (eq. 21's edge term), from the view's CSI. */
  const edgeTerms = (view: LocalView): Float64Array => {
    const n = view.neighbours.length;
    const edgeTerm = new Float64Array(n * H);
    for (let i = 0; i < n; i++) {
      affine([scaleGain(view.gIn[i], 'cross', f), scaleGain(view.gOut[i], 'cross', f)], PCGNN_EDGE_INPUTS, edgeW, edgeB, E, e);
      for (let d = 0; d < E; d++) e[d] = relu(e[d]);
      affine(e, E, W2, undefined, H, edgeTerm, i * H);
    }
    return edgeTerm;
  };
  return {
    name: 'pcgnn',
    rounds,
    period: 1,
    init(view) {
      const n = view.neighbours.length;
      const x = new Float64Array(H);
      const u = [scaleGain(view.direct, 'direct', f), view.weight];
      if (a.powerFeature) u.push(scalePower(view.pmax, view.noise, f));
      affine(u, u.length, nodeW, nodeB, H, x);
      for (let h = 0; h < H; h++) x[h] = relu(x[h]);
      return { view, x, edgeTerm: edgeTerms(view), self: new Float64Array(H), selfRound: -1 };
    },
    // new CSI: the edge embeddings change; the node embedding x^(t) goes on
    refresh(s, _t, view) {
      s.view = view;
      s.edgeTerm = edgeTerms(view);
    },
    broadcastSize: () => H,
    messageSize: () => H,
    aggregation: () => a.aggregation,
    broadcast(s, _t, out) {
      out.set(s.x);
    },
    message(s, t, i, b, out) {
      if (s.selfRound !== t) {
        checkRound(t);
        affine(s.x, H, W1[t], bias[t], H, s.self);
        s.selfRound = t;
      }
      affine(b, H, W3[t], s.self, H, out);
      const et = s.edgeTerm;
      for (let h = 0; h < H; h++) out[h] = relu(out[h] + et[i * H + h]);
    },
    update(s, t, agg) {
      checkRound(t);
      s.x.set(agg);
      s.selfRound = -1;
    },
    output(s) {
      head.forward(s.x, y);
      return Float64Array.of(s.view.pmax / (1 + Math.exp(-y[0])));
    },
  };
}
