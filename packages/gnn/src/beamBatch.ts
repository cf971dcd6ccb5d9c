import * as tf from '@tensorflow/tfjs';
import { scaleChannel, type BeamEdges, type FeatureScaling } from '@dmpemu/dmp';
import type { Instance } from '@dmpemu/wireless';
import { csiGraph, type GraphTensors } from './batch.ts';

/**
 * B MISO instances of K pairs with Nt antennas as dense tensors for the beamforming WCGCN,
 * receiver-major like DenseBatch (complex vectors as Nt real parts then Nt imaginary parts):
 * - `node` [B, K, 2 Nt]: scaled h_kk (x_k without v_k);
 * - `edge` [B, K, K, 2 Nt] (4 Nt with `edges: both`): at [b, k, j] the scaled e_jk (h_jk, h_kj or
 *   h_jk then h_kj: BeamEdges) when agent k knows the edge (j, k), else 0;
 * - `mask`, `maskBias`, `degree`, `hasNeighbours` as in DenseBatch;
 * and for the loss, on the true channel:
 * - `hRe`, `hIm` [B, K, K, Nt]: h_jk sqrt(Pmax / sigma^2) at [b, j, k] (transmitter-major);
 * - `weights` [B, K]: w_k.
 */
export interface BeamBatch extends GraphTensors {
  Nt: number;
  hRe: tf.Tensor4D;
  hIm: tf.Tensor4D;
  weights: tf.Tensor2D;
}

export function beamBatch(instances: readonly Instance[], features: FeatureScaling, edges: BeamEdges = 'in'): BeamBatch {
  const B = instances.length;
  if (B === 0) throw new Error('beamBatch: no instances');
  const { K, Nt } = instances[0];
  instances.forEach((inst, b) => {
    if (!inst.hRe || !inst.hIm) throw new Error(`beamBatch: instance ${b} has no complex channels (model ${inst.model}); beamforming needs a miso network`);
    if (inst.Nt !== Nt) throw new Error(`beamBatch: instance ${b} has Nt = ${inst.Nt}, expected ${Nt} like instance 0`);
  });
  const graph = csiGraph(instances, K);
  const node = new Float32Array(B * K * 2 * Nt);
  const E = (edges === 'both' ? 4 : 2) * Nt;
  const edge = new Float32Array(B * K * K * E);
  const hRe = new Float32Array(B * K * K * Nt);
  const hIm = new Float32Array(B * K * K * Nt);
  const weights = new Float32Array(B * K);
  instances.forEach((inst, b) => {
    const re = inst.hRe!, im = inst.hIm!;
    const unit = Math.sqrt(inst.pmax / inst.noise);
    for (let i = 0; i < K * K * Nt; i++) {
      hRe[b * K * K * Nt + i] = re[i] * unit;
      hIm[b * K * K * Nt + i] = im[i] * unit;
    }
    for (let k = 0; k < K; k++) {
      const n = b * K + k;
      weights[n] = inst.weights[k];
      scaleChannel(re, im, (k * K + k) * Nt, Nt, 'direct', features, node, 2 * Nt * n);
      for (let j = 0; j < K; j++) {
        const e = n * K + j;
        if (!graph.known[e]) continue;
        if (edges !== 'out') scaleChannel(re, im, (j * K + k) * Nt, Nt, 'cross', features, edge, E * e); // h_jk
        if (edges !== 'in') scaleChannel(re, im, (k * K + j) * Nt, Nt, 'cross', features, edge, E * e + (edges === 'both' ? 2 * Nt : 0)); // h_kj
      }
    }
  });
  return {
    B,
    K,
    Nt,
    node: tf.tensor3d(node, [B, K, 2 * Nt]),
    edge: tf.tensor4d(edge, [B, K, K, E]),
    mask: graph.mask,
    maskBias: graph.maskBias,
    degree: graph.degree,
    hasNeighbours: graph.hasNeighbours,
    hRe: tf.tensor4d(hRe, [B, K, K, Nt]),
    hIm: tf.tensor4d(hIm, [B, K, K, Nt]),
    weights: tf.tensor2d(weights, [B, K]),
  };
}

export function disposeBeamBatch(d: BeamBatch): void {
  tf.dispose([d.node, d.edge, d.mask, d.maskBias, d.degree, d.hasNeighbours, d.hRe, d.hIm, d.weights]);
}

/**
 * Rates log2(1 + SINR_k), [B, K], of beamformers v [B, K, 2 Nt] (as fractions of sqrt(Pmax)):
 * SINR_k = |h_kk^H v_k|^2 / (sum_{j != k} |h_jk^H v_j|^2 + sigma^2) (eq. 3 of
 * mpgnn-wcgcn-scalable-rrm.md), with h^H v = sum_n (a c + b d) + i (a d - b c) for h = a + ib, v = c + id.
 */
export function beamRatesTf(v: tf.Tensor3D, d: BeamBatch): tf.Tensor2D {
  const { B, K, Nt } = d;
  const vRe = v.slice([0, 0, 0], [B, K, Nt]).reshape([B, K, 1, Nt]); // sender j on axis 1
  const vIm = v.slice([0, 0, Nt], [B, K, Nt]).reshape([B, K, 1, Nt]);
  const re = tf.sum(tf.add(tf.mul(d.hRe, vRe), tf.mul(d.hIm, vIm)), 3);
  const im = tf.sum(tf.sub(tf.mul(d.hRe, vIm), tf.mul(d.hIm, vRe)), 3);
  const power = tf.add(tf.square(re), tf.square(im)); // [b, j, k]: |h_jk^H v_j|^2 / sigma^2
  const eye = tf.eye(K).reshape([1, K, K]);
  const signal = tf.sum(tf.mul(power, eye), 1);
  const interference = tf.sum(tf.mul(power, tf.sub(1, eye)), 1);
  return tf.div(tf.log1p(tf.div(signal, tf.add(interference, 1))), Math.LN2) as tf.Tensor2D;
}

/** The beamforming training loss: minus the weighted sum rate, averaged over the batch. */
export function negWeightedSumRateBeam(v: tf.Tensor3D, d: BeamBatch): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(beamRatesTf(v, d), d.weights), 1))) as tf.Scalar;
}
