import * as tf from '@tensorflow/tfjs';
import { assertCheckpoint, mlpWeightShapes, mlpWidths, validateMlp, verifyCheckpoint, type Checkpoint, type MlpArchitecture } from '@dmpemu/dmp';
import type { Rng } from '@dmpemu/wireless';
import type { DenseBatch } from './batch.ts';
import { denseStack, disposeModel, initVariables, variablesOf, type TfModel } from './model.ts';

/**
 * The centralized MLP baseline (PCNet-style, section V-A of mpgnn-wcgcn-scalable-rrm.md) in
 * TensorFlow.js: input the whole K x K channel (scaled) and the K weights, ReLU hidden layers,
 * K sigmoids times Pmax. The per-instance inference without TF.js is mlpPowers in
 * packages/dmp/src/mlpInference.ts, held equal to this by a parity test.
 */
export type MlpModel = TfModel<MlpArchitecture>;

/** Glorot-uniform kernels and zero biases, drawn from `rng`. */
export function initMlp(architecture: MlpArchitecture, rng: Rng): MlpModel {
  return { architecture, weights: initVariables(mlpWeightShapes(architecture), rng) };
}

/** Variables from an MLP checkpoint (kind and hash verified, shapes checked). */
export function mlpFromCheckpoint(c: Checkpoint): MlpModel {
  assertCheckpoint(c, 'mlp checkpoint', 'mlp');
  verifyCheckpoint(c);
  validateMlp(c);
  return { architecture: structuredClone(c.architecture), weights: variablesOf(c) };
}

export function disposeMlp(m: MlpModel): void {
  disposeModel(m);
}

/**
 * p_k / Pmax, [B, K]: sigmoid(MLP([g_ij scaled..., w_k...])). The batch must carry `mlpInput`
 * (denseBatch(..., { mlpInput: true })) and have the model's K.
 */
export function mlpForward(m: MlpModel, d: DenseBatch): tf.Tensor2D {
  const a = m.architecture;
  if (d.K !== a.K) throw new Error(`mlp: the model is an MLP for K = ${a.K} pairs, the batch has K = ${d.K} (an MLP only runs on the K it was trained for)`);
  if (!d.mlpInput) throw new Error('mlp: the batch has no mlpInput (build it with denseBatch(instances, features, { mlpInput: true }))');
  return tf.sigmoid(denseStack(m, 'mlp', mlpWidths(a), 0, d.mlpInput, false));
}
