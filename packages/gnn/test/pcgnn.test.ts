import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAlgorithm, parseCheckpoint, runInProcess, serializeCheckpoint, weightsHash, type Checkpoint } from '@dmpemu/dmp';
import { D2D_NOISE_W, d2dInstance, rayleighInstance, Rng, type Instance } from '@dmpemu/wireless';
import { denseBatch, disposeBatch, disposePcgnn, ensureBackend, fitFeatureScaling, fitPowerScaling, negWeightedSumRate, pcgnnForward, pcgnnFromCheckpoint, PCGNN_DEFAULTS, train, type TfBackend } from '../src/index.ts';
import { partialCsiInstance, pcgnnArchitecture, randomCheckpoint, wideRangeInstance, expectPowersMatch } from './helpers.ts';

let backend: TfBackend;
beforeAll(async () => {
  backend = await ensureBackend();
});

/** The batched TF.js forward pass: powers p[b][k]. */
function tfPowers(c: Checkpoint, insts: Instance[]): number[][] {
  const model = pcgnnFromCheckpoint(c);
  const d = denseBatch(insts, c.architecture.features);
  const p = tf.tidy(() => tf.mul(pcgnnForward(model, d), d.pmax).arraySync() as number[][]);
  disposeBatch(d);
  disposePcgnn(model);
  return p;
}

/** Per-agent DMP (in-process executor) and batched TF.js agree on every power to 1e-5. */
function expectParity(c: Checkpoint, insts: Instance[]): void {
  const dmp = insts.map((inst) => runInProcess(inst, { name: 'pcgnn', checkpoint: c }));
  for (const r of dmp) expect(r.rounds).toBe(c.architecture.layers);
  expectPowersMatch(tfPowers(c, insts), dmp.map((r) => r.outputs.map((o) => o[0])));
}

describe('PCGNN (eqs. 20-21): TF.js batched model = per-agent DMP', () => {
  it('parity on Rayleigh K=8, full CSI, random weights (max aggregation)', () => {
    const rng = new Rng('pcgnn-parity-rayleigh');
    const insts = Array.from({ length: 4 }, () => rayleighInstance(rng, { K: 8, snrDb: 10, weighted: true }));
    expectParity(randomCheckpoint(pcgnnArchitecture(), rng), insts);
  });

  it('parity with a partial CSI mask, including an agent with no neighbours (empty aggregate = 0), every aggregation', () => {
    const rng = new Rng('pcgnn-parity-csi');
    const insts = Array.from({ length: 3 }, () => partialCsiInstance(rng));
    for (const aggregation of ['max', 'sum', 'mean'] as const) {
      expectParity(randomCheckpoint(pcgnnArchitecture({ aggregation }), rng), insts);
    }
  });

  it('parity with dB features fitted on wide-range gains, 3 layers, a deeper head and none', () => {
    const rng = new Rng('pcgnn-parity-db');
    const insts = Array.from({ length: 3 }, () => wideRangeInstance(rng));
    insts[1].csi = partialCsiInstance(rng).csi;
    const features = fitFeatureScaling(insts, 'db');
    expectParity(randomCheckpoint(pcgnnArchitecture({ features, layers: 3, hidden: 16, edgeEmbedding: 8, head: [12, 6] }), rng), insts);
    expectParity(randomCheckpoint(pcgnnArchitecture({ features, layers: 1, head: [] }), rng), insts);
  });

  it('parity with the transmit power as a node feature (powerFeature), networks at 0-40 dBm in one batch', () => {
    const rng = new Rng('pcgnn-parity-power');
    const insts = [0, 10, 25, 40].map((txPower) => d2dInstance(rng, { K: 10, field: 250, dmin: 10, dmax: 50, weighted: false, txPower }));
    const features = { ...fitFeatureScaling(insts, 'db'), power: fitPowerScaling(insts) };
    expectParity(randomCheckpoint(pcgnnArchitecture({ features, powerFeature: true }), rng), insts);
  });

  it('train with powerFeature fits the power scaling on the training powers (10-30 dBm: 10 log10(Pmax / sigma^2) = P + 102 dB)', async () => {
    const gen = (rng: Rng): Instance => d2dInstance(rng, { K: 6, field: 250, dmin: 10, dmax: 50, weighted: false, txPower: [10, 30] });
    const c = await train({ kind: 'pcgnn', generator: gen, batch: 32, steps: 2, seed: 3, architecture: { powerFeature: true, hidden: 8 } });
    expect(c.architecture).toMatchObject({ kind: 'pcgnn', powerFeature: true });
    expect(c.weights['embed.node.kernel'].shape).toEqual([3, 8]);
    const offset = -10 * Math.log10(D2D_NOISE_W) - 30; // the noise, -102.0 dBm
    expect(c.architecture.features.power!.shift - offset).toBeGreaterThan(17); // U[10, 30] dBm: mean 20 over 32 draws
    expect(c.architecture.features.power!.shift - offset).toBeLessThan(23);
    expect(c.architecture.features.power!.scale).toBeGreaterThan(4); // std 5.8
    expect(c.architecture.features.power!.scale).toBeLessThan(7.5);
    const plain = await train({ kind: 'pcgnn', generator: gen, batch: 4, steps: 1, seed: 3, architecture: { hidden: 8 } });
    expect(plain.architecture.features.power).toBeUndefined();
    expect(plain.architecture.powerFeature).toBeUndefined();
  });

  it('gradients of the loss are finite and non-zero for every weight', () => {
    const rng = new Rng('pcgnn-grads');
    const insts = [...Array.from({ length: 3 }, () => rayleighInstance(rng, { K: 8, snrDb: 10 })), partialCsiInstance(rng)];
    const c = randomCheckpoint(pcgnnArchitecture(), rng);
    const model = pcgnnFromCheckpoint(c);
    const d = denseBatch(insts, c.architecture.features);
    const { value, grads } = tf.variableGrads(() => negWeightedSumRate(pcgnnForward(model, d), d), [...model.weights.values()]);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    expect(Object.keys(grads)).toHaveLength(5 + 3 * 2 + 4); // embeddings, W_2; per layer W_1, W_3, b; head 2 layers
    for (const [name, variable] of model.weights) {
      const v = grads[variable.name].dataSync();
      expect(v.every(Number.isFinite), name).toBe(true);
      expect(v.some((x) => x !== 0), name).toBe(true);
    }
    tf.dispose([value, ...Object.values(grads)]);
    disposeBatch(d);
    disposePcgnn(model);
  });

  it('a few Adam steps (train, kind pcgnn) reduce the loss; the DMP runs the result and reaches the same sum rate', async () => {
    const rng = new Rng('pcgnn-adam');
    const insts = Array.from({ length: 16 }, () => rayleighInstance(rng, { K: 8, snrDb: 10 }));
    const losses: number[] = [];
    const tensors = tf.memory().numTensors;
    const c = await train({ kind: 'pcgnn', instances: insts, batch: 16, steps: 15, lr: 3e-3, seed: 7, onStep: (s) => losses.push(s.loss) });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(losses).toHaveLength(15);
    expect(c.architecture).toMatchObject({ kind: 'pcgnn', ...PCGNN_DEFAULTS });
    expect(c.architecture.features.transform).toBe('db');
    expect(c.training).toMatchObject({ seed: 7, steps: 15, batch: 16, lr: 3e-3, backend, K: 8 });
    const model = pcgnnFromCheckpoint(c);
    const d = denseBatch(insts, c.architecture.features);
    const after = tf.tidy(() => negWeightedSumRate(pcgnnForward(model, d), d).dataSync()[0]);
    disposeBatch(d);
    disposePcgnn(model);
    expect(after).toBeLessThan(losses[0]);
    const wsr = insts.map((inst) => runInProcess(inst, { name: 'pcgnn', checkpoint: c }).history.at(-1)!);
    const mean = wsr.reduce((s, x) => s + x, 0) / insts.length;
    expect(Math.abs(mean + after) / mean).toBeLessThan(1e-5);
  });

  it('a trained checkpoint round-trips through JSON and resumes; a tampered one is refused', async () => {
    const c = await train({ kind: 'pcgnn', generator: (rng) => rayleighInstance(rng, { K: 6, snrDb: 0 }), batch: 4, steps: 2, seed: 'gen', architecture: { layers: 3, hidden: 8 } });
    expect(c.architecture).toMatchObject({ kind: 'pcgnn', layers: 3, hidden: 8 });
    const back = parseCheckpoint(serializeCheckpoint(c));
    expect(back.hash).toBe(c.hash);
    const inst = rayleighInstance(new Rng(1), { K: 6, snrDb: 0 });
    expect(tfPowers(back, [inst])).toEqual(tfPowers(c, [inst]));
    const more = await train({ kind: 'pcgnn', init: back, generator: (rng) => rayleighInstance(rng, { K: 6, snrDb: 0 }), batch: 4, steps: 1, seed: 'more' });
    expect(more.architecture).toEqual(c.architecture);
    expect(more.training.steps).toBe(3);
    await expect(train({ init: back, instances: [inst], batch: 1, steps: 1, seed: 1 })).rejects.toThrow('train: the init checkpoint is a "pcgnn", kind is "wcgcn" (the default): pass kind "pcgnn"');
    const tampered = structuredClone(c);
    tampered.weights['layer.2.neighbour.kernel'].data[0] += 1e-3;
    expect(() => createAlgorithm({ name: 'pcgnn', checkpoint: tampered })).toThrow(`checkpoint hash mismatch: expected ${c.hash}, got ${weightsHash(tampered)}`);
    expect(() => pcgnnFromCheckpoint(tampered)).toThrow('checkpoint hash mismatch');
  });
});
