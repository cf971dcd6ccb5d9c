import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mlpPolicy, mlpPowers, parseCheckpoint, serializeCheckpoint, type Checkpoint } from '@dmpemu/dmp';
import { objective, rayleighInstance, Rng, type Instance } from '@dmpemu/wireless';
import { denseBatch, disposeBatch, disposeMlp, ensureBackend, fitFeatureScaling, MLP_DEFAULTS, mlpForward, mlpFromCheckpoint, negWeightedSumRate, train, type TfBackend } from '../src/index.ts';
import { mlpArchitecture, partialCsiInstance, randomCheckpoint, wideRangeInstance, expectPowersMatch } from './helpers.ts';

let backend: TfBackend;
beforeAll(async () => {
  backend = await ensureBackend();
});

/** The batched TF.js forward pass: powers p[b][k]. */
function tfPowers(c: Checkpoint, insts: Instance[]): number[][] {
  const model = mlpFromCheckpoint(c);
  const d = denseBatch(insts, c.architecture.features, { mlpInput: true });
  const p = tf.tidy(() => tf.mul(mlpForward(model, d), d.pmax).arraySync() as number[][]);
  disposeBatch(d);
  disposeMlp(model);
  return p;
}

/** Centralized typed-array inference (mlpPowers) and batched TF.js agree on every power to 1e-5. */
function expectParity(c: Checkpoint, insts: Instance[]): void {
  const q = insts.map((inst) => mlpPowers(c, inst));
  q.forEach((x, b) => expect(x).toHaveLength(insts[b].K));
  expectPowersMatch(tfPowers(c, insts), q);
}

describe('MLP baseline (PCNet-style): TF.js batched model = centralized mlpPowers', () => {
  it('parity on Rayleigh K=8 (PCNet widths 200-80-80), weighted, and with a partial CSI mask (ignored: it is centralized)', () => {
    const rng = new Rng('mlp-parity');
    const insts = [...Array.from({ length: 3 }, () => rayleighInstance(rng, { K: 8, snrDb: 10, weighted: true })), partialCsiInstance(rng)];
    expectParity(randomCheckpoint(mlpArchitecture(), rng), insts);
  });

  it('parity with dB features fitted on wide-range gains and other widths', () => {
    const rng = new Rng('mlp-parity-db');
    const insts = Array.from({ length: 3 }, () => wideRangeInstance(rng, 6));
    const features = fitFeatureScaling(insts, 'db');
    expectParity(randomCheckpoint(mlpArchitecture({ K: 6, features, hidden: [24] }), rng), insts);
    expectParity(randomCheckpoint(mlpArchitecture({ K: 6, features, hidden: [] }), rng), insts);
  });

  it('a K mismatch is an error naming both Ks (TF.js and typed arrays); the batch must carry the MLP input', () => {
    const rng = new Rng('mlp-k');
    const c = randomCheckpoint(mlpArchitecture({ K: 8, hidden: [16] }), rng);
    const k6 = rayleighInstance(rng, { K: 6, snrDb: 10 });
    expect(() => mlpPowers(c, k6)).toThrow('mlp: the checkpoint is an MLP for K = 8 pairs, the instance has K = 6');
    expect(() => tfPowers(c, [k6])).toThrow('mlp: the model is an MLP for K = 8 pairs, the batch has K = 6');
    const model = mlpFromCheckpoint(c);
    const d = denseBatch([rayleighInstance(rng, { K: 8, snrDb: 10 })], c.architecture.features);
    expect(() => tf.tidy(() => mlpForward(model, d))).toThrow('mlp: the batch has no mlpInput');
    disposeBatch(d);
    disposeMlp(model);
  });

  it('gradients of the loss are finite and non-zero for every weight', () => {
    const rng = new Rng('mlp-grads');
    const insts = Array.from({ length: 4 }, () => rayleighInstance(rng, { K: 8, snrDb: 10 }));
    const c = randomCheckpoint(mlpArchitecture(), rng);
    const model = mlpFromCheckpoint(c);
    const d = denseBatch(insts, c.architecture.features, { mlpInput: true });
    const { value, grads } = tf.variableGrads(() => negWeightedSumRate(mlpForward(model, d), d), [...model.weights.values()]);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    expect(Object.keys(grads)).toHaveLength(8);
    for (const [name, variable] of model.weights) {
      const v = grads[variable.name].dataSync();
      expect(v.every(Number.isFinite), name).toBe(true);
      expect(v.some((x) => x !== 0), name).toBe(true);
    }
    tf.dispose([value, ...Object.values(grads)]);
    disposeBatch(d);
    disposeMlp(model);
  });

  it('a few Adam steps (train, kind mlp) reduce the loss; mlpPowers of the result reaches the same sum rate', async () => {
    const rng = new Rng('mlp-adam');
    const insts = Array.from({ length: 16 }, () => rayleighInstance(rng, { K: 8, snrDb: 10 }));
    const losses: number[] = [];
    const tensors = tf.memory().numTensors;
    const c = await train({ kind: 'mlp', instances: insts, batch: 16, steps: 10, seed: 7, onStep: (s) => losses.push(s.loss) });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(c.architecture).toMatchObject({ kind: 'mlp', K: 8, ...MLP_DEFAULTS });
    expect(c.training).toMatchObject({ seed: 7, steps: 10, batch: 16, backend, K: 8 });
    const back = parseCheckpoint(serializeCheckpoint(c));
    expect(back.hash).toBe(c.hash);
    const model = mlpFromCheckpoint(c);
    const d = denseBatch(insts, c.architecture.features, { mlpInput: true });
    const after = tf.tidy(() => negWeightedSumRate(mlpForward(model, d), d).dataSync()[0]);
    disposeBatch(d);
    disposeMlp(model);
    expect(after).toBeLessThan(losses[0]);
    const policy = mlpPolicy(back);
    const mean = insts.reduce((s, inst) => s + objective(inst, { kind: 'power', p: policy(inst) }), 0) / insts.length;
    expect(Math.abs(mean + after) / mean).toBeLessThan(1e-5);
    // a training set of another K is refused with both Ks named
    await expect(train({ kind: 'mlp', init: c, instances: [rayleighInstance(rng, { K: 5, snrDb: 10 })], batch: 1, steps: 1, seed: 1 })).rejects.toThrow('the model is an MLP for K = 8 pairs, the batch has K = 5');
  });
});
