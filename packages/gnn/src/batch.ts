import * as tf from '@tensorflow/tfjs';
import { mlpInput, mlpInputSize, powerDb, scaleGain, type FeatureScaling } from '@dmpemu/dmp';
import { knowsEdge, type Instance } from '@dmpemu/wireless';

/**
 * B instances of K pairs as dense tensors, receiver-major so that aggregation is a reduction
 * over the sender axis 2:
 * - `node` [B, K, 2]: scaled g_kk and w_k (x_k without p_k);
 * - `edge` [B, K, K, 2]: at [b, k, j] the scaled e_jk = [g_jk, g_kj] when agent k knows the edge
 *   (j, k), else 0;
 * - `mask` [B, K, K, 1]: 1 where agent k knows the edge (j, k), j != k (its local view);
 * - `maskBias` = 0 where known, -1e30 where not, so a masked message never wins a max;
 * - `degree` [B, K, 1]: |N(k)|; `hasNeighbours` [B, K, 1]: 1 when |N(k)| > 0 (an empty aggregate is 0);
 * and for the loss, on the true channel (all pairs, whatever the CSI), in units of the noise:
 * - `direct2` [B, K]: g_kk^2 / sigma^2; `cross2` [B, K, K]: g_ij^2 / sigma^2 at [b, i, j], 0 on the diagonal;
 * - `weights` [B, K]: w_k; `pmax` [B, 1]; `powerDb` [B, 1]: 10 log10(Pmax / sigma^2) (a PCGNN's power feature);
 * and, when asked (`{ mlpInput: true }`), the centralized MLP baseline's input:
 * - `mlpInput` [B, K^2 + K]: every scaled g_ij at i K + j, whatever the CSI, then w_k (mlpInput of @dmpemu/dmp).
 */
export interface GraphTensors {
  B: number;
  K: number;
  node: tf.Tensor3D;
  edge: tf.Tensor4D;
  mask: tf.Tensor4D;
  maskBias: tf.Tensor4D;
  degree: tf.Tensor3D;
  hasNeighbours: tf.Tensor3D;
}

export interface DenseBatch extends GraphTensors {
  direct2: tf.Tensor2D;
  cross2: tf.Tensor3D;
  weights: tf.Tensor2D;
  pmax: tf.Tensor2D;
  powerDb: tf.Tensor2D;
  mlpInput?: tf.Tensor2D;
}

export interface DenseBatchOptions {
  /** Also build `mlpInput` (the MLP baseline's input). */
  mlpInput?: boolean;
}

/** A value that no message reaches: masked entries of the max aggregation. */
export const MASKED = -1e30;

/**
 * The CSI graph of a batch, receiver-major ([b, k, j] = edge (j, k)): `mask`, `maskBias`,
 * `degree` and `hasNeighbours` as in DenseBatch, and `known(b, k, j)` for filling edge features.
 */
export function csiGraph(instances: readonly Instance[], K: number): Pick<GraphTensors, 'mask' | 'maskBias' | 'degree' | 'hasNeighbours'> & { known: Uint8Array } {
  const B = instances.length;
  const mask = new Float32Array(B * K * K);
  const maskBias = new Float32Array(B * K * K);
  const degree = new Float32Array(B * K);
  instances.forEach((inst, b) => {
    if (inst.K !== K) throw new Error(`batch: instance ${b} has K = ${inst.K}, expected ${K} like instance 0`);
    for (let k = 0; k < K; k++)
      for (let j = 0; j < K; j++) {
        const e = (b * K + k) * K + j;
        if (j === k || !knowsEdge(inst, j, k)) maskBias[e] = MASKED;
        else {
          mask[e] = 1;
          degree[b * K + k]++;
        }
      }
  });
  return {
    known: Uint8Array.from(mask),
    mask: tf.tensor4d(mask, [B, K, K, 1]),
    maskBias: tf.tensor4d(maskBias, [B, K, K, 1]),
    degree: tf.tensor3d(degree, [B, K, 1]),
    hasNeighbours: tf.tensor3d(degree.map((d) => (d > 0 ? 1 : 0)), [B, K, 1]),
  };
}

/** Build the dense tensors of a batch (all instances must have the same K and be SISO). */
export function denseBatch(instances: readonly Instance[], features: FeatureScaling, o: DenseBatchOptions = {}): DenseBatch {
  const B = instances.length;
  if (B === 0) throw new Error('denseBatch: no instances');
  const K = instances[0].K;
  const node = new Float32Array(B * K * 2);
  const edge = new Float32Array(B * K * K * 2);
  const direct2 = new Float32Array(B * K);
  const cross2 = new Float32Array(B * K * K);
  const weights = new Float32Array(B * K);
  const pmax = new Float32Array(B);
  const snr = new Float32Array(B);
  const flat = o.mlpInput ? new Float32Array(B * mlpInputSize(K)) : undefined;
  instances.forEach((inst, b) => {
    if (inst.Nt !== 1 || inst.hRe !== undefined) throw new Error(`denseBatch: instance ${b} is MISO (Nt = ${inst.Nt}); use beamBatch for beamforming`);
  });
  const graph = csiGraph(instances, K);
  instances.forEach((inst, b) => {
    const { gain, noise } = inst;
    pmax[b] = inst.pmax;
    snr[b] = powerDb(inst.pmax, noise);
    if (flat) mlpInput(inst, features, flat, b * mlpInputSize(K));
    for (let k = 0; k < K; k++) {
      const n = b * K + k;
      node[2 * n] = scaleGain(gain[k * K + k], 'direct', features);
      node[2 * n + 1] = inst.weights[k];
      weights[n] = inst.weights[k];
      direct2[n] = (gain[k * K + k] * gain[k * K + k]) / noise;
      for (let j = 0; j < K; j++) {
        const e = n * K + j; // [b, k, j]: receiver k, sender j
        if (j !== k) cross2[(b * K + j) * K + k] = (gain[j * K + k] * gain[j * K + k]) / noise;
        if (!graph.known[e]) continue;
        edge[2 * e] = scaleGain(gain[j * K + k], 'cross', features);
        edge[2 * e + 1] = scaleGain(gain[k * K + j], 'cross', features);
      }
    }
  });
  return {
    B,
    K,
    node: tf.tensor3d(node, [B, K, 2]),
    edge: tf.tensor4d(edge, [B, K, K, 2]),
    mask: graph.mask,
    maskBias: graph.maskBias,
    degree: graph.degree,
    hasNeighbours: graph.hasNeighbours,
    direct2: tf.tensor2d(direct2, [B, K]),
    cross2: tf.tensor3d(cross2, [B, K, K]),
    weights: tf.tensor2d(weights, [B, K]),
    pmax: tf.tensor2d(pmax, [B, 1]),
    powerDb: tf.tensor2d(snr, [B, 1]),
    ...(flat ? { mlpInput: tf.tensor2d(flat, [B, mlpInputSize(K)]) } : {}),
  };
}

export function disposeBatch(d: DenseBatch): void {
  tf.dispose([d.node, d.edge, d.mask, d.maskBias, d.degree, d.hasNeighbours, d.direct2, d.cross2, d.weights, d.pmax, d.powerDb]);
  if (d.mlpInput) d.mlpInput.dispose();
}
