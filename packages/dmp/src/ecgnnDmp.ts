import type { LocalView } from '@dmpemu/wireless';
import type { Checkpoint, EcgnnArchitecture } from './checkpoint.ts';
import type { DmpAlgorithm } from './contract.ts';
import { DenseLayers } from './denseLayers.ts';
import { checkWeightShapes, denseWeightShapes } from './mlpInference.ts';
import { scaleGain } from './wcgcnDmp.ts';

/** Width of ECGNN's d_k^(0) = Z(k,:) = [w_k, h_kk] (eq. 12; h_kk scaled). */
export const ECGNN_NODE_INPUTS = 2;

/** Widths of d^(0)..d^(T). */
export function ecgnnWidths(a: Pick<EcgnnArchitecture, 'hidden'>): number[] {
  return [ECGNN_NODE_INPUTS, ...a.hidden];
}

/** Widths of the output MLP, input first: H^(T), the head's hidden widths, 1. */
export function ecgnnHeadWidths(a: EcgnnArchitecture): number[] {
  return [a.hidden[a.hidden.length - 1], ...a.head, 1];
}

/**
 * Names and shapes of an ECGNN's weights (kernels [in, out], y = x W + b), per layer t = 0..T-1
 * (the paper's layer t + 1), H_t the width of d^(t):
 * `layer.<t>.self.kernel` [H_t, H_t+1] (W1), `layer.<t>.edge.kernel` [1, H_t+1] (w2, on h_jk),
 * `layer.<t>.neighbour.kernel` [H_t, H_t+1] (W3), `layer.<t>.bias` [H_t+1]; then `head.<l>`.
 */
export function ecgnnWeightShapes(a: EcgnnArchitecture): Record<string, number[]> {
  const H = ecgnnWidths(a);
  const shapes: Record<string, number[]> = {};
  for (let t = 0; t < a.layers; t++) {
    shapes[`layer.${t}.self.kernel`] = [H[t], H[t + 1]];
    shapes[`layer.${t}.edge.kernel`] = [1, H[t + 1]];
    shapes[`layer.${t}.neighbour.kernel`] = [H[t], H[t + 1]];
    shapes[`layer.${t}.bias`] = [H[t + 1]];
  }
  return denseWeightShapes(ecgnnHeadWidths(a), 'head', shapes);
}

/** Throws unless the weights have exactly the shapes of the architecture. */
export function validateEcgnn(c: Checkpoint<EcgnnArchitecture>): void {
  checkWeightShapes('ecgnn checkpoint', c.weights, ecgnnWeightShapes(c.architecture));
}

export interface EcgnnState {
  view: LocalView;
  /** d_k^(t): [w_k, h_kk] before round 0, then the mean aggregate of the last round. */
  d: Float64Array;
  /** Rounds completed (the output needs all T). */
  done: number;
  /** h_jk scaled, per neighbour slot (the incoming channel, which receiver k measures). */
  edges: Float64Array;
  /** W1^(t) d_k^(t) + b^(t) for round `selfRound` (computed at that round's first message). */
  self: Float64Array;
  selfRound: number;
}

/** out = b + x W for a kernel W [nIn, nOut], `b` given as the starting values. */
function affineInto(x: ArrayLike<number>, nIn: number, W: Float64Array, start: ArrayLike<number>, nOut: number, out: Float64Array): void {
  for (let o = 0; o < nOut; o++) out[o] = start[o];
  for (let i = 0; i < nIn; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const row = i * nOut;
    for (let o = 0; o < nOut; o++) out[o] += xi * W[row + o];
  }
}

/**
 * ECGNN power control as a DMP algorithm (eq. 12 of gnn-wireless-theory-to-practice-dmp.md),
 * one round per layer: agent k broadcasts d_k^(t); its message from slot i (neighbour j) is
 * ReLU(W1 d_k^(t) + w2 h_jk + W3 d_j^(t) + b), and the mean aggregate (the sum over N(k) divided by
 * |N(k)|, or by the messages that arrived; 0 when none did) is d_k^(t+1). Output
 * p_k = sigmoid(MLP(d_k^(T))) Pmax (0 until the T rounds have run). Weights per layer: exactly T
 * rounds. An agent restarted mid-run resumes from d^(0) padded with zeros to the round's width. `c` must be verified
 * (createAlgorithm does); its shapes are checked here.
 */
export function ecgnnDmp(c: Checkpoint<EcgnnArchitecture>, rounds = c.architecture.layers): DmpAlgorithm<EcgnnState> {
  validateEcgnn(c);
  const a = c.architecture;
  if (rounds !== a.layers) throw new Error(`ecgnn: rounds must equal the checkpoint's layers (T = ${a.layers}: its layers do not share weights), got ${rounds}`);
  const H = ecgnnWidths(a), f = a.features;
  const w = (name: string): Float64Array => Float64Array.from(c.weights[name].data);
  const W1 = Array.from({ length: a.layers }, (_, t) => w(`layer.${t}.self.kernel`));
  const w2 = Array.from({ length: a.layers }, (_, t) => w(`layer.${t}.edge.kernel`));
  const W3 = Array.from({ length: a.layers }, (_, t) => w(`layer.${t}.neighbour.kernel`));
  const bias = Array.from({ length: a.layers }, (_, t) => w(`layer.${t}.bias`));
  const head = new DenseLayers(ecgnnHeadWidths(a), c.weights, 'head', false);
  const y = new Float64Array(1);
  const checkRound = (t: number): void => {
    if (!(Number.isInteger(t) && t >= 0 && t < a.layers)) throw new Error(`ecgnn: round ${t} has no layer (T = ${a.layers})`);
  };
  /** d_k^(t), of width H_t: an agent restarted mid-run holds d^(0), which is padded with zeros (or cut) to the round's width. */
  const stateAt = (s: EcgnnState, t: number): Float64Array => {
    if (s.d.length !== H[t]) {
      const d = new Float64Array(H[t]);
      d.set(s.d.subarray(0, H[t]));
      s.d = d;
    }
    return s.d;
  };
  return {
    name: 'ecgnn',
    rounds,
    period: 1,
    init(view) {
      const d = Float64Array.of(view.weight, scaleGain(view.direct, 'direct', f));
      return { view, d, done: 0, edges: Float64Array.from(view.gIn, (g) => scaleGain(g, 'cross', f)), self: new Float64Array(0), selfRound: -1 };
    },
    broadcastSize: (t) => (checkRound(t), H[t]),
    messageSize: (t) => (checkRound(t), H[t + 1]),
    aggregation: () => 'mean',
    broadcast(s, t, out) {
      out.set(stateAt(s, t));
    },
    message(s, t, i, b, out) {
      const n = H[t + 1];
      stateAt(s, t);
      if (s.selfRound !== t) {
        s.self = new Float64Array(n);
        affineInto(s.d, H[t], W1[t], bias[t], n, s.self);
        s.selfRound = t;
      }
      affineInto(b, H[t], W3[t], s.self, n, out);
      const h = s.edges[i], e = w2[t];
      for (let o = 0; o < n; o++) out[o] = Math.max(out[o] + h * e[o], 0);
    },
    update(s, t, agg) {
      checkRound(t);
      s.d = Float64Array.from(agg);
      s.done = t + 1;
      s.selfRound = -1;
    },
    output(s) {
      if (s.done !== a.layers) return Float64Array.of(0); // silent before its T rounds have run
      head.forward(s.d, y);
      return Float64Array.of(s.view.pmax / (1 + Math.exp(-y[0])));
    },
  };
}
