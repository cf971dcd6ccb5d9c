import * as tf from '@tensorflow/tfjs';
import type { Checkpoint, FeatureScaling, WcgcnArchitecture } from '@dmpemu/dmp';
import { Rng, type Instance } from '@dmpemu/wireless';
import { ensureBackend } from './backend.ts';
import { denseBatch, disposeBatch } from './batch.ts';
import { fitFeatureScaling } from './features.ts';
import { negWeightedSumRate } from './loss.ts';
import { disposeWcgcn, fromCheckpoint, initWcgcn, toCheckpoint, wcgcnForward, type WcgcnModel } from './wcgcn.ts';

/** The paper's setting (section V): 3 layers, MLP1 {5, 32, 32}, MLP2 {35, 16, 1}, max aggregation. */
export const WCGCN_DEFAULTS = { layers: 3, mlp1: [5, 32, 32], mlp2: [35, 16, 1], aggregation: 'max', mlp1Output: 'relu' } as const;

export interface TrainStep {
  step: number;
  loss: number;
  /** This step's training throughput (batch building included). */
  samplesPerSecond: number;
}

export interface TrainOptions {
  /** A fixed training set (cycled through in a seeded shuffled order)... */
  instances?: readonly Instance[];
  /** ...or fresh instances drawn per batch. All instances of a batch share K. */
  generator?: (rng: Rng) => Instance;
  steps: number;
  batch: number;
  seed: number | string;
  architecture?: Partial<Pick<WcgcnArchitecture, 'layers' | 'mlp1' | 'mlp2' | 'aggregation' | 'mlp1Output'>>;
  /** Input normalisation: given, or fitted (fitFeatureScaling) with this transform. Default `db`. */
  features?: FeatureScaling | FeatureScaling['transform'];
  /** Adam learning rate (1e-3 as in the paper). */
  lr?: number;
  /** Continue from a checkpoint (its architecture and weights) instead of a fresh initialisation. */
  init?: Checkpoint;
  /** Extra provenance recorded in the checkpoint (scenario, model options...). */
  training?: Record<string, unknown>;
  onStep?: (s: TrainStep) => void;
  /** Every `every` steps (and at the end), a checkpoint of the model so far (validation, saving). */
  every?: number;
  onCheckpoint?: (c: Checkpoint, stepsDone: number) => void | Promise<void>;
  /** Stop early when aborted; the checkpoint returned holds the steps done so far. */
  signal?: AbortSignal;
}

function batchSource(o: TrainOptions, rng: Rng): () => Instance[] {
  if (o.instances && o.instances.length > 0) {
    const set = o.instances;
    let order: number[] = [];
    return () =>
      Array.from({ length: o.batch }, () => {
        if (order.length === 0) {
          order = Array.from(set.keys());
          for (let i = order.length - 1; i > 0; i--) {
            const r = rng.int(i + 1);
            [order[i], order[r]] = [order[r], order[i]];
          }
        }
        return set[order.pop()!];
      });
  }
  const gen = o.generator;
  if (!gen) throw new Error('train: give instances (non-empty) or a generator');
  return () => Array.from({ length: o.batch }, () => gen(rng));
}

/**
 * Unsupervised training of the WCGCN on minus the weighted sum rate (section V), Adam, on the
 * fastest TensorFlow.js backend that loads. Returns the checkpoint (weights, provenance, metrics).
 */
export async function train(o: TrainOptions): Promise<Checkpoint> {
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new Error(`train: steps must be a positive integer, got ${o.steps}`);
  if (!Number.isInteger(o.batch) || o.batch < 1) throw new Error(`train: batch must be a positive integer, got ${o.batch}`);
  const backend = await ensureBackend();
  const lr = o.lr ?? 1e-3;
  const next = batchSource(o, Rng.derive(o.seed, 'data'));
  let model: WcgcnModel;
  if (o.init) model = fromCheckpoint(o.init);
  else {
    const f = o.features ?? 'db';
    const fitRng = Rng.derive(o.seed, 'features');
    const fitSet = o.instances && o.instances.length > 0 ? o.instances : Array.from({ length: Math.max(o.batch, 16) }, () => o.generator!(fitRng));
    const features = typeof f === 'string' ? fitFeatureScaling(fitSet, f) : f;
    model = initWcgcn({ kind: 'wcgcn', task: 'power', ...WCGCN_DEFAULTS, ...o.architecture, features } as WcgcnArchitecture, Rng.derive(o.seed, 'init'));
  }
  const optimizer = tf.train.adam(lr);
  const vars = [...model.weights.values()];
  const losses: number[] = [];
  let K = 0;
  const t0 = performance.now();
  try {
    const stepsBefore = Number(o.init?.training.steps ?? 0);
    const snapshot = (done: number, seconds: number): Checkpoint => {
      const tail = losses.slice(-Math.min(10, losses.length));
      return toCheckpoint(model, {
        training: { ...o.training, seed: o.seed, steps: stepsBefore + done, batch: o.batch, lr, optimizer: 'adam', backend, samples: (stepsBefore + done) * o.batch, K },
        metrics: { initialLoss: losses[0], finalLoss: tail.reduce((a, b) => a + b, 0) / tail.length, seconds, samplesPerSecond: (done * o.batch) / seconds },
      });
    };
    let done = 0;
    for (let step = 0; step < o.steps && !o.signal?.aborted; step++) {
      const s0 = performance.now();
      const d = denseBatch(next(), model.architecture.features);
      K = d.K;
      const loss = optimizer.minimize(() => negWeightedSumRate(wcgcnForward(model, d), d), true, vars)!;
      const value = (await loss.data())[0];
      tf.dispose(loss);
      disposeBatch(d);
      if (!Number.isFinite(value)) throw new Error(`train: loss is ${value} at step ${step}`);
      losses.push(value);
      o.onStep?.({ step, loss: value, samplesPerSecond: o.batch / ((performance.now() - s0) / 1000) });
      done = step + 1;
      if (o.every && o.onCheckpoint && done % o.every === 0 && done < o.steps) await o.onCheckpoint(snapshot(done, (performance.now() - t0) / 1000), done);
    }
    const final = snapshot(done, (performance.now() - t0) / 1000);
    await o.onCheckpoint?.(final, done);
    return final;
  } finally {
    optimizer.dispose();
    disposeWcgcn(model);
  }
}
