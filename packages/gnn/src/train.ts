import * as tf from '@tensorflow/tfjs';
import { nextTurn, type ArchitectureOf, type Checkpoint, type CheckpointArchitecture, type FeatureScaling } from '@dmpemu/dmp';
import { isMiso, Rng, type Instance } from '@dmpemu/wireless';
import { ensureBackend } from './backend.ts';
import { fitFeatureScaling } from './features.ts';
import { modelKindImpl, type ModelKind } from './kinds.ts';
import { disposeModel, toCheckpoint, type TfModel } from './model.ts';
import { adamState, restoreAdamState, type AdamState } from './adamState.ts';
import { GradientPool } from './parallel.ts';

/** What a caller may choose of an architecture of that kind (train sets kind, task and features). */
export type ArchitectureOptions<K extends ModelKind> = Partial<Omit<ArchitectureOf<K>, 'kind' | 'task' | 'features'>>;

export interface TrainStep {
  step: number;
  loss: number;
  /** This step's training throughput (batch building included). */
  samplesPerSecond: number;
}

export interface TrainOptions<K extends ModelKind = 'wcgcn'> {
  /** The architecture to train: `wcgcn` (default), `pcgnn`, `ecgnn`, `uwmmse`, or the centralized `mlp` baseline. */
  kind?: K;
  /** A fixed training set (cycled through in a seeded shuffled order)... */
  instances?: readonly Instance[];
  /** ...or fresh instances drawn per batch. All instances of a batch share K. */
  generator?: (rng: Rng) => Instance;
  steps: number;
  batch: number;
  seed: number | string;
  /** Architecture choices over the kind's defaults (WCGCN_DEFAULTS, PCGNN_DEFAULTS, ECGNN_DEFAULTS, MLP_DEFAULTS). */
  architecture?: ArchitectureOptions<K>;
  /** Input normalisation: given, or fitted (fitFeatureScaling; a uwmmse's fitUwmmseScaling) with this transform. Default `db` (`log1p` for MISO beamforming and a uwmmse's graph shift). */
  features?: FeatureScaling | FeatureScaling['transform'];
  /** Adam learning rate (1e-3 as in the paper). */
  lr?: number;
  /** Continue from a checkpoint (its architecture and weights) instead of a fresh initialisation; it must be of `kind` (default wcgcn). */
  init?: Checkpoint;
  /** Extra provenance recorded in the checkpoint (scenario, model options...). */
  training?: Record<string, unknown>;
  onStep?: (s: TrainStep) => void;
  /** With `init`: Adam's state when that checkpoint was written (from onCheckpoint), so the optimisation continues instead of restarting its moments. */
  adam?: AdamState;
  /** Every `every` steps (counted from the first step of init's training: a resumed run keeps the multiples) and at the end, a checkpoint of the model so far (validation, saving) and Adam's state then. */
  every?: number;
  onCheckpoint?: (c: Checkpoint<ArchitectureOf<K>>, stepsDone: number, adam: AdamState | undefined) => void | Promise<void>;
  /** Stop early when aborted; the checkpoint returned holds the steps done so far. */
  signal?: AbortSignal;
  /** Gradient worker threads: with n >= 2 each step's batch is split in n parts whose gradients are computed in parallel (parallel.ts); 1 (default) = in process. */
  workers?: number;
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
 * TensorFlow.js backend that loads, of a WCGCN (default), a PCGNN, an ECGNN, a UWMMSE or the MLP baseline
 * (`kind`). Returns the checkpoint (weights, provenance, metrics).
 */
export async function train<K extends ModelKind = 'wcgcn'>(o: TrainOptions<K>): Promise<Checkpoint<ArchitectureOf<NoInfer<K>>>> {
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new Error(`train: steps must be a positive integer, got ${o.steps}`);
  if (!Number.isInteger(o.batch) || o.batch < 1) throw new Error(`train: batch must be a positive integer, got ${o.batch}`);
  const workers = o.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`train: workers must be a positive integer (1 = in process, n >= 2 = n gradient worker threads), got ${workers}`);
  const kind: ModelKind = o.kind ?? 'wcgcn';
  if (o.init && o.init.architecture.kind !== kind) {
    throw new Error(`train: the init checkpoint is a ${JSON.stringify(o.init.architecture.kind)}, kind is ${JSON.stringify(kind)}${o.kind === undefined ? ' (the default)' : ''}: pass kind ${JSON.stringify(o.init.architecture.kind)}`);
  }
  const impl = modelKindImpl(kind);
  const backend = await ensureBackend();
  const lr = o.lr ?? 1e-3;
  const next = batchSource(o as TrainOptions<ModelKind>, Rng.derive(o.seed, 'data'));
  let model: TfModel;
  if (o.init) model = impl.fromCheckpoint(o.init);
  else {
    const fitRng = Rng.derive(o.seed, 'features');
    const fitSet = o.instances && o.instances.length > 0 ? o.instances : Array.from({ length: Math.max(o.batch, 16) }, () => o.generator!(fitRng));
    const f = o.features ?? impl.features?.transform ?? (isMiso(fitSet[0]) ? 'log1p' : 'db');
    const fitted = typeof f === 'string' ? (impl.features?.fit ?? fitFeatureScaling)(fitSet, f) : f;
    const features = { ...fitted, ...impl.fitExtra?.({ ...o.architecture }, fitSet) };
    model = impl.create({ ...o.architecture }, features, fitSet[0], Rng.derive(o.seed, 'init'));
  }
  const optimizer = tf.train.adam(lr);
  const vars = [...model.weights.values()];
  if (o.adam) {
    if (!o.init) throw new Error('train: adam (an optimizer state) needs init (the checkpoint it belongs to)');
    await restoreAdamState(optimizer, vars, model, o.adam);
  }
  const losses: number[] = [];
  let K = 0;
  const t0 = performance.now();
  const pool = workers >= 2 ? new GradientPool(workers) : undefined;
  try {
    const stepsBefore = Number(o.init?.training.steps ?? 0);
    const snapshot = (done: number, seconds: number): Checkpoint<ArchitectureOf<K>> => {
      const tail = losses.slice(-Math.min(10, losses.length));
      return toCheckpoint(model, {
        training: { ...o.training, seed: o.seed, steps: stepsBefore + done, batch: o.batch, lr, optimizer: 'adam', backend, workers, samplesSeen: (stepsBefore + done) * o.batch, K },
        metrics: { initialLoss: losses[0], finalLoss: tail.reduce((a, b) => a + b, 0) / tail.length, seconds, samplesPerSecond: (done * o.batch) / seconds },
      }) as Checkpoint<CheckpointArchitecture> as Checkpoint<ArchitectureOf<K>>;
    };
    let done = 0;
    for (let step = 0; step < o.steps && !o.signal?.aborted; step++) {
      await nextTurn();
      if (o.signal?.aborted) break;
      const s0 = performance.now();
      const instances = next();
      K = instances[0].K;
      let value: number;
      if (pool) value = await pool.step(model, instances, optimizer);
      else {
        const loss = optimizer.minimize(() => impl.loss(model, instances), true, vars)!;
        value = (await loss.data())[0];
        tf.dispose(loss);
      }
      if (!Number.isFinite(value)) throw new Error(`training diverged: the loss is ${value} at step ${stepsBefore + step + 1} (a lower learning rate than ${lr} may help)`);
      losses.push(value);
      o.onStep?.({ step, loss: value, samplesPerSecond: o.batch / ((performance.now() - s0) / 1000) });
      done = step + 1;
      if (o.every && o.onCheckpoint && (stepsBefore + done) % o.every === 0 && done < o.steps) await o.onCheckpoint(snapshot(done, (performance.now() - t0) / 1000), done, await adamState(optimizer, model));
    }
    const final = snapshot(done, (performance.now() - t0) / 1000);
    if (o.onCheckpoint) await o.onCheckpoint(final, done, await adamState(optimizer, model));
    return final;
  } finally {
    await pool?.close();
    optimizer.dispose();
    disposeModel(model);
  }
}
