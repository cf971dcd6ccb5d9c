import * as tf from '@tensorflow/tfjs';
import {
  assertCheckpoint,
  regnnInputWidth,
  regnnShiftEntry,
  regnnWeightShapes,
  validateRegnn,
  verifyCheckpoint,
  type Checkpoint,
  type FeatureScaling,
  type RegnnArchitecture,
} from '@dmpemu/dmp';
import { knowsEdge, type Instance, type Rng } from '@dmpemu/wireless';
import { disposeModel, initVariables, variablesOf, weightOf, type TfModel } from './model.ts';
import { matMul2d } from './ops.ts';

/**
 * The REGNN of eqs. 12-14 (regnn-primal-dual.md) in TensorFlow.js, batched and dense: the second
 * implementation of packages/dmp/src/regnnDmp.ts (the per-agent one, where H, its indexing and its
 * normalisation are explained), held equal to it by a parity test.
 */
export type RegnnModel = TfModel<RegnnArchitecture>;

/** Section VI-A: L = 8 layers of F_l = 1 filter of length K_l = 5, ReLU; p0 = 4 as in the authors' code (defined with the architectures in @dmpemu/dmp). */
export { REGNN_DEFAULTS } from '@dmpemu/dmp';

/**
 * Glorot-uniform taps drawn from `rng` (initVariables), hidden biases 0.1 (the authors' code's
 * constant: a layer whose taps all come out negative still passes a signal), the logit's bias 0.
 */
export function initRegnn(architecture: RegnnArchitecture, rng: Rng): RegnnModel {
  const weights = initVariables(regnnWeightShapes(architecture), rng);
  for (let l = 0; l + 1 < architecture.layers; l++) weights.get(`layer.${l}.bias`)!.assign(tf.fill([architecture.widths[l]], 0.1));
  return { architecture, weights };
}

/** Variables from a REGNN checkpoint (kind and hash verified, shapes checked). */
export function regnnFromCheckpoint(c: Checkpoint): RegnnModel {
  assertCheckpoint(c, 'regnn checkpoint', 'regnn');
  verifyCheckpoint(c);
  validateRegnn(c);
  return { architecture: structuredClone(c.architecture), weights: variablesOf(c) };
}

export function disposeRegnn(m: RegnnModel): void {
  disposeModel(m);
}

/**
 * B instances of m pairs for the REGNN: `S` [B, m, m] with S[b, k, j] = H_kj, the weight agent k
 * gives z_j in [H z]_k (self loop h_kk, and h_kj or h_jk by `shift` where agent k knows the edge
 * (j, k), else 0), and its transpose `St` for the gradient.
 */
export interface RegnnBatch {
  B: number;
  K: number;
  S: tf.Tensor3D;
  St: tf.Tensor3D;
}

export function regnnBatch(instances: readonly Instance[], a: Pick<RegnnArchitecture, 'p0' | 'shift' | 'features'>): RegnnBatch {
  const B = instances.length;
  if (B === 0) throw new Error('regnnBatch: no instances');
  const K = instances[0].K;
  const S = new Float32Array(B * K * K);
  const St = new Float32Array(B * K * K);
  instances.forEach((inst, b) => {
    if (inst.K !== K) throw new Error(`regnnBatch: instance ${b} has K = ${inst.K}, expected ${K} like instance 0`);
    if (inst.Nt !== 1 || inst.hRe !== undefined) throw new Error(`regnnBatch: instance ${b} is MISO (Nt = ${inst.Nt}); the REGNN does power control`);
    for (let k = 0; k < K; k++)
      for (let j = 0; j < K; j++) {
        if (j !== k && !knowsEdge(inst, j, k)) continue;
        const g = a.shift === 'outgoing' ? inst.gain[k * K + j] : inst.gain[j * K + k];
        const h = regnnShiftEntry(g, inst.noise, j === k ? 'direct' : 'cross', a);
        S[(b * K + k) * K + j] = h;
        St[(b * K + j) * K + k] = h;
      }
  });
  return { B, K, S: tf.tensor3d(S, [B, K, K]), St: tf.tensor3d(St, [B, K, K]) };
}

export function disposeRegnnBatch(d: RegnnBatch): void {
  tf.dispose([d.S, d.St]);
}

/** z -> H z, [B, m, F], with the gradient H^T dy by an explicit transpose (the WASM backend's transposed matMul is slow). */
function shiftOp(d: RegnnBatch): (z: tf.Tensor3D) => tf.Tensor3D {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.matMul(d.S, args[0] as tf.Tensor3D),
    gradFunc: (dy: tf.Tensor) => tf.matMul(d.St, dy as tf.Tensor3D),
  })) as (z: tf.Tensor3D) => tf.Tensor3D;
}

/**
 * The policy logits y_L + b_L, [B, m] (pi = sigmoid): eq. 14 layer by layer from z_0 = x = 1,
 * y_l = [z, H z, ..., H^(K_l - 1) z] alpha_l (one matMul over the concatenated shifts),
 * z_l = ReLU(y_l + b_l) but for the last layer. Intermediates are left to the caller's tf.tidy.
 */
export function regnnLogits(m: RegnnModel, d: RegnnBatch): tf.Tensor2D {
  const a = m.architecture;
  const { B, K } = d;
  const shift = shiftOp(d);
  let z: tf.Tensor3D = tf.ones([B, K, 1]);
  for (let l = 0; l < a.layers; l++) {
    const fin = regnnInputWidth(a, l);
    const powers: tf.Tensor3D[] = [z];
    for (let k = 1; k < a.taps[l]; k++) powers.push(shift(powers[k - 1]));
    const stacked = (powers.length === 1 ? z : tf.concat(powers, 2)).reshape([B * K, a.taps[l] * fin]) as tf.Tensor2D;
    const y = tf.add(matMul2d(stacked, weightOf(m, `layer.${l}.taps`) as tf.Tensor2D), weightOf(m, `layer.${l}.bias`));
    z = (l + 1 < a.layers ? tf.relu(y) : y).reshape([B, K, a.widths[l]]) as tf.Tensor3D;
  }
  return z.reshape([B, K]);
}

/** The Bernoulli policy pi_k = P(p_k = p0), [B, m]. */
export function regnnPolicy(m: RegnnModel, d: RegnnBatch): tf.Tensor2D {
  return tf.sigmoid(regnnLogits(m, d));
}

/** Largest singular value of a dense m x m matrix (power iteration on M^T M). */
function spectralNorm(M: Float64Array, K: number): number {
  let v = new Float64Array(K).fill(1 / Math.sqrt(K));
  let sigma = 0;
  for (let it = 0; it < 200; it++) {
    const u = new Float64Array(K);
    for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) u[i] += M[i * K + j] * v[j];
    const w = new Float64Array(K);
    for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) w[j] += M[i * K + j] * u[i];
    const n = Math.hypot(...w);
    if (n === 0) return 0;
    const next = Math.sqrt(n);
    v = w.map((x) => x / n);
    if (Math.abs(next - sigma) <= 1e-9 * next) return next;
    sigma = next;
  }
  return sigma;
}

/**
 * The graph normalisation fitted on sample instances: T = log1p (log10(1 + p0 g^2 / sigma^2)), no
 * shift, and one scale for self loops and edges, the median over the samples of the spectral norm
 * of T(H): the authors' code divides each H by its own spectral norm, which an agent cannot know;
 * the median puts a typical H at norm 1 and keeps H^k z from exploding or vanishing.
 */
export function fitRegnnScaling(instances: readonly Instance[], p0: number): FeatureScaling {
  const unit: FeatureScaling = { transform: 'log1p', direct: { shift: 0, scale: 1 }, cross: { shift: 0, scale: 1 } };
  const norms = instances.map((inst) => {
    const { K, gain, noise } = inst;
    return spectralNorm(Float64Array.from(gain, (g, i) => regnnShiftEntry(g, noise, i % (K + 1) === 0 ? 'direct' : 'cross', { p0, features: unit })), K);
  });
  norms.sort((x, y) => x - y);
  const n = norms.length;
  const median = n % 2 === 1 ? norms[(n - 1) / 2] : (norms[n / 2 - 1] + norms[n / 2]) / 2;
  const scale = median > 0 ? median : 1;
  return { transform: 'log1p', direct: { shift: 0, scale }, cross: { shift: 0, scale } };
}
