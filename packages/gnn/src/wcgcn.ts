import * as tf from '@tensorflow/tfjs';
import {
  assertCheckpoint,
  validateWcgcn,
  verifyCheckpoint,
  wcgcnWeightShapes,
  WCGCN_NODE_FEATURES,
  type Checkpoint,
  type WcgcnArchitecture,
} from '@dmpemu/dmp';
import type { Rng } from '@dmpemu/wireless';
import type { DenseBatch } from './batch.ts';
import { denseStack, disposeModel, initVariables, variablesOf, weightOf, type TfModel } from './model.ts';
import { dense, matMul2d, maxOverAxis2 } from './ops.ts';

/**
 * The WCGCN of eq. 8 in TensorFlow.js, batched and dense: the second implementation of
 * packages/dmp/src/wcgcnDmp.ts (the per-agent one), held equal to it by a parity test.
 */
export type WcgcnModel = TfModel<WcgcnArchitecture>;

/** Glorot-uniform kernels and zero biases, drawn from `rng` (reproducible on every backend). */
export function initWcgcn(architecture: WcgcnArchitecture, rng: Rng): WcgcnModel {
  return { architecture, weights: initVariables(wcgcnWeightShapes(architecture), rng) };
}

/** Variables from a WCGCN checkpoint (kind and hash verified, shapes checked). */
export function fromCheckpoint(c: Checkpoint): WcgcnModel {
  assertCheckpoint(c, 'wcgcn checkpoint', 'wcgcn');
  verifyCheckpoint(c);
  validateWcgcn(c);
  return { architecture: structuredClone(c.architecture), weights: variablesOf(c) };
}

export function disposeWcgcn(m: WcgcnModel): void {
  disposeModel(m);
}

function weight(m: WcgcnModel, name: string): tf.Variable {
  return weightOf(m, name, 'wcgcn model');
}

/** Dense layers `from`.. of an MLP on [N, in] rows: ReLU between layers, `lastRelu` on the last. */
function denseLayers(m: WcgcnModel, mlp: 'mlp1' | 'mlp2', from: number, x: tf.Tensor2D, lastRelu: boolean): tf.Tensor2D {
  return denseStack(m, mlp, m.architecture[mlp], from, x, lastRelu);
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
