import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { Piscina } from 'piscina';
import type { CheckpointArchitecture } from '@dmpemu/dmp';
import type { Instance } from '@dmpemu/wireless';
import type { TfModel } from './model.ts';

/** What a gradient worker receives per step: the model (architecture, weight names and shapes, current weights concatenated) and its part of the batch. */
export interface GradientTask {
  architecture: CheckpointArchitecture;
  layout: [name: string, shape: number[]][];
  weights: Float32Array;
  instances: readonly Instance[];
}

/** What it returns: the mean loss on its part and the gradients, concatenated in layout order. */
export interface GradientResult {
  loss: number;
  grads: Float32Array;
}

/**
 * The worker is TypeScript: it runs with tsx's loader, given by absolute URL so that the working
 * directory does not matter (worker threads inherit neither vitest's transform nor tsx/esm/api's register()).
 */
const WORKER = new URL('./gradientWorker.ts', import.meta.url).href;
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** `n` contiguous parts of `items`, sizes differing by at most one; empty parts are left out. */
export function splitBatch<T>(items: readonly T[], n: number): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < n; i++) {
    const a = Math.floor((i * items.length) / n), b = Math.floor(((i + 1) * items.length) / n);
    if (b > a) parts.push(items.slice(a, b));
  }
  return parts;
}

/** The model's weights concatenated (float32), with their names and shapes in the model's order. */
export function flatWeights(m: TfModel): { layout: GradientTask['layout']; weights: Float32Array } {
  const vars = [...m.weights];
  const weights = new Float32Array(vars.reduce((s, [, v]) => s + v.size, 0));
  let o = 0;
  for (const [, v] of vars) {
    weights.set(v.dataSync() as Float32Array, o);
    o += v.size;
  }
  return { layout: vars.map(([name, v]) => [name, [...v.shape]]), weights };
}

/**
 * `n` gradient worker threads (piscina): each loads TF.js once and keeps its own copy of the
 * model; per step every worker gets the current weights and a contiguous part of the batch.
 */
export class GradientPool {
  readonly #pool: Piscina<GradientTask, GradientResult>;

  /** Start `n` workers (they load TF.js on their first task). */
  constructor(readonly n: number) {
    this.#pool = new Piscina({ filename: WORKER, minThreads: n, maxThreads: n, idleTimeout: Infinity, execArgv: ['--import', TSX] });
  }

  /** The loss averaged over `instances` at the model's current weights and its gradient by weight name: the parts' results weighted by part size. */
  async gradients(m: TfModel, instances: readonly Instance[]): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
    const { layout, weights } = flatWeights(m);
    const size = weights.length; // (transferring detaches weights)
    const parts = splitBatch(instances, this.n);
    const copies = parts.map((_, i) => (i === 0 ? weights : weights.slice())); // each worker gets (and detaches) its own copy
    const results = await Promise.all(
      parts.map((part, i) => this.#pool.run({ architecture: m.architecture, layout, weights: copies[i], instances: part }, { transferList: [copies[i].buffer as ArrayBuffer] })),
    );
    const sum = new Float64Array(size);
    let loss = 0;
    results.forEach((r, i) => {
      const f = parts[i].length / instances.length;
      loss += f * r.loss;
      for (let j = 0; j < sum.length; j++) sum[j] += f * r.grads[j];
    });
    const grads = new Map<string, Float32Array>();
    let o = 0;
    for (const [name, shape] of layout) {
      const n = shape.reduce((a, b) => a * b, 1);
      grads.set(name, Float32Array.from(sum.subarray(o, o + n)));
      o += n;
    }
    return { loss, grads };
  }

  /** One training step: the workers' gradients applied by `optimizer` on this thread (its only TF.js math); returns the loss before the step. */
  async step(m: TfModel, instances: readonly Instance[], optimizer: tf.Optimizer): Promise<number> {
    const { loss, grads } = await this.gradients(m, instances);
    const named: tf.NamedTensorMap = {};
    for (const [name, v] of m.weights) named[v.name] = tf.tensor(grads.get(name)!, v.shape); // Adam finds variables by their TF.js name
    optimizer.applyGradients(named);
    tf.dispose(named);
    return loss;
  }

  /** Stop the workers (tasks still running are rejected). */
  close(): Promise<void> {
    return this.#pool.destroy();
  }
}
