import * as tf from '@tensorflow/tfjs';
import { assertArchitecture, assertCheckpoint, transformGain, uwmmseShiftEntry, uwmmseWeightShapes, UWMMSE_PSI, validateUwmmse, verifyCheckpoint, type Checkpoint, type FeatureScaling, type UwmmseArchitecture } from '@dmpemu/dmp';
import { knowsEdge, type Instance, type Rng } from '@dmpemu/wireless';
import type { DenseBatch } from './batch.ts';
import { initVariables, variablesOf, weightOf, type TfModel } from './model.ts';

/**
 * UWMMSE (Chowdhury et al., IEEE TWC 2021) in TensorFlow.js, batched and dense: the second
 * implementation of packages/dmp/src/uwmmseDmp.ts, held equal to it by a parity test.
 */
export type UwmmseModel = TfModel<UwmmseArchitecture>;

/** Glorot-uniform kernels and zero biases, drawn from `rng` in uwmmseWeightShapes order. */
export function initUwmmse(architecture: UwmmseArchitecture, rng: Rng): UwmmseModel {
  assertArchitecture(architecture, 'uwmmse model', 'uwmmse');
  return { architecture, weights: initVariables(uwmmseWeightShapes(architecture), rng) };
}

/** Variables from a UWMMSE checkpoint (kind and hash verified, shapes checked). */
export function uwmmseFromCheckpoint(c: Checkpoint): UwmmseModel {
  assertCheckpoint(c, 'uwmmse checkpoint', 'uwmmse');
  verifyCheckpoint(c);
  validateUwmmse(c);
  return { architecture: structuredClone(c.architecture), weights: variablesOf(c) };
}

/**
 * The GCNs' graph shift S of a batch, built as every agent builds its row (uwmmseShiftEntry):
 * `diag` [B, K] = S_kk, `off` [B, K, K] = S_kj (transmitter k to receiver j) where agent k knows the
 * edge (j, k), else 0.
 */
export interface UwmmseShift {
  diag: tf.Tensor2D;
  off: tf.Tensor3D;
}

export function uwmmseShift(instances: readonly Instance[], a: Pick<UwmmseArchitecture, 'features'>): UwmmseShift {
  const B = instances.length, K = instances[0].K;
  const diag = new Float32Array(B * K), off = new Float32Array(B * K * K);
  instances.forEach((inst, b) => {
    const { gain, noise, pmax } = inst;
    for (let k = 0; k < K; k++) {
      diag[b * K + k] = uwmmseShiftEntry(gain[k * K + k], noise, pmax, 'direct', a);
      for (let j = 0; j < K; j++) if (j !== k && knowsEdge(inst, j, k)) off[(b * K + k) * K + j] = uwmmseShiftEntry(gain[k * K + j], noise, pmax, 'cross', a);
    }
  });
  return { diag: tf.tensor2d(diag, [B, K]), off: tf.tensor3d(off, [B, K, K]) };
}

/**
 * Psi(S; theta): Z1 = ReLU(diag(S) 1 Theta_0 + S 1 Theta_1 + b), a = sigmoid(diag(S) Z1 Theta_0' + S Z1 Theta_1' + b'),
 * S 1 and S Z1 with the diagonal (the authors multiply by H itself), [B, K].
 */
function psi(m: UwmmseModel, name: string, s: UwmmseShift, B: number, K: number): tf.Tensor2D {
  const F = m.architecture.gcnHidden;
  const w = (n: string): tf.Tensor => weightOf(m, `${name}.${n}`, 'uwmmse model');
  const sd = s.diag.reshape([B, K, 1]);
  const rowSum = tf.add(sd, tf.sum(s.off, 2, true)); // [S 1]_k
  const z1 = tf.relu(tf.add(tf.add(tf.mul(sd, w('0.diag').reshape([1, 1, F])), tf.mul(rowSum, w('0.shift').reshape([1, 1, F]))), w('0.bias'))) as tf.Tensor3D;
  const self = tf.mul(sd, z1) as tf.Tensor3D; // diag(S) Z1
  const shifted = tf.add(self, tf.matMul(s.off, z1)); // S Z1
  const y = tf.add(tf.add(tf.matMul(self.reshape([B * K, F]), w('1.diag') as tf.Tensor2D), tf.matMul(shifted.reshape([B * K, F]), w('1.shift') as tf.Tensor2D)), w('1.bias'));
  return tf.sigmoid(y).reshape([B, K]);
}

/**
 * p_k / Pmax, [B, K]: the L unrolled iterations, with gains in units of the noise (u scales by
 * sigma, the v-update is unit-free), sums over k and the neighbours it knows:
 *   u_k = g_kk v_k / (1 + I_k + g_kk^2 v_k^2),  I_k = sum_{j in N(k)} g_jk^2 v_j^2
 *   w_k = a_k alpha_k (1 + I_k + g_kk^2 v_k^2) / (1 + I_k) + b_k              (= a alpha / (1 - u g v) + b)
 *   v_k = min(ReLU(g_kk u_k w_k / (sum_{j in N(k)} g_kj^2 u_j^2 w_j + g_kk^2 u_k^2 w_k)), sqrt(Pmax))
 * from v = sqrt(Pmax). Intermediates are left to the caller's tf.tidy.
 */
export function uwmmseForward(m: UwmmseModel, d: DenseBatch, s: UwmmseShift): tf.Tensor2D {
  const { B, K } = d;
  const mask = d.mask.reshape([B, K, K]);
  const inU = tf.mul(tf.transpose(d.cross2, [0, 2, 1]), mask) as tf.Tensor3D; // [b, k, j] = g_jk^2 for j in N(k)
  const inV = tf.mul(d.cross2, mask) as tf.Tensor3D; // [b, k, j] = g_kj^2 for j in N(k)
  const g = tf.sqrt(d.direct2);
  const vmax = tf.sqrt(d.pmax);
  let v = tf.mul(tf.onesLike(g), vmax) as tf.Tensor2D;
  const column = (x: tf.Tensor): tf.Tensor3D => x.reshape([B, K, 1]);
  for (let l = 0; l < m.architecture.layers; l++) {
    const [a, b] = UWMMSE_PSI.map((p) => psi(m, `layer.${l}.${p}`, s, B, K));
    const v2 = tf.square(v);
    const quiet = tf.add(1, tf.matMul(inU, column(v2)).reshape([B, K]));
    const received = tf.add(quiet, tf.mul(d.direct2, v2));
    const u = tf.div(tf.mul(g, v), received);
    const w = tf.add(tf.mul(a, tf.div(tf.mul(d.weights, received), quiet)), b);
    const c = tf.mul(tf.square(u), w);
    const denominator = tf.add(tf.matMul(inV, column(c)).reshape([B, K]), tf.mul(d.direct2, c));
    v = tf.minimum(tf.relu(tf.div(tf.mul(tf.mul(g, u), w), denominator)), vmax) as tf.Tensor2D;
  }
  return tf.div(tf.square(v), d.pmax) as tf.Tensor2D;
}

/**
 * The graph shift's normalisation fitted on training data: T(g sqrt(Pmax / sigma^2)) over the
 * direct channels and, separately, the known cross channels g_kj, with T = log10(1 + x^2) (`log1p`)
 * or the identity (`linear`); shift 0 (an absent edge stays 0), scale the root mean square.
 */
export function fitUwmmseScaling(instances: readonly Instance[], transform: FeatureScaling['transform']): FeatureScaling {
  if (transform !== 'log1p' && transform !== 'linear') throw new Error(`uwmmse: features must be log1p or linear (the graph shift is an edge weight), got ${transform}`);
  const acc = { direct: [0, 0], cross: [0, 0] };
  const add = (a: number[], g: number, noise: number, pmax: number): void => {
    const t = transformGain(g * Math.sqrt(pmax / noise), transform);
    a[0]++;
    a[1] += t * t;
  };
  for (const inst of instances) {
    const { K, gain, noise, pmax } = inst;
    for (let k = 0; k < K; k++) {
      add(acc.direct, gain[k * K + k], noise, pmax);
      for (let j = 0; j < K; j++) if (j !== k && knowsEdge(inst, j, k)) add(acc.cross, gain[k * K + j], noise, pmax);
    }
  }
  const rms = ([n, s2]: number[]): { shift: number; scale: number } => ({ shift: 0, scale: n > 0 ? Math.sqrt(s2 / n) || 1 : 1 });
  return { transform, direct: rms(acc.direct), cross: rms(acc.cross) };
}
