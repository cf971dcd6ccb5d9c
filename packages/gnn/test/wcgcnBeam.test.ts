import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAlgorithm, makeCheckpoint, runInProcess, toDecision, type Checkpoint, type FeatureScaling, type WcgcnArchitecture } from '@dmpemu/dmp';
import { generateInstance, objective, Rng, type Instance } from '@dmpemu/wireless';
import { beamBatch, beamRatesTf, disposeBeamBatch, disposeWcgcn, ensureBackend, fitFeatureScaling, fromCheckpoint, train, wcgcnBeamDefaults, wcgcnLayers } from '../src/index.ts';
import { randomCheckpoint } from './helpers.ts';

beforeAll(async () => {
  await ensureBackend();
});

const miso = (rng: Rng, o: Record<string, number> = {}): Instance => generateInstance('miso', rng, { K: 8, Nt: 2, field: 150, dmin: 2, dmax: 40, ...o });

function beamArchitecture(features: FeatureScaling, o: Partial<WcgcnArchitecture> = {}): WcgcnArchitecture {
  return { kind: 'wcgcn', task: 'beamforming', ...wcgcnBeamDefaults(2), features, ...o };
}

/** Beamformers [b][k][Re v..., Im v...] of the batched TF.js model. */
function tfBeams(c: Checkpoint<WcgcnArchitecture>, insts: Instance[]): number[][][] {
  const model = fromCheckpoint(c);
  const d = beamBatch(insts, c.architecture.features, c.architecture.edges);
  const v = tf.tidy(() => wcgcnLayers(model, d).arraySync());
  disposeBeamBatch(d);
  disposeWcgcn(model);
  return v;
}

/** The checkpoint with MLP2's last layer scaled by `f`, so that some beams fall inside the unit ball. */
function shrinkOutput(c: Checkpoint<WcgcnArchitecture>, f: number): Checkpoint<WcgcnArchitecture> {
  const weights = { ...c.weights };
  for (const name of ['mlp2.1.kernel', 'mlp2.1.bias']) weights[name] = { shape: c.weights[name].shape, data: c.weights[name].data.map((x) => x * f) };
  return makeCheckpoint({ architecture: c.architecture, weights, training: c.training, metrics: c.metrics });
}

describe('WCGCN beamforming (section V-C): TF.js batched model = per-agent DMP', () => {
  it('agree to 1e-5 on every beam entry, full and partial CSI, max and mean aggregation, e_jk = h_jk, h_kj and [h_jk, h_kj]; ||v_k|| <= 1', () => {
    const rng = new Rng('beam-parity');
    const insts = [miso(rng), miso(rng), miso(rng, { csiRange: 60 })];
    const features = fitFeatureScaling(insts, 'log1p');
    expect(features.direct.shift).toBe(0);
    const variants: Partial<WcgcnArchitecture>[] = [{ aggregation: 'max' }, { aggregation: 'mean' }, { aggregation: 'max', edges: 'out' }, { aggregation: 'max', edges: 'both', mlp1: [16, 64, 64] }];
    for (const o of variants) {
      const c = shrinkOutput(randomCheckpoint(beamArchitecture(features, o), rng), 0.1);
      const v = tfBeams(c, insts);
      let inside = 0;
      insts.forEach((inst, b) => {
        const dmp = runInProcess(inst, { name: 'wcgcn', checkpoint: c });
        expect(dmp.rounds).toBe(3);
        dmp.outputs.forEach((o, k) => {
          expect(o.length).toBe(4);
          o.forEach((x, i) => expect(Math.abs(x - v[b][k][i])).toBeLessThan(1e-5));
          const norm2 = o.reduce((s, x) => s + x * x, 0);
          expect(norm2).toBeLessThanOrEqual(1 + 1e-9);
          if (norm2 < 0.99) inside++;
        });
      });
      expect(inside).toBeGreaterThan(0); // sigma is not only the projection onto the sphere
    }
  });

  it('edges: both reads h_kj after h_jk: with the h_kj rows of MLP1 at 0 it computes what the same model with e_jk = h_jk does', () => {
    const rng = new Rng('beam-edges');
    const insts = [miso(rng, { csiRange: 80 }), miso(rng)];
    const features = fitFeatureScaling(insts, 'log1p');
    const inward = randomCheckpoint(beamArchitecture(features), rng);
    const k0 = inward.weights['mlp1.0.kernel']; // [12, 64]: x_j (8 rows), h_jk (4 rows)
    const widened = Float32Array.from({ length: 16 * 64 }, (_, n) => (n < 12 * 64 ? k0.data[n] : 0));
    const both = makeCheckpoint({ architecture: beamArchitecture(features, { edges: 'both', mlp1: [16, 64, 64] }), weights: { ...inward.weights, 'mlp1.0.kernel': { shape: [16, 64], data: widened } }, training: inward.training, metrics: inward.metrics });
    const moved = Float32Array.from(widened, (x, n) => (n >= 12 * 64 ? 0.3 : x)); // and with weight on h_kj, other beams
    const uses = makeCheckpoint({ architecture: both.architecture, weights: { ...both.weights, 'mlp1.0.kernel': { shape: [16, 64], data: moved } }, training: inward.training, metrics: inward.metrics });
    for (const inst of insts) {
      const a = runInProcess(inst, { name: 'wcgcn', checkpoint: inward }).outputs;
      expect(runInProcess(inst, { name: 'wcgcn', checkpoint: both }).outputs).toEqual(a);
      expect(runInProcess(inst, { name: 'wcgcn', checkpoint: uses }).outputs).not.toEqual(a);
    }
    expect(tfBeams(both, insts)).toEqual(tfBeams(inward, insts));
  });

  it('edges: out reads h_kj alone: it computes what edges: both does with the h_jk rows of MLP1 at 0 and its h_kj rows in their place', () => {
    const rng = new Rng('beam-edges-out');
    const insts = [miso(rng, { csiRange: 80 }), miso(rng)];
    const features = fitFeatureScaling(insts, 'log1p');
    const out = randomCheckpoint(beamArchitecture(features, { edges: 'out' }), rng);
    const k0 = out.weights['mlp1.0.kernel']; // [12, 64]: x_j (8 rows), h_kj (4 rows)
    // [16, 64]: x_j, then h_jk's 4 rows at 0, then out's h_kj rows
    const spread = Float32Array.from({ length: 16 * 64 }, (_, n) => (n < 8 * 64 ? k0.data[n] : n < 12 * 64 ? 0 : k0.data[n - 4 * 64]));
    const both = makeCheckpoint({ architecture: beamArchitecture(features, { edges: 'both', mlp1: [16, 64, 64] }), weights: { ...out.weights, 'mlp1.0.kernel': { shape: [16, 64], data: spread } }, training: out.training, metrics: out.metrics });
    const inward = makeCheckpoint({ architecture: beamArchitecture(features), weights: out.weights, training: out.training, metrics: out.metrics }); // the same weights on h_jk: other beams
    for (const inst of insts) {
      const a = runInProcess(inst, { name: 'wcgcn', checkpoint: out }).outputs;
      expect(runInProcess(inst, { name: 'wcgcn', checkpoint: both }).outputs).toEqual(a);
      expect(runInProcess(inst, { name: 'wcgcn', checkpoint: inward }).outputs).not.toEqual(a);
    }
    expect(tfBeams(both, insts)).toEqual(tfBeams(out, insts));
  });

  it('the TF.js rates are the objective of @dmpemu/wireless (eq. 3: who transmits, who receives)', () => {
    const rng = new Rng('beam-loss');
    const insts = [miso(rng), miso(rng, { weighted: 1 })];
    const c = randomCheckpoint(beamArchitecture(fitFeatureScaling(insts, 'log1p')), rng);
    const d = beamBatch(insts, c.architecture.features);
    const model = fromCheckpoint(c);
    const [v, r] = tf.tidy(() => {
      const beams = wcgcnLayers(model, d);
      return [beams.arraySync(), beamRatesTf(beams, d).arraySync()];
    });
    disposeBeamBatch(d);
    disposeWcgcn(model);
    insts.forEach((inst, b) => {
      const wsr = r[b].reduce((s, x, k) => s + inst.weights[k] * x, 0);
      const exact = objective(inst, toDecision(inst, v[b].map((x) => Float64Array.from(x))));
      expect(Math.abs(wsr - exact) / exact).toBeLessThan(1e-4);
    });
  });

  it('train() on a miso network trains a beamforming WCGCN (defaults {6Nt,64,64}, {64+4Nt,32,2Nt}, log1p) that lowers the loss and runs decentralised', async () => {
    const rng = new Rng('beam-train');
    const insts = Array.from({ length: 8 }, () => miso(rng));
    const losses: number[] = [];
    const c = await train({ instances: insts, steps: 25, batch: 8, seed: 3, onStep: (s) => losses.push(s.loss) });
    expect(c.architecture).toMatchObject({ kind: 'wcgcn', task: 'beamforming', Nt: 2, mlp1: [12, 64, 64], mlp2: [72, 32, 4] });
    expect(c.architecture.features.transform).toBe('log1p');
    expect(losses.at(-1)!).toBeLessThan(losses[0]);
    const sumRate = (inst: Instance) => runInProcess(inst, { name: 'wcgcn', checkpoint: c }).history.at(-1)!;
    expect(insts.every((inst) => Number.isFinite(sumRate(inst)))).toBe(true);
    expect(() => createAlgorithm({ name: 'wcgcn', checkpoint: c }, 1)).toThrow('wcgcn: the checkpoint does beamforming with Nt = 2, the network has Nt = 1');
  });

  it('refuses dB features (a vector cannot be scaled by a negative number) and a power-control checkpoint on a MISO network', () => {
    const rng = new Rng('beam-errors');
    const db: FeatureScaling = { transform: 'db', direct: { shift: 0, scale: 1 }, cross: { shift: 0, scale: 1 } };
    expect(() => createAlgorithm({ name: 'wcgcn', checkpoint: randomCheckpoint(beamArchitecture(db), rng) }, 2)).toThrow(
      'wcgcn beamforming: architecture.features.transform must be log1p or linear (db has no sign to scale a vector by)',
    );
    const power = randomCheckpoint({ kind: 'wcgcn', task: 'power', layers: 2, mlp1: [5, 8], mlp2: [11, 1], aggregation: 'max', mlp1Output: 'relu', features: db } as WcgcnArchitecture, rng);
    expect(() => createAlgorithm({ name: 'wcgcn', checkpoint: power }, 2)).toThrow('wcgcn: the checkpoint does power control, the network has Nt = 2 antennas (train a beamforming WCGCN)');
  });
});
