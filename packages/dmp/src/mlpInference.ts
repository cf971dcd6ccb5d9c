import type { Instance } from '@dmpemu/wireless';
import { assertCheckpoint, verifyCheckpoint, type Checkpoint, type FeatureScaling, type MlpArchitecture, type WeightTensor } from './checkpoint.ts';
import { scaleGain } from './wcgcnDmp.ts';
import { DenseLayers } from './denseLayers.ts';


/** Names and shapes of a dense stack's weights: `<prefix>.<l>.kernel` [in, out], `<prefix>.<l>.bias` [out]. */
export function denseWeightShapes(widths: number[], prefix: string, into: Record<string, number[]> = {}): Record<string, number[]> {
  for (let l = 0; l + 1 < widths.length; l++) {
    into[`${prefix}.${l}.kernel`] = [widths[l], widths[l + 1]];
    into[`${prefix}.${l}.bias`] = [widths[l + 1]];
  }
  return into;
}

/** Throws unless `weights` has exactly the names and shapes of `shapes`; `what` names the model in errors. */
export function checkWeightShapes(what: string, weights: Record<string, WeightTensor>, shapes: Record<string, number[]>): void {
  for (const [name, shape] of Object.entries(shapes)) {
    const w = weights[name];
    if (!w) throw new Error(`${what}: weight ${name} missing (expected shape ${JSON.stringify(shape)})`);
    const n = shape.reduce((x, y) => x * y, 1);
    if (JSON.stringify(w.shape) !== JSON.stringify(shape) || w.data.length !== n) {
      throw new Error(`${what}: weight ${name} has shape ${JSON.stringify(w.shape)} with ${w.data.length} values, expected ${JSON.stringify(shape)}`);
    }
  }
  for (const name of Object.keys(weights)) if (!(name in shapes)) throw new Error(`${what}: unexpected weight ${name}`);
}

/** Input width of the MLP baseline for K pairs: the K x K amplitudes and the K weights. */
export function mlpInputSize(K: number): number {
  return K * K + K;
}

/** Layer widths of the MLP baseline, input first: K^2 + K, the hidden widths, K. */
export function mlpWidths(a: MlpArchitecture): number[] {
  return [mlpInputSize(a.K), ...a.hidden, a.K];
}

/** Names and shapes of the MLP baseline's weights: `mlp.<l>.kernel` [in, out] and `mlp.<l>.bias` [out]. */
export function mlpWeightShapes(a: MlpArchitecture): Record<string, number[]> {
  return denseWeightShapes(mlpWidths(a), 'mlp');
}

/** Throws unless the weights have exactly the shapes of the architecture. */
export function validateMlp(c: Checkpoint<MlpArchitecture>): void {
  checkWeightShapes('mlp checkpoint', c.weights, mlpWeightShapes(c.architecture));
}

/**
 * The MLP baseline's input for one instance, written into `out` (length K^2 + K): at i K + j the
 * amplitude g_ij (transmitter i to receiver j) scaled by the feature scaling (the checkpoint's), `direct`
 * on the diagonal and `cross` elsewhere, the whole channel whatever the CSI (a centralized
 * baseline); then the K weights w_k.
 */
export function mlpInput(inst: Instance, features: FeatureScaling, out: Float64Array | Float32Array, offset = 0): void {
  const { K, gain } = inst;
  for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) out[offset + i * K + j] = scaleGain(gain[i * K + j], i === j ? 'direct' : 'cross', features);
  for (let k = 0; k < K; k++) out[offset + K * K + k] = inst.weights[k];
}

/** Throws unless `inst` is a SISO network of the checkpoint's K pairs; the error names both Ks. */
export function checkMlpInstance(a: MlpArchitecture, inst: Instance, what = 'mlp'): void {
  checkMlpNetwork(a, inst.K, inst.Nt, what, inst.hRe !== undefined);
}

/** Throws unless a network of K pairs with Nt transmit antennas is one the MLP runs on: SISO, the checkpoint's K. */
export function checkMlpNetwork(a: MlpArchitecture, K: number, Nt: number, what = 'mlp', miso = Nt !== 1): void {
  if (K !== a.K) throw new Error(`${what}: the checkpoint is an MLP for K = ${a.K} pairs, the instance has K = ${K} (an MLP only runs on the K it was trained for)`);
  if (miso) throw new Error(`${what}: the instance is MISO (Nt = ${Nt}); the MLP does power control`);
}

/** p = sigmoid(MLP(input)) Pmax per pair, for instances of the checkpoint's K. */
export type MlpPolicy = (inst: Instance) => Float64Array;

/**
 * The centralized MLP baseline (PCNet-style) from a checkpoint: structure, kind and hash verified
 * and shapes checked once; the returned function maps an instance of K pairs to its powers
 * p_k = sigmoid(y_k) Pmax, y = MLP([g_ij scaled..., w_k...]). Typed-array arithmetic, no TF.js.
 * It needs the whole channel: it is not a DMP algorithm.
 */
export function mlpPolicy(c: Checkpoint): MlpPolicy {
  assertCheckpoint(c, 'mlp checkpoint', 'mlp');
  verifyCheckpoint(c);
  validateMlp(c);
  const a = c.architecture;
  const layers = new DenseLayers(mlpWidths(a), c.weights, 'mlp', false);
  const input = new Float64Array(mlpInputSize(a.K));
  const y = new Float64Array(a.K);
  return (inst) => {
    checkMlpInstance(a, inst);
    mlpInput(inst, a.features, input);
    layers.forward(input, y);
    return Float64Array.from(y, (v) => inst.pmax / (1 + Math.exp(-v)));
  };
}

/** The MLP baseline's powers [p_1..p_K] for one instance (verifies the checkpoint each call; use mlpPolicy for many). */
export function mlpPowers(c: Checkpoint, inst: Instance): Float64Array {
  return mlpPolicy(c)(inst);
}
