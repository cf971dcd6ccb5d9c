// A piscina worker of GradientPool (parallel.ts): the loss and gradients of one part of a batch.
import * as tf from '@tensorflow/tfjs';
import { makeCheckpoint, type Checkpoint } from '@dmpemu/dmp';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { ensureBackend } from './backend.ts';
import { modelKindImpl } from './kinds.ts';
import { disposeModel, type TfModel } from './model.ts';
import type { GradientResult, GradientTask } from './parallel.ts';

/** This worker's copy of the model, rebuilt only when the architecture changes. */
let model: TfModel | undefined;
let modelKey = '';

/** The task's weights, one subarray per name of its layout. */
function* unpack(t: GradientTask): Generator<[string, number[], Float32Array]> {
  let o = 0;
  for (const [name, shape] of t.layout) {
    const n = shape.reduce((a, b) => a * b, 1);
    yield [name, shape, t.weights.subarray(o, o + n)];
    o += n;
  }
}

/** The model of the task's architecture holding its weights: built (validated like a checkpoint) once, then only assigned. */
function modelFor(t: GradientTask): TfModel {
  const key = JSON.stringify(t.architecture);
  if (model && key === modelKey) {
    for (const [name, shape, data] of unpack(t)) {
      const x = tf.tensor(data, shape);
      model.weights.get(name)!.assign(x);
      x.dispose();
    }
    return model;
  }
  if (model) disposeModel(model);
  const weights: Checkpoint['weights'] = {};
  for (const [name, shape, data] of unpack(t)) weights[name] = { shape, data };
  model = modelKindImpl(t.architecture.kind).fromCheckpoint(makeCheckpoint({ architecture: t.architecture, weights, training: {}, metrics: {} }));
  modelKey = key;
  return model;
}

/** The mean loss on the task's instances and its gradients (concatenated in layout order, transferred back). */
export default async function gradients(t: GradientTask): Promise<GradientResult> {
  await ensureBackend();
  const m = modelFor(t);
  const vars = t.layout.map(([name]) => m.weights.get(name)!);
  const { value, grads } = tf.variableGrads(() => modelKindImpl(m.architecture.kind).loss(m, t.instances), vars);
  const flat = new Float32Array(t.weights.length);
  let o = 0;
  for (const v of vars) {
    flat.set(grads[v.name].dataSync() as Float32Array, o);
    o += v.size;
  }
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads)]);
  return move({ [transferableSymbol]: flat.buffer, [valueSymbol]: { loss, grads: flat } }) as unknown as GradientResult;
}
