import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCheckpoint, runInProcess, serializeCheckpoint, type Checkpoint } from '@dmpemu/dmp';
import { d2dInstance, rayleighInstance, Rng, type Instance } from '@dmpemu/wireless';
import { denseBatch, disposeBatch, disposeModel, ECGNN_DEFAULTS, ecgnnForward, ecgnnFromCheckpoint, ensureBackend, fitFeatureScaling, negWeightedSumRate, train } from '../src/index.ts';
import { ecgnnArchitecture, partialCsiInstance, randomCheckpoint, wideRangeInstance, expectPowersMatch } from './helpers.ts';

beforeAll(async () => {
  await ensureBackend();
});

/** The batched TF.js forward pass: powers p[b][k]. */
function tfPowers(c: Checkpoint, insts: Instance[]): number[][] {
  const model = ecgnnFromCheckpoint(c);
  const d = denseBatch(insts, c.architecture.features);
  const p = tf.tidy(() => tf.mul(ecgnnForward(model, d), d.pmax).arraySync() as number[][]);
  disposeBatch(d);
  disposeModel(model);
  return p;
}

/** Per-agent DMP (in-process executor) and batched TF.js agree on every power to 1e-5. */
function expectParity(c: Checkpoint, insts: Instance[]): void {
  const dmp = insts.map((inst) => runInProcess(inst, { name: 'ecgnn', checkpoint: c }));
  for (const r of dmp) expect(r.rounds).toBe(c.architecture.layers);
  expectPowersMatch(tfPowers(c, insts), dmp.map((r) => r.outputs.map((o) => o[0])));
}

describe('ECGNN (eq. 12): TF.js batched model = per-agent DMP', () => {
  it('parity on Rayleigh K=8, full CSI', () => {
    const rng = new Rng('ecgnn-parity-rayleigh');
    const insts = Array.from({ length: 4 }, () => rayleighInstance(rng, { K: 8, snrDb: 10, weighted: true }));
    expectParity(randomCheckpoint(ecgnnArchitecture(), rng), insts);
  });

  it('parity with a partial CSI mask, including an agent with no neighbours (empty mean = 0), 3 layers and no head', () => {
    const rng = new Rng('ecgnn-parity-csi');
    const insts = Array.from({ length: 3 }, () => partialCsiInstance(rng));
    expectParity(randomCheckpoint(ecgnnArchitecture(), rng), insts);
    expectParity(randomCheckpoint(ecgnnArchitecture({ layers: 3, hidden: [8, 8, 12], head: [] }), rng), insts);
  });

  it('parity with dB features fitted on wide-range gains and on D2D networks with a CSI range', () => {
    const rng = new Rng('ecgnn-parity-db');
    const wide = Array.from({ length: 3 }, () => wideRangeInstance(rng));
    expectParity(randomCheckpoint(ecgnnArchitecture({ features: fitFeatureScaling(wide, 'db') }), rng), wide);
    const d2d = Array.from({ length: 3 }, () => d2dInstance(rng, { K: 12, field: 300, csiRange: 120 }));
    expectParity(randomCheckpoint(ecgnnArchitecture({ features: fitFeatureScaling(d2d, 'db') }), rng), d2d);
  });

  it('gradients of the loss are finite and non-zero for every weight', () => {
    const rng = new Rng('ecgnn-grads');
    const insts = [...Array.from({ length: 3 }, () => rayleighInstance(rng, { K: 8, snrDb: 10 })), partialCsiInstance(rng)];
    const c = randomCheckpoint(ecgnnArchitecture(), rng);
    const model = ecgnnFromCheckpoint(c);
    const d = denseBatch(insts, c.architecture.features);
    const { value, grads } = tf.variableGrads(() => negWeightedSumRate(ecgnnForward(model, d), d), [...model.weights.values()]);
    expect(Object.keys(grads)).toHaveLength(2 * 4 + 4); // per layer W1, w2, W3, b; head 2 layers
    for (const [name, variable] of model.weights) {
      const v = grads[variable.name].dataSync();
      expect(v.every(Number.isFinite), name).toBe(true);
      expect(v.some((x) => x !== 0), name).toBe(true);
    }
    tf.dispose([value, ...Object.values(grads)]);
    disposeBatch(d);
    disposeModel(model);
  });

  it('a few Adam steps (train, kind ecgnn) lower the loss; the DMP runs the result and reaches the same sum rate; JSON round trip', async () => {
    const rng = new Rng('ecgnn-adam');
    const insts = Array.from({ length: 16 }, () => rayleighInstance(rng, { K: 8, snrDb: 10 }));
    const losses: number[] = [];
    const tensors = tf.memory().numTensors;
    const c = await train({ kind: 'ecgnn', instances: insts, batch: 16, steps: 15, lr: 3e-3, seed: 7, onStep: (s) => losses.push(s.loss) });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(c.architecture).toMatchObject({ kind: 'ecgnn', ...ECGNN_DEFAULTS });
    const model = ecgnnFromCheckpoint(c);
    const d = denseBatch(insts, c.architecture.features);
    const after = tf.tidy(() => negWeightedSumRate(ecgnnForward(model, d), d).dataSync()[0]);
    disposeBatch(d);
    disposeModel(model);
    expect(after).toBeLessThan(losses[0]);
    const wsr = insts.map((inst) => runInProcess(inst, { name: 'ecgnn', checkpoint: c }).history.at(-1)!);
    const mean = wsr.reduce((s, x) => s + x, 0) / insts.length;
    expect(Math.abs(mean + after) / mean).toBeLessThan(1e-5);
    expect(parseCheckpoint(serializeCheckpoint(c)).hash).toBe(c.hash);
  });
});
