import * as tf from '@tensorflow/tfjs';
import type { Checkpoint, FeatureScaling, MlpArchitecture, PcgnnArchitecture, WcgcnArchitecture } from '@dmpemu/dmp';
import { isMiso, type Instance, type Rng } from '@dmpemu/wireless';
import { denseBatch } from './batch.ts';
import { beamBatch, negWeightedSumRateBeam } from './beamBatch.ts';
import { negWeightedSumRate } from './loss.ts';
import { initMlp, mlpForward, mlpFromCheckpoint, type MlpModel } from './mlp.ts';
import type { TfModel } from './model.ts';
import { initPcgnn, pcgnnForward, pcgnnFromCheckpoint, type PcgnnModel } from './pcgnn.ts';
import { fromCheckpoint, initWcgcn, wcgcnForward, wcgcnLayers, type WcgcnModel } from './wcgcn.ts';

/** The paper's setting (section V): 3 layers, MLP1 {5, 32, 32}, MLP2 {35, 16, 1}, max aggregation. */
export const WCGCN_DEFAULTS = { layers: 3, mlp1: [5, 32, 32], mlp2: [35, 16, 1], aggregation: 'max', mlp1Output: 'relu' } as const;
/** Beamforming (section V-C): MLP1 {6 Nt, 64, 64}, MLP2 {64 + 4 Nt, 32, 2 Nt}; layers and aggregation as for power control. */
export function wcgcnBeamDefaults(Nt: number): Omit<WcgcnArchitecture, 'kind' | 'task' | 'features'> {
  return { layers: 3, Nt, mlp1: [6 * Nt, 64, 64], mlp2: [64 + 4 * Nt, 32, 2 * Nt], aggregation: 'max', mlp1Output: 'relu' };
}
/**
 * PCGNN (eqs. 20-21): 2 layers and max aggregation as in section VI-A of the DMP paper; the widths
 * are not given there: ours are H = 32 (as WCGCN's messages), an edge embedding of 16 and one
 * hidden layer of 16 in the output MLP.
 */
export const PCGNN_DEFAULTS = { layers: 2, hidden: 32, edgeEmbedding: 16, head: [16], aggregation: 'max' } as const;
/** The MLP baseline: PCNet's hidden layers 200, 80, 80 (ReLU); K from the training data. */
export const MLP_DEFAULTS = { hidden: [200, 80, 80] } as const;

/** The architectures train() trains. */
export type ModelKind = 'wcgcn' | 'pcgnn' | 'mlp';
export const MODEL_KINDS: readonly ModelKind[] = ['wcgcn', 'pcgnn', 'mlp'];

/** How train() (and a gradient worker) builds, restores and evaluates each kind of model. */
export interface ModelKindImpl {
  /** A fresh model: defaults for `sample` (power control or beamforming, K for an MLP), then the caller's options, then the features. */
  create(options: Record<string, unknown>, features: FeatureScaling, sample: Instance, rng: Rng): TfModel;
  fromCheckpoint(c: Checkpoint): TfModel;
  /**
   * The training loss on `instances` (one K): minus the weighted sum rate, averaged. The batch
   * tensors it builds are intermediates: call it inside tf.tidy, optimizer.minimize or tf.variableGrads.
   */
  loss(m: TfModel, instances: readonly Instance[]): tf.Scalar;
}

export const MODEL_KIND_IMPLS: Record<ModelKind, ModelKindImpl> = {
  wcgcn: {
    create: (o, features, sample, rng) =>
      initWcgcn(
        (isMiso(sample)
          ? { kind: 'wcgcn', task: 'beamforming', ...wcgcnBeamDefaults(sample.Nt), ...o, features }
          : { kind: 'wcgcn', task: 'power', ...WCGCN_DEFAULTS, ...o, features }) as unknown as WcgcnArchitecture,
        rng,
      ),
    fromCheckpoint,
    loss(m, instances) {
      const w = m as WcgcnModel;
      if (w.architecture.task === 'beamforming') {
        const d = beamBatch(instances, w.architecture.features);
        return negWeightedSumRateBeam(wcgcnLayers(w, d), d);
      }
      const d = denseBatch(instances, w.architecture.features);
      return negWeightedSumRate(wcgcnForward(w, d), d);
    },
  },
  pcgnn: {
    create: (o, features, _s, rng) => initPcgnn({ kind: 'pcgnn', task: 'power', ...PCGNN_DEFAULTS, ...o, features } as unknown as PcgnnArchitecture, rng),
    fromCheckpoint: pcgnnFromCheckpoint,
    loss(m, instances) {
      const d = denseBatch(instances, m.architecture.features);
      return negWeightedSumRate(pcgnnForward(m as PcgnnModel, d), d);
    },
  },
  mlp: {
    create: (o, features, sample, rng) => initMlp({ kind: 'mlp', task: 'power', K: sample.K, ...MLP_DEFAULTS, ...o, features } as unknown as MlpArchitecture, rng),
    fromCheckpoint: mlpFromCheckpoint,
    loss(m, instances) {
      const d = denseBatch(instances, m.architecture.features, { mlpInput: true });
      return negWeightedSumRate(mlpForward(m as MlpModel, d), d);
    },
  },
};

/** The implementation of `kind`, or an error naming the kinds there are. */
export function modelKindImpl(kind: string): ModelKindImpl {
  const impl = (MODEL_KIND_IMPLS as Record<string, ModelKindImpl | undefined>)[kind];
  if (impl === undefined) throw new Error(`train: kind must be one of ${MODEL_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  return impl;
}
