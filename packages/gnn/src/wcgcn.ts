import * as tf from '@tensorflow/tfjs';
import {
  makeCheckpoint,
  validateWcgcn,
  verifyCheckpoint,
  wcgcnWeightShapes,
  WCGCN_NODE_FEATURES,
  type Checkpoint,
  type WcgcnArchitecture,
} from '@dmpemu/dmp';
import type { Rng } from '@dmpemu/wireless';
import type { DenseBatch } from './batch.ts';
import { dense, matMul2d, maxOverAxis2 } from './ops.ts';

/**
 * The WCGCN of eq. 8 in TensorFlow.js, batched and dense: the second implementation of
 * packages/dmp/src/wcgcnDmp.ts (the per-agent one), held equal to it by a parity test.
 */
export interface WcgcnModel {
  architecture: WcgcnArchitecture;
  /** Named like the checkpoint's weights (wcgcnWeightShapes). */
  weights: Map<string, tf.Variable>;
}

/** A trainable float32 variable holding `data` (the temporary tensor is released). */
function variableOf(data: Float32Array, shape: number[]): tf.Variable {
  const t = tf.tensor(data, shape);
  const v = tf.variable(t, true);
  t.dispose();
  return v;
}

/** Glorot-uniform kernels and zero biases, drawn from `rng` (reproducible on every backend). */
export function initWcgcn(architecture: WcgcnArchitecture, rng: Rng): WcgcnModel {
  const weights = new Map<string, tf.Variable>();
  for (const [name, shape] of Object.entries(wcgcnWeightShapes(architecture))) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (shape.length === 2) {
      const limit = Math.sqrt(6 / (shape[0] + shape[1]));
      for (let i = 0; i < n; i++) data[i] = rng.range(-limit, limit);
    }
    weights.set(name, variableOf(data, shape));
  }
  return { architecture, weights };
}

/** Variables from a checkpoint (hash verified, shapes checked). */
export function fromCheckpoint(c: Checkpoint): WcgcnModel {
  verifyCheckpoint(c);
  validateWcgcn(c);
  const weights = new Map<string, tf.Variable>();
  for (const [name, w] of Object.entries(c.weights)) weights.set(name, variableOf(Float32Array.from(w.data), w.shape));
  return { architecture: structuredClone(c.architecture), weights };
}

/** The model's current weights (float32) as a checkpoint with its hash. */
export function toCheckpoint(m: WcgcnModel, meta: { training?: Record<string, unknown>; metrics?: Record<string, unknown> } = {}): Checkpoint {
  const weights: Checkpoint['weights'] = {};
  for (const [name, v] of m.weights) weights[name] = { shape: [...v.shape], data: Float32Array.from(v.dataSync() as Float32Array) };
  return makeCheckpoint({ architecture: structuredClone(m.architecture), weights, training: meta.training ?? {}, metrics: meta.metrics ?? {} });
}

export function disposeWcgcn(m: WcgcnModel): void {
  for (const v of m.weights.values()) v.dispose();
}

function weight(m: WcgcnModel, name: string): tf.Variable {
  const v = m.weights.get(name);
  if (!v) throw new Error(`wcgcn model: weight ${name} missing`);
  return v;
}

/** Dense layers `from`.. of an MLP on [N, in] rows: ReLU between layers, `lastRelu` on the last. */
function denseLayers(m: WcgcnModel, mlp: 'mlp1' | 'mlp2', from: number, x: tf.Tensor2D, lastRelu: boolean): tf.Tensor2D {
  const L = m.architecture[mlp].length - 1;
  for (let l = from; l < L; l++) x = dense(x, weight(m, `${mlp}.${l}.kernel`) as tf.Tensor2D, weight(m, `${mlp}.${l}.bias`), l + 1 < L || lastRelu);
  return x;
}

/**
 * T layers of y_k = MLP2(x_k, MAX_j MLP1(x_j, e_jk)), x_k = sigma(y_k) (eq. 8), x_k = [g_kk, w_k, p_k]
 * starting from p_k = Pmax. Returns p_k / Pmax, [B, K]. MLP1's first layer is split as
 * [x_j, e_jk] W = x_j W_x + e_jk W_e: the edge half is computed once for all layers (shared
 * weights, fixed edges) and the node half once per sender, never tiled over the K x K edges.
 * Intermediate tensors are left to the caller's tf.tidy (or optimizer.minimize).
 */
export function wcgcnForward(m: WcgcnModel, d: DenseBatch): tf.Tensor2D {
  const a = m.architecture;
  const { B, K } = d;
  const h1 = a.mlp1[1];
  const msg = a.mlp1[a.mlp1.length - 1];
  const k0 = weight(m, 'mlp1.0.kernel');
  const Wx = k0.slice([0, 0], [WCGCN_NODE_FEATURES, h1]) as tf.Tensor2D;
  const We = k0.slice([WCGCN_NODE_FEATURES, 0], [k0.shape[0] - WCGCN_NODE_FEATURES, h1]) as tf.Tensor2D;
  const edgeHalf = dense(d.edge.reshape([B * K * K, We.shape[0]]) as tf.Tensor2D, We, weight(m, 'mlp1.0.bias'), false).reshape([B, K, K, h1]);
  const oneLayer = a.mlp1.length === 2;
  let p: tf.Tensor3D = tf.ones([B, K, 1]);
  for (let t = 0; t < a.layers; t++) {
    const x = tf.concat([d.node, p], 2); // [B, K, 3]
    const nodeHalf = matMul2d(x.reshape([B * K, WCGCN_NODE_FEATURES]) as tf.Tensor2D, Wx).reshape([B, 1, K, h1]); // sender j on axis 2
    let first = tf.add(edgeHalf, nodeHalf).reshape([B * K * K, h1]) as tf.Tensor2D;
    if (!oneLayer || a.mlp1Output === 'relu') first = tf.relu(first);
    const messages = (oneLayer ? first : denseLayers(m, 'mlp1', 1, first, a.mlp1Output === 'relu')).reshape([B, K, K, msg]);
    let agg: tf.Tensor3D;
    if (a.aggregation === 'max') agg = tf.mul(maxOverAxis2(tf.add(messages, d.maskBias)).reshape([B, K, msg]), d.hasNeighbours);
    else {
      agg = tf.sum(tf.mul(messages, d.mask), 2);
      if (a.aggregation === 'mean') agg = tf.div(agg, tf.maximum(d.degree, 1));
    }
    const y = denseLayers(m, 'mlp2', 0, tf.concat([x, agg], 2).reshape([B * K, a.mlp2[0]]) as tf.Tensor2D, false);
    p = tf.sigmoid(y).reshape([B, K, 1]);
  }
  return p.reshape([B, K]);
}
