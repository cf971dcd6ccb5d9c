import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { cellFreeMlpPolicy, makeCheckpoint, runCellFreeInProcess, type CellFreeArchitecture, type Checkpoint } from '@dmpemu/dmp';
import { cellFreeInstance, cellFreeMinRate, cellFreeOptimal, Rng } from '@dmpemu/wireless';
import { CF_MLP_DEFAULTS, CF_PCGNN_DEFAULTS, cellFreeBatch, cellFreeForward, cfPcgnnForward, disposeCellFreeBatch, ensureBackend, fitCellFreeScaling, HETGNN_DEFAULTS, initCellFree, initCfPcgnn, negSoftMinRate, trainCellFree, trainCfPcgnn } from '../src/index.ts';

describe('CF-PCGNN in TensorFlow.js (cell-free massive MIMO)', () => {
  const insts = Array.from({ length: 6 }, (_, n) => cellFreeInstance(Rng.derive(21, n), { M: 10, K: 4 }));

  it('HetGNN and the MLP: batched forward equals the per-agent HetGNN DMP and the centralized MLP (parity, float32)', async () => {
    await ensureBackend();
    const features = fitCellFreeScaling(insts);
    const archs: CellFreeArchitecture[] = [
      { kind: 'hetgnn', task: 'power', ...HETGNN_DEFAULTS, head: [16], features },
      { kind: 'cf-mlp', task: 'power', M: 10, K: 4, hidden: [...CF_MLP_DEFAULTS.hidden], features },
    ];
    for (const a of archs) {
      const m = initCellFree(a, new Rng(4));
      const weights: Record<string, { shape: number[]; data: Float32Array }> = {};
      for (const [name, v] of m.weights) weights[name] = { shape: [...v.shape], data: v.dataSync() as Float32Array };
      const c = makeCheckpoint({ architecture: a, weights, training: {}, metrics: {} }) as Checkpoint<CellFreeArchitecture>;
      const d = cellFreeBatch(insts, features);
      const p = cellFreeForward(m, d).arraySync() as number[][];
      insts.forEach((inst, b) => {
        const per = a.kind === 'hetgnn' ? runCellFreeInProcess(inst, { name: 'hetgnn', checkpoint: c }).p : cellFreeMlpPolicy(c as Checkpoint<Extract<CellFreeArchitecture, { kind: 'cf-mlp' }>>)(inst);
        per.forEach((x, k) => expect(p[b][k]).toBeCloseTo(x, 5));
      });
      expect(new Set(p.flat().map((x) => x.toFixed(6))).size).toBeGreaterThan(4); // not a constant
      disposeCellFreeBatch(d);
    }
  });

  it('trainCellFree trains each kind: the minimum rate rises over the training', async () => {
    const train = Array.from({ length: 100 }, (_, n) => cellFreeInstance(Rng.derive(24, n), { M: 10, K: 4 }));
    for (const kind of ['hetgnn', 'cf-mlp'] as const) {
      const losses: number[] = [];
      const c = await trainCellFree({ kind, instances: train, steps: 200, batch: 32, lr: 0.003, seed: 1, onStep: (_s, l) => void losses.push(l) });
      expect(c.architecture.kind).toBe(kind);
      expect(losses.slice(-20).reduce((s, x) => s + x, 0)).toBeLessThan(losses.slice(0, 20).reduce((s, x) => s + x, 0));
    }
  });

  it('batched forward equals the per-agent DMP over APs and users (parity, float32)', async () => {
    await ensureBackend();
    const a = { kind: 'cf-pcgnn' as const, task: 'power' as const, ...CF_PCGNN_DEFAULTS, head: [16], layers: 3, features: fitCellFreeScaling(insts) };
    const m = initCfPcgnn(a, new Rng(2));
    const weights: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [name, v] of m.weights) weights[name] = { shape: [...v.shape], data: v.dataSync() as Float32Array };
    const c = makeCheckpoint({ architecture: a, weights, training: {}, metrics: {} });
    const d = cellFreeBatch(insts, a.features);
    const p = (cfPcgnnForward(m, d).arraySync() as number[][]);
    insts.forEach((inst, b) => {
      const dmp = runCellFreeInProcess(inst, { name: 'cf-pcgnn', checkpoint: c }).p;
      dmp.forEach((x, k) => expect(p[b][k]).toBeCloseTo(x, 5));
    });
    // the soft minimum lies below the minimum, within log(K) / beta
    const r = insts.map((inst, b) => cellFreeMinRate(inst, p[b]));
    const soft = -negSoftMinRate(tf.tensor2d(p), d, 10).dataSync()[0];
    const mean = r.reduce((s, x) => s + x, 0) / r.length;
    expect(soft).toBeLessThanOrEqual(mean + 1e-4);
    expect(soft).toBeGreaterThan(mean - Math.log(4) / 10 - 1e-4);
    disposeCellFreeBatch(d);
  });

  it('trains on the soft minimum: its minimum rate rises from the initial model towards the optimum', async () => {
    const train = Array.from({ length: 200 }, (_, n) => cellFreeInstance(Rng.derive(22, n), { M: 10, K: 4 }));
    const test = Array.from({ length: 50 }, (_, n) => cellFreeInstance(Rng.derive(23, n), { M: 10, K: 4 }));
    const losses: number[] = [];
    const c = await trainCfPcgnn({ instances: train, steps: 300, batch: 32, lr: 0.003, seed: 1, onStep: (_s, l) => void losses.push(l) });
    const first = losses.slice(0, 20).reduce((s, x) => s + x, 0) / 20, last = losses.slice(-20).reduce((s, x) => s + x, 0) / 20;
    expect(last).toBeLessThan(first);
    const mean = (f: (i: (typeof test)[number]) => number) => test.reduce((s, i) => s + f(i), 0) / test.length;
    const learned = mean((i) => cellFreeMinRate(i, runCellFreeInProcess(i, { name: 'cf-pcgnn', checkpoint: c }).p));
    const optimal = mean((i) => cellFreeMinRate(i, cellFreeOptimal(i).p));
    const full = mean((i) => cellFreeMinRate(i, new Float64Array(4).fill(1)));
    expect(learned).toBeGreaterThan(full);
    expect(learned).toBeLessThanOrEqual(optimal * (1 + 1e-9));
    expect(c.training).toMatchObject({ trainingSetSize: 200, samplesSeen: 9600 });
  });
});
