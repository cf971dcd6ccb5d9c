import * as tf from '@tensorflow/tfjs';
import { resolveArchitecture, type Checkpoint, type FeatureScaling } from '@dmpemu/dmp';
import { isMiso, type Instance, type Rng } from '@dmpemu/wireless';
import { denseBatch } from './batch.ts';
import { beamBatch, negWeightedSumRateBeam } from './beamBatch.ts';
import { fitPowerScaling } from './features.ts';
import { ecgnnForward, ecgnnFromCheckpoint, initEcgnn, type EcgnnModel } from './ecgnn.ts';
import { negWeightedSumRate } from './loss.ts';
import { initMlp, mlpForward, mlpFromCheckpoint, type MlpModel } from './mlp.ts';
import type { TfModel } from './model.ts';
import { initPcgnn, pcgnnForward, pcgnnFromCheckpoint, type PcgnnModel } from './pcgnn.ts';
import { fitUwmmseScaling, initUwmmse, uwmmseForward, uwmmseFromCheckpoint, uwmmseShift, type UwmmseModel } from './uwmmse.ts';
import { fromCheckpoint, initWcgcn, wcgcnForward, wcgcnLayers, type WcgcnModel } from './wcgcn.ts';

/** The kinds' defaults live with the architectures in @dmpemu/dmp (a training scenario is checked without TensorFlow.js). */
export { ECGNN_DEFAULTS, MLP_DEFAULTS, PCGNN_DEFAULTS, UWMMSE_DEFAULTS, WCGCN_DEFAULTS, wcgcnBeamDefaults } from '@dmpemu/dmp';

/** The architectures train() trains. */
export type ModelKind = 'wcgcn' | 'pcgnn' | 'mlp' | 'ecgnn' | 'uwmmse';
export const MODEL_KINDS: readonly ModelKind[] = ['wcgcn', 'pcgnn', 'mlp', 'ecgnn', 'uwmmse'];

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
  /** Constants fitted on the training data besides the channel scaling (a PCGNN's power feature). */
  fitExtra?(options: Record<string, unknown>, instances: readonly Instance[]): Partial<FeatureScaling>;
  /** How this kind's inputs are normalised when it is not fitFeatureScaling (db by default): the default transform and the fit. */
  features?: { transform: FeatureScaling['transform']; fit(instances: readonly Instance[], transform: FeatureScaling['transform']): FeatureScaling };
}

export const MODEL_KIND_IMPLS: Record<ModelKind, ModelKindImpl> = {
  wcgcn: {
    create: (o, features, sample, rng) => initWcgcn(resolveArchitecture('wcgcn', o, features, { K: sample.K, Nt: sample.Nt, miso: isMiso(sample) }), rng),
    fromCheckpoint,
    loss(m, instances) {
      const w = m as WcgcnModel;
      if (w.architecture.task === 'beamforming') {
        const d = beamBatch(instances, w.architecture.features, w.architecture.edges);
        return negWeightedSumRateBeam(wcgcnLayers(w, d), d);
      }
      const d = denseBatch(instances, w.architecture.features);
      return negWeightedSumRate(wcgcnForward(w, d), d);
    },
  },
  pcgnn: {
    create: (o, features, sample, rng) => initPcgnn(resolveArchitecture('pcgnn', o, features, sample), rng),
    fromCheckpoint: pcgnnFromCheckpoint,
    loss(m, instances) {
      const d = denseBatch(instances, m.architecture.features);
      return negWeightedSumRate(pcgnnForward(m as PcgnnModel, d), d);
    },
    fitExtra: (o, instances) => (o.powerFeature ? { power: fitPowerScaling(instances) } : {}),
  },
  ecgnn: {
    create: (o, features, sample, rng) => initEcgnn(resolveArchitecture('ecgnn', o, features, sample), rng),
    fromCheckpoint: ecgnnFromCheckpoint,
    loss(m, instances) {
      const d = denseBatch(instances, m.architecture.features);
      return negWeightedSumRate(ecgnnForward(m as EcgnnModel, d), d);
    },
  },
  uwmmse: {
    create: (o, features, sample, rng) => initUwmmse(resolveArchitecture('uwmmse', o, features, sample), rng),
    fromCheckpoint: uwmmseFromCheckpoint,
    loss(m, instances) {
      const d = denseBatch(instances, m.architecture.features);
      return negWeightedSumRate(uwmmseForward(m as UwmmseModel, d, uwmmseShift(instances, m.architecture as UwmmseModel['architecture'])), d);
    },
    features: { transform: 'log1p', fit: fitUwmmseScaling },
  },
  mlp: {
    create: (o, features, sample, rng) => initMlp(resolveArchitecture('mlp', o, features, sample), rng),
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
