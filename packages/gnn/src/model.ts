import * as tf from '@tensorflow/tfjs';
import { makeCheckpoint, type Checkpoint, type CheckpointArchitecture, type TrainableArchitecture } from '@dmpemu/dmp';
import type { Rng } from '@dmpemu/wireless';
import { dense } from './ops.ts';

/**
 * What the TF.js models (wcgcn.ts, pcgnn.ts, mlp.ts) have in common: an architecture and float32
 * variables named like the checkpoint's weights.
 */
export interface TfModel<A extends TrainableArchitecture = TrainableArchitecture> {
  architecture: A;
  weights: Map<string, tf.Variable>;
}

/** A trainable float32 variable holding `data` (the temporary tensor is released). */
export function variableOf(data: Float32Array, shape: number[]): tf.Variable {
  const t = tf.tensor(data, shape);
  const v = tf.variable(t, true);
  t.dispose();
  return v;
}

/**
 * Variables of the given names and shapes, in that order: 2-D kernels Glorot-uniform drawn from
 * `rng` (reproducible on every backend), everything else (biases) zero.
 */
export function initVariables(shapes: Record<string, number[]>, rng: Rng): Map<string, tf.Variable> {
  const weights = new Map<string, tf.Variable>();
  for (const [name, shape] of Object.entries(shapes)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (shape.length === 2) {
      const limit = Math.sqrt(6 / (shape[0] + shape[1]));
      for (let i = 0; i < n; i++) data[i] = rng.range(-limit, limit);
    }
    weights.set(name, variableOf(data, shape));
  }
  return weights;
}

/** Variables holding a checkpoint's weights (as float32). */
export function variablesOf(c: Checkpoint): Map<string, tf.Variable> {
  const weights = new Map<string, tf.Variable>();
  for (const [name, w] of Object.entries(c.weights)) weights.set(name, variableOf(Float32Array.from(w.data), w.shape));
  return weights;
}

/**
 * The model's current weights (float32) as a checkpoint with its hash. Throws when a weight is not
 * finite (training diverged): such a checkpoint would be refused on loading.
 */
export function toCheckpoint<A extends TrainableArchitecture>(m: TfModel<A>, meta: { training?: Record<string, unknown>; metrics?: Record<string, unknown> } = {}): Checkpoint<A> {
  const weights: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, v] of m.weights) {
    const data = Float32Array.from(v.dataSync() as Float32Array);
    const bad = data.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new Error(`training diverged: weight ${name} is ${data[bad]} at index ${bad} after step ${String(meta.training?.steps)} (a lower learning rate${meta.training?.lr !== undefined ? ` than ${String(meta.training.lr)}` : ''} may help)`);
    weights[name] = { shape: [...v.shape], data };
  }
  return makeCheckpoint<A>({ architecture: structuredClone(m.architecture), weights, training: meta.training ?? {}, metrics: meta.metrics ?? {} });
}

export function disposeModel(m: TfModel): void {
  for (const v of m.weights.values()) v.dispose();
}

/** The variable `name` of a model; `what` names the model in the error. */
export function weightOf(m: TfModel, name: string, what = `${m.architecture.kind} model`): tf.Variable {
  const v = m.weights.get(name);
  if (!v) throw new Error(`${what}: weight ${name} missing`);
  return v;
}

/**
 * Dense layers `from`..`widths.length - 2` named `<prefix>.<l>.kernel` / `.bias` on [N, in] rows:
 * ReLU between layers, `lastRelu` on the last.
 */
export function denseStack(m: TfModel, prefix: string, widths: number[], from: number, x: tf.Tensor2D, lastRelu: boolean): tf.Tensor2D {
  const L = widths.length - 1;
  for (let l = from; l < L; l++) x = dense(x, weightOf(m, `${prefix}.${l}.kernel`) as tf.Tensor2D, weightOf(m, `${prefix}.${l}.bias`), l + 1 < L || lastRelu);
  return x;
}
