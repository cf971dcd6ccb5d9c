import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAlgorithm, parseCheckpoint, runInProcess, serializeCheckpoint, type Checkpoint } from '@dmpemu/dmp';
import { rayleighInstance, Rng, type Instance } from '@dmpemu/wireless';
import { denseBatch, disposeBatch, disposeWcgcn, ensureBackend, fitFeatureScaling, fromCheckpoint, negWeightedSumRate, train, wcgcnForward, type TfBackend } from '../src/index.ts';
import { architecture, partialCsiInstance, randomCheckpoint, wideRangeInstance, expectPowersMatch } from './helpers.ts';

let backend: TfBackend;
beforeAll(async () => {
  backend = await ensureBackend();
});

/** The batched TF.js forward pass: powers p[b][k]. */
function tfPowers(c: Checkpoint, insts: Instance[]): number[][] {
  const model = fromCheckpoint(c);
  const d = denseBatch(insts, c.architecture.features);
  const p = tf.tidy(() => tf.mul(wcgcnForward(model, d), d.pmax).arraySync() as number[][]);
  disposeBatch(d);
  disposeWcgcn(model);
  return p;
}

/** Per-agent DMP (in-process executor) and batched TF.js agree on every power to 1e-5. */
function expectParity(c: Checkpoint, insts: Instance[]): void {
  const dmp = insts.map((inst) => runInProcess(inst, { name: 'wcgcn', checkpoint: c }));
  for (const r of dmp) expect(r.rounds).toBe(c.architecture.layers);
  expectPowersMatch(tfPowers(c, insts), dmp.map((r) => r.outputs.map((o) => o[0])));
}

describe('WCGCN: TF.js batched model = per-agent DMP', () => {
  it('loads a backend', () => {
    expect(['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']).toContain(backend);
    expect(tf.getBackend()).toBe(backend.startsWith('tfjs-node') ? 'tensorflow' : backend);
  });

  it('parity on Rayleigh K=8, full CSI, random weights (max aggregation, ReLU messages)', () => {
    const rng = new Rng('parity-rayleigh');
    const insts = Array.from({ length: 4 }, () => rayleighInstance(rng, { K: 8, snrDb: 10, weighted: true }));
    expectParity(randomCheckpoint(architecture(), rng), insts);
  });

  it('parity with a partial CSI mask, including an agent with no neighbours (empty aggregate = 0)', () => {
    const rng = new Rng('parity-csi');
    const insts = Array.from({ length: 3 }, () => partialCsiInstance(rng));
    for (const aggregation of ['max', 'sum', 'mean'] as const) {
      expectParity(randomCheckpoint(architecture({ aggregation }), rng), insts);
    }
  });

  it('parity with dB features fitted on wide-range gains, linear messages, deeper MLPs', () => {
    const rng = new Rng('parity-db');
    const insts = Array.from({ length: 3 }, () => wideRangeInstance(rng));
    insts[1].csi = partialCsiInstance(rng).csi;
    const features = fitFeatureScaling(insts, 'db');
    expect(features.cross.shift).toBeLessThan(features.direct.shift); // cross links are weaker
    const a = architecture({ features, mlp1Output: 'linear', mlp1: [5, 16, 8, 24], mlp2: [27, 12, 6, 1], layers: 2 });
    expectParity(randomCheckpoint(a, rng), insts);
  });

  it('gradients of the loss are finite and non-zero for every weight', () => {
    const rng = new Rng('grads');
    const insts = [...Array.from({ length: 3 }, () => rayleighInstance(rng, { K: 8, snrDb: 10 })), partialCsiInstance(rng)];
    const c = randomCheckpoint(architecture(), rng);
    const model = fromCheckpoint(c);
    const d = denseBatch(insts, c.architecture.features);
    const { value, grads } = tf.variableGrads(() => negWeightedSumRate(wcgcnForward(model, d), d), [...model.weights.values()]);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    expect(Object.keys(grads)).toHaveLength(8);
    for (const [name, variable] of model.weights) {
      const v = grads[variable.name].dataSync();
      expect(v.every(Number.isFinite), name).toBe(true);
      expect(v.some((x) => x !== 0), name).toBe(true);
    }
    tf.dispose([value, ...Object.values(grads)]);
    disposeBatch(d);
    disposeWcgcn(model);
  });

  it('20 Adam steps on a fixed batch reduce the loss; the result is a verified checkpoint the DMP runs', async () => {
    const rng = new Rng('adam');
    const insts = Array.from({ length: 16 }, () => rayleighInstance(rng, { K: 8, snrDb: 10 }));
    const losses: number[] = [];
    const c = await train({ instances: insts, batch: 16, steps: 20, seed: 7, onStep: (s) => losses.push(s.loss) });
    expect(losses).toHaveLength(20);
    const model = fromCheckpoint(c);
    const d = denseBatch(insts, c.architecture.features);
    const after = tf.tidy(() => negWeightedSumRate(wcgcnForward(model, d), d).dataSync()[0]);
    disposeBatch(d);
    disposeWcgcn(model);
    expect(after).toBeLessThan(losses[0]);
    expect(c.training).toMatchObject({ seed: 7, steps: 20, batch: 16, lr: 1e-3, backend, K: 8 });
    expect(c.architecture.features.transform).toBe('db');
    // the DMP runs the trained weights and reaches the same sum rate as the TF loss says
    const wsr = insts.map((inst) => runInProcess(inst, { name: 'wcgcn', checkpoint: c }).history.at(-1)!);
    const mean = wsr.reduce((s, x) => s + x, 0) / insts.length;
    expect(Math.abs(mean + after) / mean).toBeLessThan(1e-5);
  });

  it('a diverging run throws, naming the weight and the step, instead of returning a checkpoint of infinite weights', async () => {
    const insts = Array.from({ length: 4 }, (_, i) => rayleighInstance(new Rng(`diverge/${i}`), { K: 4, snrDb: 10 }));
    const tensorsBefore = tf.memory().numTensors;
    const o = { instances: insts, batch: 4, seed: 7, lr: 1e300, architecture: { layers: 2, mlp1: [5, 8, 8], mlp2: [11, 8, 1] } };
    // one step of Adam moves every weight by about lr: the checkpoint after it holds -/+Infinity
    await expect(train({ ...o, steps: 1 })).rejects.toThrow(/^training diverged: weight mlp1\.0\.kernel is -?Infinity at index \d+ after step 1 \(a lower learning rate than 1e\+300 may help\)$/);
    // the second step computes its loss on those weights
    await expect(train({ ...o, steps: 2 })).rejects.toThrow('training diverged: the loss is NaN at step 2 (a lower learning rate than 1e+300 may help)');
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('trains from a generator without leaking tensors; a checkpoint round-trips through JSON to the same model', async () => {
    const tensors = tf.memory().numTensors;
    const c = await train({ generator: (rng) => rayleighInstance(rng, { K: 6, snrDb: 0 }), batch: 4, steps: 2, seed: 'gen', architecture: { layers: 2 } });
    expect(tf.memory().numTensors).toBe(tensors);
    const back = parseCheckpoint(serializeCheckpoint(c));
    expect(back.hash).toBe(c.hash);
    const inst = rayleighInstance(new Rng(1), { K: 6, snrDb: 0 });
    expect(tfPowers(back, [inst])).toEqual(tfPowers(c, [inst]));
    expect(() => createAlgorithm({ name: 'wcgcn', checkpoint: back })).not.toThrow();
  });
});
