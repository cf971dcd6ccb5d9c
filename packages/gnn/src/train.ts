import * as tf from '@tensorflow/tfjs';
import type { ArchitectureKind, ArchitectureOf, Checkpoint, CheckpointArchitecture, FeatureScaling, MlpArchitecture, PcgnnArchitecture, WcgcnArchitecture } from '@dmpemu/dmp';
import { Rng, type Instance } from '@dmpemu/wireless';
import { ensureBackend } from './backend.ts';
import { denseBatch, disposeBatch, type DenseBatch } from './batch.ts';
import { fitFeatureScaling } from './features.ts';
import { negWeightedSumRate } from './loss.ts';
import { initMlp, mlpForward, mlpFromCheckpoint, type MlpModel } from './mlp.ts';
import { disposeModel, toCheckpoint, type TfModel } from './model.ts';
import { initPcgnn, pcgnnForward, pcgnnFromCheckpoint, type PcgnnModel } from './pcgnn.ts';
import { fromCheckpoint, initWcgcn, wcgcnForward, type WcgcnModel } from './wcgcn.ts';

/** The paper's setting (section V): 3 layers, MLP1 {5, 32, 32}, MLP2 {35, 16, 1}, max aggregation. */
export const WCGCN_DEFAULTS = { layers: 3, mlp1: [5, 32, 32], mlp2: [35, 16, 1], aggregation: 'max', mlp1Output: 'relu' } as const;
/**
 * PCGNN (eqs. 20-21): 2 layers and max aggregation as in section VI-A of the DMP paper; the widths
 * are not given there: ours are H = 32 (as WCGCN's messages), an edge embedding of 16 and one
 * hidden layer of 16 in the output MLP.
 */
export const PCGNN_DEFAULTS = { layers: 2, hidden: 32, edgeEmbedding: 16, head: [16], aggregation: 'max' } as const;
/** The MLP baseline: PCNet's hidden layers 200, 80, 80 (ReLU); K from the training data. */
export const MLP_DEFAULTS = { hidden: [200, 80, 80] } as const;

/** The architectures train() trains. */
export type ModelKind = ArchitectureKind;
/** What a caller may choose of an architecture of that kind (train sets kind, task and features). */
export type ArchitectureOptions<K extends ModelKind> = Partial<Omit<ArchitectureOf<K>, 'kind' | 'task' | 'features'>>;

/** How train() builds, restores and runs each kind of model. */
interface ModelKindImpl {
  /** A fresh model: defaults, then the caller's options, then the fitted features (K for an MLP from `sample`). */
  create(options: Record<string, unknown>, features: FeatureScaling, sample: Instance, rng: Rng): TfModel;
  fromCheckpoint(c: Checkpoint): TfModel;
  forward(m: TfModel, d: DenseBatch): tf.Tensor2D;
  /** Whether the batch needs the MLP baseline's input. */
  mlpInput: boolean;
}

const KINDS: Record<ModelKind, ModelKindImpl> = {
  wcgcn: {
    create: (o, features, _s, rng) => initWcgcn({ kind: 'wcgcn', task: 'power', ...WCGCN_DEFAULTS, ...o, features } as unknown as WcgcnArchitecture, rng),
    fromCheckpoint,
    forward: (m, d) => wcgcnForward(m as WcgcnModel, d),
    mlpInput: false,
  },
  pcgnn: {
    create: (o, features, _s, rng) => initPcgnn({ kind: 'pcgnn', task: 'power', ...PCGNN_DEFAULTS, ...o, features } as unknown as PcgnnArchitecture, rng),
    fromCheckpoint: pcgnnFromCheckpoint,
    forward: (m, d) => pcgnnForward(m as PcgnnModel, d),
    mlpInput: false,
  },
  mlp: {
    create: (o, features, sample, rng) => initMlp({ kind: 'mlp', task: 'power', K: sample.K, ...MLP_DEFAULTS, ...o, features } as unknown as MlpArchitecture, rng),
    fromCheckpoint: mlpFromCheckpoint,
    forward: (m, d) => mlpForward(m as MlpModel, d),
    mlpInput: true,
  },
};

export interface TrainStep {
  step: number;
  loss: number;
  /** This step's training throughput (batch building included). */
  samplesPerSecond: number;
}

export interface TrainOptions<K extends ModelKind = 'wcgcn'> {
  /** The architecture to train: `wcgcn` (default), `pcgnn`, or the centralized `mlp` baseline. */
  kind?: K;
  /** A fixed training set (cycled through in a seeded shuffled order)... */
  instances?: readonly Instance[];
  /** ...or fresh instances drawn per batch. All instances of a batch share K. */
  generator?: (rng: Rng) => Instance;
  steps: number;
  batch: number;
  seed: number | string;
  /** Architecture choices over the kind's defaults (WCGCN_DEFAULTS, PCGNN_DEFAULTS, MLP_DEFAULTS). */
  architecture?: ArchitectureOptions<K>;
  /** Input normalisation: given, or fitted (fitFeatureScaling) with this transform. Default `db`. */
  features?: FeatureScaling | FeatureScaling['transform'];
  /** Adam learning rate (1e-3 as in the paper). */
  lr?: number;
  /** Continue from a checkpoint (its architecture and weights) instead of a fresh initialisation; it must be of `kind` (default wcgcn). */
  init?: Checkpoint;
  /** Extra provenance recorded in the checkpoint (scenario, model options...). */
  training?: Record<string, unknown>;
  onStep?: (s: TrainStep) => void;
  /** Every `every` steps (and at the end), a checkpoint of the model so far (validation, saving). */
  every?: number;
  onCheckpoint?: (c: Checkpoint<ArchitectureOf<K>>, stepsDone: number) => void | Promise<void>;
  /** Stop early when aborted; the checkpoint returned holds the steps done so far. */
  signal?: AbortSignal;
}

function batchSource(o: TrainOptions<ModelKind>, rng: Rng): () => Instance[] {
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
 * Unsupervised training on minus the weighted sum rate (section V), Adam, on the fastest
 * TensorFlow.js backend that loads, of a WCGCN (default), a PCGNN or the MLP baseline
 * (`kind`). Returns the checkpoint (weights, provenance, metrics).
 */
export async function train<K extends ModelKind = 'wcgcn'>(o: TrainOptions<K>): Promise<Checkpoint<ArchitectureOf<NoInfer<K>>>> {
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new Error(`train: steps must be a positive integer, got ${o.steps}`);
  if (!Number.isInteger(o.batch) || o.batch < 1) throw new Error(`train: batch must be a positive integer, got ${o.batch}`);
  const kind: ModelKind = o.kind ?? 'wcgcn';
  if (o.init && o.init.architecture.kind !== kind) {
    throw new Error(`train: the init checkpoint is a ${JSON.stringify(o.init.architecture.kind)}, kind is ${JSON.stringify(kind)}${o.kind === undefined ? ' (the default)' : ''}: pass kind ${JSON.stringify(o.init.architecture.kind)}`);
  }
  const impl = KINDS[kind];
  if (impl === undefined) throw new Error(`train: kind must be one of ${Object.keys(KINDS).join(', ')}, got ${JSON.stringify(kind)}`);
  const backend = await ensureBackend();
  const lr = o.lr ?? 1e-3;
  const next = batchSource(o as TrainOptions<ModelKind>, Rng.derive(o.seed, 'data'));
  let model: TfModel;
  if (o.init) model = impl.fromCheckpoint(o.init);
  else {
    const f = o.features ?? 'db';
    const fitRng = Rng.derive(o.seed, 'features');
    const fitSet = o.instances && o.instances.length > 0 ? o.instances : Array.from({ length: Math.max(o.batch, 16) }, () => o.generator!(fitRng));
    const features = typeof f === 'string' ? fitFeatureScaling(fitSet, f) : f;
    model = impl.create({ ...o.architecture }, features, fitSet[0], Rng.derive(o.seed, 'init'));
  }
  const optimizer = tf.train.adam(lr);
  const vars = [...model.weights.values()];
  const losses: number[] = [];
  let K = 0;
  const t0 = performance.now();
  try {
    const stepsBefore = Number(o.init?.training.steps ?? 0);
    const snapshot = (done: number, seconds: number): Checkpoint<ArchitectureOf<K>> => {
      const tail = losses.slice(-Math.min(10, losses.length));
      return toCheckpoint(model, {
        training: { ...o.training, seed: o.seed, steps: stepsBefore + done, batch: o.batch, lr, optimizer: 'adam', backend, samples: (stepsBefore + done) * o.batch, K },
        metrics: { initialLoss: losses[0], finalLoss: tail.reduce((a, b) => a + b, 0) / tail.length, seconds, samplesPerSecond: (done * o.batch) / seconds },
      }) as Checkpoint<CheckpointArchitecture> as Checkpoint<ArchitectureOf<K>>;
    };
    let done = 0;
    for (let step = 0; step < o.steps && !o.signal?.aborted; step++) {
      const s0 = performance.now();
      const d = denseBatch(next(), model.architecture.features, { mlpInput: impl.mlpInput });
      K = d.K;
      let loss: tf.Scalar;
      try {
        loss = optimizer.minimize(() => negWeightedSumRate(impl.forward(model, d), d), true, vars)!;
      } finally {
        disposeBatch(d);
      }
      const value = (await loss.data())[0];
      tf.dispose(loss);
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
    disposeModel(model);
  }
}
