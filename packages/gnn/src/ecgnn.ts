import * as tf from '@tensorflow/tfjs';
import { assertCheckpoint, ecgnnHeadWidths, ecgnnWeightShapes, ecgnnWidths, validateEcgnn, verifyCheckpoint, type Checkpoint, type EcgnnArchitecture } from '@dmpemu/dmp';
import type { Rng } from '@dmpemu/wireless';
import type { DenseBatch } from './batch.ts';
import { denseStack, initVariables, variablesOf, weightOf, type TfModel } from './model.ts';
import { dense, matMul2d } from './ops.ts';

/**
 * ECGNN (eq. 12 of gnn-wireless-theory-to-practice-dmp.md) in TensorFlow.js, batched and dense: the
 * second implementation of packages/dmp/src/ecgnnDmp.ts, held equal to it by a parity test.
 */
export type EcgnnModel = TfModel<EcgnnArchitecture>;

/** Glorot-uniform kernels and zero biases, drawn from `rng` in ecgnnWeightShapes order. */
export function initEcgnn(architecture: EcgnnArchitecture, rng: Rng): EcgnnModel {
  return { architecture, weights: initVariables(ecgnnWeightShapes(architecture), rng) };
}

/** Variables from an ECGNN checkpoint (kind and hash verified, shapes checked). */
export function ecgnnFromCheckpoint(c: Checkpoint): EcgnnModel {
  assertCheckpoint(c, 'ecgnn checkpoint', 'ecgnn');
  verifyCheckpoint(c);
  validateEcgnn(c);
  return { architecture: structuredClone(c.architecture), weights: variablesOf(c) };
}

/**
 * p_k / Pmax, [B, K]:
 *   d_k^(0) = [w_k, h_kk]
 *   d_k^(t) = (1/|N(k)|) sum_{j in N(k)} ReLU(W1 d_k^(t-1) + w2 h_jk + W3 d_j^(t-1) + b)   (eq. 12)
 *   p_k = sigmoid(MLP(d_k^(T))) Pmax.
 * Receiver k on axis 1, sender j on axis 2; the CSI mask zeroes unknown edges and a node without
 * neighbours aggregates to 0. Intermediates are left to the caller's tf.tidy.
 */
export function ecgnnForward(m: EcgnnModel, d: DenseBatch): tf.Tensor2D {
  const a = m.architecture;
  const { B, K } = d;
  const H = ecgnnWidths(a);
  const w = (name: string): tf.Tensor2D => weightOf(m, name, 'ecgnn model') as tf.Tensor2D;
  let x = tf.reverse(d.node, 2).reshape([B * K, H[0]]) as tf.Tensor2D; // batch node = [g_kk, w_k]: d^(0) = [w_k, g_kk]
  const h = tf.slice(d.edge, [0, 0, 0, 0], [B, K, K, 1]); // h_jk at [b, k, j]
  for (let t = 0; t < a.layers; t++) {
    const n = H[t + 1];
    const self = dense(x, w(`layer.${t}.self.kernel`), w(`layer.${t}.bias`), false).reshape([B, K, 1, n]);
    const neighbour = matMul2d(x, w(`layer.${t}.neighbour.kernel`)).reshape([B, 1, K, n]);
    const edge = tf.mul(h, w(`layer.${t}.edge.kernel`).reshape([1, 1, 1, n]));
    const messages = tf.relu(tf.add(tf.add(edge, self), neighbour));
    const agg = tf.div(tf.sum(tf.mul(messages, d.mask), 2), tf.maximum(d.degree, 1)) as tf.Tensor3D; // [B, K, n]
    x = agg.reshape([B * K, n]);
  }
  const y = denseStack(m, 'head', ecgnnHeadWidths(a), 0, x, false);
  return tf.sigmoid(y).reshape([B, K]);
}
