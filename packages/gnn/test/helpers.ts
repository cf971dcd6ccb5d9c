import { ecgnnWeightShapes, makeCheckpoint, uwmmseWeightShapes, mlpWeightShapes, pcgnnWeightShapes, regnnWeightShapes, wcgcnWeightShapes, type Checkpoint, type TrainableArchitecture, type EcgnnArchitecture, type FeatureScaling, type MlpArchitecture, type PcgnnArchitecture, type WcgcnArchitecture } from '@dmpemu/dmp';
import { expect } from 'vitest';
import { rayleighInstance, Rng, type Instance } from '@dmpemu/wireless';

export const IDENTITY: FeatureScaling = { transform: 'linear', direct: { shift: 0, scale: 1 }, cross: { shift: 0, scale: 1 } };

export function architecture(o: Partial<WcgcnArchitecture> = {}): WcgcnArchitecture {
  return { kind: 'wcgcn', task: 'power', layers: 3, mlp1: [5, 32, 32], mlp2: [35, 16, 1], aggregation: 'max', mlp1Output: 'relu', features: IDENTITY, ...o };
}

export function pcgnnArchitecture(o: Partial<PcgnnArchitecture> = {}): PcgnnArchitecture {
  return { kind: 'pcgnn', task: 'power', layers: 2, hidden: 32, edgeEmbedding: 16, head: [16], aggregation: 'max', features: IDENTITY, ...o };
}

export function ecgnnArchitecture(o: Partial<EcgnnArchitecture> = {}): EcgnnArchitecture {
  return { kind: 'ecgnn', task: 'power', layers: 2, hidden: [16, 32], head: [16], features: IDENTITY, ...o };
}

export function mlpArchitecture(o: Partial<MlpArchitecture> = {}): MlpArchitecture {
  return { kind: 'mlp', task: 'power', K: 8, hidden: [200, 80, 80], features: IDENTITY, ...o };
}

const SHAPES = { wcgcn: wcgcnWeightShapes, pcgnn: pcgnnWeightShapes, mlp: mlpWeightShapes, regnn: regnnWeightShapes, ecgnn: ecgnnWeightShapes, uwmmse: uwmmseWeightShapes } as const;

/** Random weights and biases ~ N(0, 1/fan_in): outputs spread over (0, 1) rather than saturated. */
export function randomCheckpoint<A extends TrainableArchitecture>(a: A, rng: Rng): Checkpoint<A> {
  const weights: Checkpoint['weights'] = {};
  for (const [name, shape] of Object.entries((SHAPES[a.kind] as (x: A) => Record<string, number[]>)(a))) {
    const n = shape.reduce((x, y) => x * y, 1);
    const std = 1 / Math.sqrt(shape[0]);
    weights[name] = { shape, data: Float32Array.from({ length: n }, () => rng.normal() * std) };
  }
  return makeCheckpoint({ architecture: a, weights, training: { note: 'random weights' }, metrics: {} });
}

/** Rayleigh K=8 with a partial CSI mask: each edge known with probability 1/2, agent 0 knows none. */
export function partialCsiInstance(rng: Rng, K = 8): Instance {
  const inst = rayleighInstance(rng, { K, snrDb: 10, weighted: true });
  inst.csi = new Uint8Array(K * K);
  for (let j = 0; j < K; j++) for (let k = 1; k < K; k++) if (j !== k && rng.uniform() < 0.5) inst.csi[j * K + k] = 1;
  return inst;
}

/** Geometric-like gains spanning orders of magnitude (amplitudes 1e-7..1e-2, noise 1e-14), for dB features. */
export function wideRangeInstance(rng: Rng, K = 8): Instance {
  const gain = Float64Array.from({ length: K * K }, (_, i) => 10 ** (i % (K + 1) === 0 ? rng.range(-4, -2) : rng.range(-7, -3)));
  const weights = Float64Array.from({ length: K }, () => rng.uniform());
  return { model: 'd2d', K, Nt: 1, noise: 1e-14, pmax: 1, weights, gain };
}

/**
 * Per-agent powers (per instance, e.g. the DMP run in process) and a batched TF.js forward pass
 * agree on every power to 1e-5, and not only in saturation: some power lies in (inside, 1 - inside).
 */
export function expectPowersMatch(batched: number[][], perAgent: ArrayLike<number>[], inside = 0.05): void {
  let spread = 0;
  perAgent.forEach((q, b) =>
    Array.from(q).forEach((x, k) => {
      expect(Math.abs(x - batched[b][k])).toBeLessThan(1e-5);
      if (x > inside && x < 1 - inside) spread++;
    }),
  );
  expect(spread).toBeGreaterThan(0); // not a trivially saturated comparison
}
