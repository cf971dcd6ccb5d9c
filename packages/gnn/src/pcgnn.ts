import * as tf from '@tensorflow/tfjs';
import { assertCheckpoint, pcgnnHeadWidths, pcgnnNodeInputs, pcgnnWeightShapes, PCGNN_EDGE_INPUTS, validatePcgnn, verifyCheckpoint, type Checkpoint, type PcgnnArchitecture } from '@dmpemu/dmp';
import type { Rng } from '@dmpemu/wireless';
import type { DenseBatch } from './batch.ts';
import { denseStack, disposeModel, initVariables, variablesOf, weightOf, type TfModel } from './model.ts';
import { dense, matMul2d, maxOverAxis2 } from './ops.ts';

/**
 * PCGNN (eqs. 20-21 of gnn-wireless-theory-to-practice-dmp.md) in TensorFlow.js, batched and
 * dense: the second implementation of packages/dmp/src/pcgnnDmp.ts (the per-agent one), held
 * equal to it by a parity test. Weights are named as pcgnnWeightShapes says.
 */
export type PcgnnModel = TfModel<PcgnnArchitecture>;

/** Glorot-uniform kernels and zero biases, drawn from `rng` in pcgnnWeightShapes order. */
export function initPcgnn(architecture: PcgnnArchitecture, rng: Rng): PcgnnModel {
  return { architecture, weights: initVariables(pcgnnWeightShapes(architecture), rng) };
}

/** Variables from a PCGNN checkpoint (kind and hash verified, shapes checked). */
export function pcgnnFromCheckpoint(c: Checkpoint): PcgnnModel {
  assertCheckpoint(c, 'pcgnn checkpoint', 'pcgnn');
  verifyCheckpoint(c);
  validatePcgnn(c);
  return { architecture: structuredClone(c.architecture), weights: variablesOf(c) };
}

export function disposePcgnn(m: PcgnnModel): void {
  disposeModel(m);
}

/**
 * p_k / Pmax, [B, K]:
 *   x_k^(0) = ReLU(W_1^(0) [g_kk, w_k(, power)] + b),  e_jk = ReLU(W_2^(0) [g_jk, g_kj] + b)   (eq. 20)
 *   x_k^(t+1) = MAX_{j in N(k)} ReLU(W_1^(t) x_k^(t) + W_2 e_jk + W_3^(t) x_j^(t) + b^(t))  (eq. 21)
 *   p_k = sigmoid(MLP(x_k^(T))) Pmax.
 * W_2 e_jk is computed once per forward pass (shared weight, fixed edges), the self and
 * neighbour terms once per node and broadcast over the K x K pairs (receiver k on axis 1, sender j
 * on axis 2). Masked edges lose every max (-1e30) and a node without neighbours aggregates to 0.
 * Intermediate tensors are left to the caller's tf.tidy (or optimizer.minimize).
 */
export function pcgnnForward(m: PcgnnModel, d: DenseBatch): tf.Tensor2D {
  const a = m.architecture;
  const { B, K } = d;
  const H = a.hidden;
  const w = (name: string): tf.Tensor2D => weightOf(m, name, 'pcgnn model') as tf.Tensor2D;
  let node: tf.Tensor = d.node;
  if (a.powerFeature) {
    const p = a.features.power!;
    const power = tf.div(tf.sub(d.powerDb, p.shift), p.scale).reshape([B, 1, 1]); // 10 log10(Pmax / sigma^2), scaled
    node = tf.concat([d.node, tf.tile(power, [1, K, 1])], 2);
  }
  let x = dense(node.reshape([B * K, pcgnnNodeInputs(a)]) as tf.Tensor2D, w('embed.node.kernel'), w('embed.node.bias'), true); // [B K, H]
  const e = dense(d.edge.reshape([B * K * K, PCGNN_EDGE_INPUTS]) as tf.Tensor2D, w('embed.edge.kernel'), w('embed.edge.bias'), true); // [B K K, E]
  const edgeTerm = matMul2d(e, w('edge.kernel')).reshape([B, K, K, H]);
  for (let t = 0; t < a.layers; t++) {
    const self = dense(x, w(`layer.${t}.self.kernel`), w(`layer.${t}.bias`), false).reshape([B, K, 1, H]); // receiver k
    const neighbour = matMul2d(x, w(`layer.${t}.neighbour.kernel`)).reshape([B, 1, K, H]); // sender j
    const messages = tf.relu(tf.add(tf.add(edgeTerm, self), neighbour)) as tf.Tensor4D; // [B, K, K, H]
    let agg: tf.Tensor3D;
    if (a.aggregation === 'max') agg = tf.mul(maxOverAxis2(tf.add(messages, d.maskBias)).reshape([B, K, H]), d.hasNeighbours);
    else {
      agg = tf.sum(tf.mul(messages, d.mask), 2);
      if (a.aggregation === 'mean') agg = tf.div(agg, tf.maximum(d.degree, 1));
    }
    x = agg.reshape([B * K, H]);
  }
  const y = denseStack(m, 'head', pcgnnHeadWidths(a), 0, x, false); // [B K, 1]
  return tf.sigmoid(y).reshape([B, K]);
}
