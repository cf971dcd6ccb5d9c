import * as tf from '@tensorflow/tfjs';
import type { DenseBatch } from './batch.ts';

/**
 * Rates log2(1 + SINR_k), [B, K], on the true channel, for powers p_k = pFraction_k Pmax:
 * SINR_k = g_kk^2 p_k / (sum_{j != k} g_jk^2 p_j + sigma^2) (channel-models.md section 1), with
 * gains in units of the noise so the denominator is sum_j (g_jk^2 / sigma^2) p_j + 1.
 */
export function ratesTf(pFraction: tf.Tensor2D, d: DenseBatch): tf.Tensor2D {
  const p = tf.mul(pFraction, d.pmax); // [B, K]
  const interference = tf.matMul(p.reshape([d.B, 1, d.K]), d.cross2).reshape([d.B, d.K]); // sum_i p_i g_ik^2
  const sinr = tf.div(tf.mul(d.direct2, p), tf.add(interference, 1));
  return tf.div(tf.log1p(sinr), Math.LN2);
}

/** The training loss of section V: minus the weighted sum rate, averaged over the batch. */
export function negWeightedSumRate(pFraction: tf.Tensor2D, d: DenseBatch): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(ratesTf(pFraction, d), d.weights), 1))) as tf.Scalar;
}
