import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeCheckpoint, parseCheckpoint, runInProcess, serializeCheckpoint, uwmmseWeightShapes, type Checkpoint, type UwmmseArchitecture } from '@dmpemu/dmp';
import { d2dInstance, rayleighInstance, Rng, type Instance } from '@dmpemu/wireless';
import { denseBatch, disposeBatch, disposeModel, ensureBackend, fitUwmmseScaling, negWeightedSumRate, train, UWMMSE_DEFAULTS, uwmmseForward, uwmmseFromCheckpoint, uwmmseShift } from '../src/index.ts';
import { partialCsiInstance, expectPowersMatch } from './helpers.ts';

beforeAll(async () => {
  await ensureBackend();
});

function arch(insts: Instance[], o: Partial<UwmmseArchitecture> = {}): UwmmseArchitecture {
  return { kind: 'uwmmse', task: 'power', ...UWMMSE_DEFAULTS, features: fitUwmmseScaling(insts, 'log1p'), ...o };
}

/** Random kernels and biases ~ N(0, 1/fan_in). */
function randomCheckpoint(a: UwmmseArchitecture, rng: Rng): Checkpoint<UwmmseArchitecture> {
  const weights: Checkpoint['weights'] = {};
  for (const [name, shape] of Object.entries(uwmmseWeightShapes(a))) {
    const n = shape.reduce((x, y) => x * y, 1);
    weights[name] = { shape, data: Float32Array.from({ length: n }, () => rng.normal() / Math.sqrt(shape[0])) };
  }
  return makeCheckpoint({ architecture: a, weights, training: {}, metrics: {} });
}

/** The batched TF.js forward pass: powers p[b][k]. */
function tfPowers(c: Checkpoint<UwmmseArchitecture>, insts: Instance[]): number[][] {
  const model = uwmmseFromCheckpoint(c);
  const d = denseBatch(insts, c.architecture.features);
  const p = tf.tidy(() => tf.mul(uwmmseForward(model, d, uwmmseShift(insts, c.architecture)), d.pmax).arraySync() as number[][]);
  disposeBatch(d);
  disposeModel(model);
  return p;
}

/** Per-agent DMP (in-process executor) and batched TF.js agree on every power to 1e-5. */
function expectParity(c: Checkpoint<UwmmseArchitecture>, insts: Instance[]): void {
  const dmp = insts.map((inst) => runInProcess(inst, { name: 'uwmmse', checkpoint: c }));
  for (const r of dmp) expect(r.rounds).toBe(2 * c.architecture.layers);
  expectPowersMatch(tfPowers(c, insts), dmp.map((r) => r.outputs.map((o) => o[0])), 0.01);
}

describe('UWMMSE: TF.js batched model = per-agent DMP', () => {
  it('parity on Rayleigh K=8, full CSI, weighted', () => {
    const rng = new Rng('uwmmse-parity-rayleigh');
    const insts = Array.from({ length: 4 }, () => rayleighInstance(rng, { K: 8, snrDb: 10, weighted: true }));
    expectParity(randomCheckpoint(arch(insts), rng), insts);
  });

  it('parity with a partial CSI mask, including an agent with no neighbours, 1 and 4 layers, linear shift', () => {
    const rng = new Rng('uwmmse-parity-csi');
    const insts = Array.from({ length: 3 }, () => partialCsiInstance(rng));
    expectParity(randomCheckpoint(arch(insts), rng), insts);
    expectParity(randomCheckpoint(arch(insts, { layers: 1, gcnHidden: 3, features: fitUwmmseScaling(insts, 'linear') }), rng), insts);
  });

  it('parity on D2D networks at 40 dBm (SNR up to ~10^7, where 1 - u g v cancels in float32), full CSI and a CSI range', () => {
    const rng = new Rng('uwmmse-parity-d2d');
    const insts = [...Array.from({ length: 3 }, () => d2dInstance(rng, { K: 10, field: 250, dmin: 10, dmax: 50, weighted: false })), d2dInstance(rng, { K: 10, field: 250, csiRange: 80 })];
    expectParity(randomCheckpoint(arch(insts), rng), insts);
  });

  it('gradients of the loss are finite and non-zero for every weight', () => {
    const rng = new Rng('uwmmse-grads');
    const insts = [...Array.from({ length: 3 }, () => rayleighInstance(rng, { K: 8, snrDb: 10 })), partialCsiInstance(rng)];
    const c = randomCheckpoint(arch(insts, { layers: 2 }), rng);
    const model = uwmmseFromCheckpoint(c);
    const d = denseBatch(insts, c.architecture.features);
    const { value, grads } = tf.variableGrads(() => negWeightedSumRate(uwmmseForward(model, d, uwmmseShift(insts, c.architecture)), d), [...model.weights.values()]);
    expect(Object.keys(grads)).toHaveLength(2 * 2 * 6); // per iteration: two Psi of 6 tensors
    for (const [name, variable] of model.weights) {
      const v = grads[variable.name].dataSync();
      expect(v.every(Number.isFinite), name).toBe(true);
      expect(v.some((x) => x !== 0), name).toBe(true);
    }
    tf.dispose([value, ...Object.values(grads)]);
    disposeBatch(d);
    disposeModel(model);
  });

  it('a few Adam steps (train, kind uwmmse) lower the loss; the DMP runs the result and reaches the same sum rate; JSON round trip', async () => {
    const rng = new Rng('uwmmse-adam');
    const insts = Array.from({ length: 16 }, () => d2dInstance(rng, { K: 10, field: 250, dmin: 10, dmax: 50, weighted: false }));
    const losses: number[] = [];
    const tensors = tf.memory().numTensors;
    const c = await train({ kind: 'uwmmse', instances: insts, batch: 16, steps: 15, lr: 1e-2, seed: 7, onStep: (s) => losses.push(s.loss) });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(c.architecture).toMatchObject({ kind: 'uwmmse', ...UWMMSE_DEFAULTS, features: { transform: 'log1p' } });
    const model = uwmmseFromCheckpoint(c);
    const d = denseBatch(insts, c.architecture.features);
    const after = tf.tidy(() => negWeightedSumRate(uwmmseForward(model, d, uwmmseShift(insts, model.architecture)), d).dataSync()[0]);
    disposeBatch(d);
    disposeModel(model);
    expect(after).toBeLessThan(losses[0]);
    const wsr = insts.map((inst) => runInProcess(inst, { name: 'uwmmse', checkpoint: c }).history.at(-1)!);
    const mean = wsr.reduce((s, x) => s + x, 0) / insts.length;
    expect(Math.abs(mean + after) / mean).toBeLessThan(1e-5);
    expect(parseCheckpoint(serializeCheckpoint(c)).hash).toBe(c.hash);
    await expect(train({ kind: 'uwmmse', instances: insts, batch: 4, steps: 1, seed: 1, features: 'db' })).rejects.toThrow('uwmmse: features must be log1p or linear (the graph shift is an edge weight), got db');
  });
});
