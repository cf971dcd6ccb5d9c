import * as tf from '@tensorflow/tfjs';
import {
  assertCheckpoint,
  validateWcgcn,
  validateWcgcnBeam,
  verifyCheckpoint,
  wcgcnWeightShapes,
  wcgcnWidths,
  type Checkpoint,
  type WcgcnArchitecture,
} from '@dmpemu/dmp';
import type { Rng } from '@dmpemu/wireless';
import type { GraphTensors } from './batch.ts';
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
  if (c.architecture.task === 'beamforming') validateWcgcnBeam(c);
  else validateWcgcn(c);
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
 * T layers of y_k = MLP2(x_k, MAX_j MLP1(x_j, e_jk)), x_k = sigma(y_k) (eq. 8), x_k = [node
 * features, decision]: the decision part of x_k as [B, K, out] after the last layer. Power control:
 * x_k = [g_kk, w_k, p_k] from p_k = Pmax, sigma = sigmoid, out 1 (p_k / Pmax). Beamforming:
 * x_k = [h_kk, v_k] from v_k = 1/sqrt(Nt), sigma(y) = y / max(||y||, 1), out 2 Nt (v_k / sqrt(Pmax)).
 * MLP1's first layer is split as [x_j, e_jk] W = x_j W_x + e_jk W_e: the edge half is computed once
 * for all layers (shared weights, fixed edges) and the node half once per sender, never tiled over
 * the K x K edges. Intermediate tensors are left to the caller's tf.tidy (or optimizer.minimize).
 */
export function wcgcnLayers(m: WcgcnModel, d: GraphTensors): tf.Tensor3D {
  const a = m.architecture;
  const { B, K } = d;
  const width = wcgcnWidths(a);
  const h1 = a.mlp1[1];
  const msg = a.mlp1[a.mlp1.length - 1];
  const k0 = weight(m, 'mlp1.0.kernel');
  const Wx = k0.slice([0, 0], [width.node, h1]) as tf.Tensor2D;
  const We = k0.slice([width.node, 0], [k0.shape[0] - width.node, h1]) as tf.Tensor2D;
  const edgeHalf = dense(d.edge.reshape([B * K * K, We.shape[0]]) as tf.Tensor2D, We, weight(m, 'mlp1.0.bias'), false).reshape([B, K, K, h1]);
  const oneLayer = a.mlp1.length === 2;
  const beam = a.task === 'beamforming';
  const Nt = a.Nt ?? 1;
  let state: tf.Tensor3D = beam ? tf.concat([tf.fill([B, K, Nt], 1 / Math.sqrt(Nt)), tf.zeros([B, K, Nt])], 2) : tf.ones([B, K, 1]);
  for (let t = 0; t < a.layers; t++) {
    const x = tf.concat([d.node, state], 2);
    const nodeHalf = matMul2d(x.reshape([B * K, width.node]) as tf.Tensor2D, Wx).reshape([B, 1, K, h1]); // sender j on axis 2
    let first = tf.add(edgeHalf, nodeHalf).reshape([B * K * K, h1]) as tf.Tensor2D;
    if (!oneLayer || a.mlp1Output === 'relu') first = tf.relu(first);
    const messages = (oneLayer ? first : denseLayers(m, 'mlp1', 1, first, a.mlp1Output === 'relu')).reshape([B, K, K, msg]);
    let agg: tf.Tensor3D;
    if (a.aggregation === 'max') agg = tf.mul(maxOverAxis2(tf.add(messages, d.maskBias)).reshape([B, K, msg]), d.hasNeighbours);
    else {
      agg = tf.sum(tf.mul(messages, d.mask), 2);
      if (a.aggregation === 'mean') agg = tf.div(agg, tf.maximum(d.degree, 1));
    }
    const y = denseLayers(m, 'mlp2', 0, tf.concat([x, agg], 2).reshape([B * K, a.mlp2[0]]) as tf.Tensor2D, false).reshape([B, K, width.output]) as tf.Tensor3D;
    // sigma of eq. 8; for beamforming max(||y||, 1) as sqrt(max(||y||^2, 1)), whose gradient is finite at y = 0
    state = beam ? tf.div(y, tf.sqrt(tf.maximum(tf.sum(tf.square(y), 2, true), 1))) : tf.sigmoid(y);
  }
  return state;
}

/** Power control: p_k / Pmax, [B, K] (wcgcnLayers of a power-control WCGCN). */
export function wcgcnForward(m: WcgcnModel, d: GraphTensors): tf.Tensor2D {
  if (m.architecture.task !== 'power') throw new Error(`wcgcnForward: the model does ${m.architecture.task}; use wcgcnLayers`);
  return wcgcnLayers(m, d).reshape([d.B, d.K]);
}
