import * as tf from '@tensorflow/tfjs';
import { nextTurn, cellFreeMlpWidths, cellFreeMlpWeightShapes, cfPcgnnHeadWidths, cfPcgnnWeightShapes, hetgnnWeightShapes, makeCheckpoint, type CellFreeArchitecture, type CfPcgnnArchitecture, type Checkpoint, type FeatureScaling } from '@dmpemu/dmp';
import { cellFreeTerms, cellFreeV, Rng, type CellFreeInstance } from '@dmpemu/wireless';
import { ensureBackend } from './backend.ts';
import { initVariables } from './model.ts';
import { dense, matMul2d } from './ops.ts';

/**
 * The cell-free models of Table IV (gnn-wireless-theory-to-practice-dmp.md, section VI-B) in
 * TensorFlow.js, batched and dense: CF-PCGNN (eqs. 22-23), HetGNN (eq. 13) and the MLP of its
 * reference [30]; the second implementations of packages/dmp/src/cfPcgnnDmp.ts, hetgnnDmp.ts
 * (per agent, AP and user nodes) and cellFreeMlp.ts, held equal to them by parity tests; trained
 * without labels on a smooth envelope of the max-min objective of eq. (6).
 */
export interface CellFreeModel<A extends CellFreeArchitecture = CellFreeArchitecture> {
  architecture: A;
  weights: Map<string, tf.Variable>;
}
export type CfPcgnnModel = CellFreeModel<CfPcgnnArchitecture>;

/** CF-PCGNN's defaults: 2 layers as the paper sets, users' width 32, output MLP 32 -> 16 -> 1, mean over the users. */
export const CF_PCGNN_DEFAULTS = { layers: 2, hidden: 32, head: [16], aggregation: 'mean' } as const;
/** HetGNN's defaults: 3 layers as the paper sets, width 32, output MLP 32 -> 16 -> 1. */
export const HETGNN_DEFAULTS = { layers: 3, hidden: 32, head: [16], aggregation: 'mean' } as const;
/** The MLP baseline's defaults (its reference [30] does not fix them here): hidden 256, 128. */
export const CF_MLP_DEFAULTS = { hidden: [256, 128] } as const;

/** A batch of cell-free instances of one M and K: scaled inputs and the terms of eq. (5). */
export interface CellFreeBatch {
  B: number;
  M: number;
  K: number;
  /** (10 log10 v_mk - shift) / scale, [B, M, K]: the paper's input (section VI-B). */
  x: tf.Tensor3D;
  /** SINR_k = p_k a_k / (sum_k' F_kk' p_k' + n_k): a, n [B, K], F [B, K, K]. */
  a: tf.Tensor2D;
  F: tf.Tensor3D;
  n: tf.Tensor2D;
}

export function cellFreeBatch(insts: readonly CellFreeInstance[], f: FeatureScaling): CellFreeBatch {
  const { M, K } = insts[0];
  const B = insts.length;
  const x = new Float32Array(B * M * K), a = new Float32Array(B * K), F = new Float32Array(B * K * K), n = new Float32Array(B * K);
  insts.forEach((inst, b) => {
    if (inst.M !== M || inst.K !== K) throw new Error(`cellFreeBatch: instance ${b} has M = ${inst.M}, K = ${inst.K}; the batch has M = ${M}, K = ${K}`);
    const v = cellFreeV(inst);
    for (let i = 0; i < M * K; i++) x[b * M * K + i] = (10 * Math.log10(v[i]) - f.cross.shift) / f.cross.scale;
    // a, F and n span many decades: divided by a_k (the SINR is unchanged), float32 keeps them
    const t = cellFreeTerms(inst, v);
    for (let k = 0; k < K; k++) {
      a[b * K + k] = 1;
      n[b * K + k] = t.n[k] / t.a[k];
      for (let j = 0; j < K; j++) F[(b * K + k) * K + j] = t.F[k * K + j] / t.a[k];
    }
  });
  return { B, M, K, x: tf.tensor3d(x, [B, M, K]), a: tf.tensor2d(a, [B, K]), F: tf.tensor3d(F, [B, K, K]), n: tf.tensor2d(n, [B, K]) };
}

export function disposeCellFreeBatch(d: CellFreeBatch): void {
  for (const t of [d.x, d.a, d.F, d.n]) t.dispose();
}

/** The input scaling fitted on training instances: mean and standard deviation of 10 log10 v_mk. */
export function fitCellFreeScaling(insts: readonly CellFreeInstance[]): FeatureScaling {
  let s = 0, s2 = 0, n = 0;
  for (const inst of insts) for (const u of cellFreeV(inst)) {
    const v = 10 * Math.log10(u);
    s += v;
    s2 += v * v;
    n++;
  }
  const mean = s / n;
  return { transform: 'db', direct: { shift: 0, scale: 1 }, cross: { shift: mean, scale: Math.sqrt(Math.max(s2 / n - mean * mean, 1e-12)) } };
}

export function initCellFree<A extends CellFreeArchitecture>(architecture: A, rng: Rng): CellFreeModel<A> {
  const shapes = architecture.kind === 'cf-pcgnn' ? cfPcgnnWeightShapes(architecture) : architecture.kind === 'hetgnn' ? hetgnnWeightShapes(architecture) : cellFreeMlpWeightShapes(architecture);
  return { architecture, weights: initVariables(shapes, rng) };
}

export function initCfPcgnn(architecture: CfPcgnnArchitecture, rng: Rng): CfPcgnnModel {
  return initCellFree(architecture, rng);
}

/** p_k of any cell-free model, [B, K]. */
export function cellFreeForward(m: CellFreeModel, d: CellFreeBatch): tf.Tensor2D {
  const a = m.architecture;
  if (a.kind === 'cf-pcgnn') return cfPcgnnForward(m as CfPcgnnModel, d);
  if (a.kind === 'hetgnn') return hetgnnForward(m, d);
  // the MLP: every v_mk in, every p_k out
  let x = d.x.reshape([d.B, d.M * d.K]) as tf.Tensor2D;
  const widths = cellFreeMlpWidths(a);
  for (let l = 0; l + 1 < widths.length; l++) x = dense(x, weight(m, `mlp.${l}.kernel`), weight(m, `mlp.${l}.bias`), l + 2 < widths.length);
  return tf.sigmoid(x);
}

function weight(m: CellFreeModel, name: string): tf.Tensor2D {
  const v = m.weights.get(name);
  if (!v) throw new Error(`${m.architecture.kind} model: weight ${name} missing`);
  return v as tf.Tensor2D;
}

/**
 * HetGNN (eq. 13) on the complete bipartite graph: the sum (or mean) over the other type of W d + w v_mk
 * is that of W d plus w times that of v_mk, then ReLU(W_self d + that + b) on each side; users first,
 * both sides from the previous layer's states.
 */
function hetgnnForward(m: CellFreeModel, d: CellFreeBatch): tf.Tensor2D {
  const a = m.architecture as Extract<CellFreeArchitecture, { kind: 'hetgnn' }>, H = a.hidden, { B, M, K } = d;
  const w = (n: string) => weight(m, n);
  const mean = a.aggregation === 'mean';
  const pool = (x: tf.Tensor, axis: number): tf.Tensor => (mean ? tf.mean(x, axis, true) : tf.sum(x, axis, true));
  const vSumUe = pool(d.x, 1).reshape([B * K, 1]) as tf.Tensor2D; // over a user's APs
  const vSumAp = pool(d.x, 2).reshape([B * M, 1]) as tf.Tensor2D; // over an AP's users
  let ue: tf.Tensor2D | undefined, ap: tf.Tensor2D | undefined; // [B K, H], [B M, H]
  for (let t = 0; t < a.layers; t++) {
    let nu = tf.add(matMul2d(vSumUe, w(`layer.${t}.ue.edge.kernel`)), w(`layer.${t}.ue.bias`)) as tf.Tensor2D;
    let na = tf.add(matMul2d(vSumAp, w(`layer.${t}.ap.edge.kernel`)), w(`layer.${t}.ap.bias`)) as tf.Tensor2D;
    if (ue && ap) {
      const fromAps = pool(matMul2d(ap, w(`layer.${t}.ue.neighbour.kernel`)).reshape([B, M, H]), 1); // [B, 1, H]
      const fromUes = pool(matMul2d(ue, w(`layer.${t}.ap.neighbour.kernel`)).reshape([B, K, H]), 1);
      nu = tf.add(tf.add(nu.reshape([B, K, H]), fromAps), matMul2d(ue, w(`layer.${t}.ue.self.kernel`)).reshape([B, K, H])).reshape([B * K, H]) as tf.Tensor2D;
      na = tf.add(tf.add(na.reshape([B, M, H]), fromUes), matMul2d(ap, w(`layer.${t}.ap.self.kernel`)).reshape([B, M, H])).reshape([B * M, H]) as tf.Tensor2D;
    }
    ue = tf.relu(nu);
    ap = tf.relu(na);
  }
  let x = ue!;
  const widths = [H, ...a.head, 1];
  for (let l = 0; l + 1 < widths.length; l++) x = dense(x, w(`head.${l}.kernel`), w(`head.${l}.bias`), l + 2 < widths.length);
  return tf.sigmoid(x).reshape([B, K]);
}

/**
 * p_k, [B, K]:
 *   d_k^(1) = 1/M sum_m ReLU(w_1 x_mk + b)                      (22)
 *   d_k^(t+1) = ReLU(W_2^(t) d_k + A_{k'} W_1^(t) d_k' + b^(t))  (23; A mean or sum over every user)
 *   p_k = sigmoid(MLP(d_k^(T)))
 */
export function cfPcgnnForward(m: CfPcgnnModel, d: CellFreeBatch): tf.Tensor2D {
  const a = m.architecture, H = a.hidden, { B, M, K } = d;
  const w = (name: string): tf.Tensor2D => {
    const v = m.weights.get(name);
    if (!v) throw new Error(`cf-pcgnn model: weight ${name} missing`);
    return v as tf.Tensor2D;
  };
  const h1 = tf.relu(tf.add(tf.mul(d.x.reshape([B, M, K, 1]), w('ap.kernel').reshape([1, 1, 1, H])), w('ap.bias')));
  let x = tf.mean(h1, 1).reshape([B * K, H]) as tf.Tensor2D; // [B K, H]
  for (let t = 1; t < a.layers; t++) {
    const messages = matMul2d(x, w(`layer.${t}.neighbour.kernel`)).reshape([B, K, H]);
    const all = a.aggregation === 'mean' ? tf.mean(messages, 1, true) : tf.sum(messages, 1, true); // [B, 1, H]
    const self = dense(x, w(`layer.${t}.self.kernel`), w(`layer.${t}.bias`), false).reshape([B, K, H]);
    x = tf.relu(tf.add(self, all)).reshape([B * K, H]) as tf.Tensor2D;
  }
  const widths = cfPcgnnHeadWidths(a);
  for (let l = 0; l + 1 < widths.length; l++) x = dense(x, w(`head.${l}.kernel`), w(`head.${l}.bias`), l + 2 < widths.length);
  return tf.sigmoid(x).reshape([B, K]);
}

/**
 * Minus the mean over the batch of a soft minimum of the users' rates,
 * softmin_beta(r) = -(1/beta) log sum_k exp(-beta r_k) (<= min_k r_k, and within log(K)/beta of it):
 * eq. (6)'s minimum is not smooth, which the paper names as what makes its training unstable.
 */
export function negSoftMinRate(p: tf.Tensor2D, d: CellFreeBatch, beta: number): tf.Scalar {
  const interference = tf.add(tf.matMul(d.F, p.reshape([d.B, d.K, 1])).reshape([d.B, d.K]), d.n);
  const rate = tf.div(tf.log1p(tf.div(tf.mul(p, d.a), interference)), Math.LN2);
  const soft = tf.div(tf.logSumExp(tf.mul(rate, -beta), 1), -beta);
  return tf.neg(tf.mean(soft)) as tf.Scalar;
}

export interface TrainCellFreeOptions {
  /** cf-pcgnn (default), hetgnn or the cf-mlp baseline. */
  kind?: CellFreeArchitecture['kind'];
  instances: readonly CellFreeInstance[];
  steps: number;
  batch: number;
  lr: number;
  seed: number | string;
  /** The soft minimum's sharpness, per bit (default 50: within log(K) / 50 of the minimum). */
  beta?: number;
  /** Over the kind's defaults (CF_PCGNN_DEFAULTS, HETGNN_DEFAULTS, CF_MLP_DEFAULTS). */
  architecture?: Record<string, unknown>;
  training?: Record<string, unknown>;
  onStep?: (step: number, loss: number) => void;
}

/** Train a cell-free model with Adam on a fixed set (batches drawn in a seeded shuffled order); returns its checkpoint. */
export async function trainCellFree(o: TrainCellFreeOptions): Promise<Checkpoint<CellFreeArchitecture>> {
  await ensureBackend();
  const kind = o.kind ?? 'cf-pcgnn';
  const rng = new Rng(`${o.seed}/${kind}`);
  const features = fitCellFreeScaling(o.instances);
  const { M, K } = o.instances[0];
  const defaults = kind === 'cf-pcgnn' ? { ...CF_PCGNN_DEFAULTS, head: [...CF_PCGNN_DEFAULTS.head] } : kind === 'hetgnn' ? { ...HETGNN_DEFAULTS, head: [...HETGNN_DEFAULTS.head] } : { M, K, hidden: [...CF_MLP_DEFAULTS.hidden] };
  const architecture = { kind, task: 'power', ...defaults, ...o.architecture, features } as CellFreeArchitecture;
  const model = initCellFree(architecture, rng);
  const optimizer = tf.train.adam(o.lr);
  const beta = o.beta ?? 50;
  const order = Array.from(o.instances.keys());
  let cursor = order.length;
  try {
    for (let step = 1; step <= o.steps; step++) {
      const batch: CellFreeInstance[] = [];
      while (batch.length < o.batch) {
        if (cursor === order.length) {
          for (let i = order.length - 1; i > 0; i--) {
            const j = rng.int(i + 1);
            [order[i], order[j]] = [order[j], order[i]];
          }
          cursor = 0;
        }
        batch.push(o.instances[order[cursor++]]);
      }
      const d = cellFreeBatch(batch, features);
      const loss = optimizer.minimize(() => negSoftMinRate(cellFreeForward(model, d), d, beta), true, [...model.weights.values()])!;
      const value = (await loss.data())[0];
      loss.dispose();
      disposeCellFreeBatch(d);
      o.onStep?.(step, value);
      await nextTurn();
    }
    const weights: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [name, v] of model.weights) weights[name] = { shape: [...v.shape], data: Float32Array.from(v.dataSync() as Float32Array) };
    return makeCheckpoint({
      architecture: structuredClone(architecture),
      weights,
      training: { ...o.training, steps: o.steps, batch: o.batch, lr: o.lr, seed: o.seed, optimizer: 'adam', loss: `soft minimum of the users' rates, beta = ${beta} per bit`, trainingSetSize: o.instances.length, samplesSeen: o.steps * o.batch },
      metrics: {},
    });
  } finally {
    optimizer.dispose();
    for (const v of model.weights.values()) v.dispose();
  }
}

/** A CF-PCGNN: trainCellFree of kind cf-pcgnn. */
export async function trainCfPcgnn(o: Omit<TrainCellFreeOptions, 'kind'>): Promise<Checkpoint<CfPcgnnArchitecture>> {
  return (await trainCellFree({ ...o, kind: 'cf-pcgnn' })) as Checkpoint<CfPcgnnArchitecture>;
}
