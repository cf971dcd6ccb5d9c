import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  createAlgorithm,
  loadCheckpoint,
  makeCheckpoint,
  parseCheckpoint,
  regnnRounds,
  regnnWeightShapes,
  runInProcess,
  serializeCheckpoint,
  type Checkpoint,
  type RegnnArchitecture,
} from '@dmpemu/dmp';
import {
  disposeRegnn,
  disposeRegnnBatch,
  dualStep,
  dualUpdate,
  ensureBackend,
  fitRegnnScaling,
  lambdaUpdate,
  regnnBatch,
  regnnFromCheckpoint,
  regnnPolicy,
  trainRegnn,
  type PrimalDualStep,
} from '@dmpemu/gnn';
import { generateInstance, objective, Rng, runCentralized, withMissingCsi, type Instance } from '@dmpemu/wireless';

const adhoc = (rng: Rng, K: number): Instance => generateInstance('regnn-adhoc', rng, { K });

/** A REGNN with layers of 3, 1 and 4 taps (a single-tap layer runs no round) and random weights ~ N(0, 1/fan_in). */
function randomRegnn(o: Partial<RegnnArchitecture>, sample: Instance[], seed: number): Checkpoint<RegnnArchitecture> {
  const rng = new Rng(seed);
  const a: RegnnArchitecture = { kind: 'regnn', task: 'power', layers: 3, taps: [3, 1, 4], widths: [4, 3, 1], p0: 4, shift: 'outgoing', decision: 'expected', features: fitRegnnScaling(sample, 4), ...o };
  const weights: Checkpoint['weights'] = {};
  for (const [name, shape] of Object.entries(regnnWeightShapes(a))) {
    const n = shape.reduce((x, y) => x * y, 1);
    weights[name] = { shape, data: Float32Array.from({ length: n }, () => rng.normal() / Math.sqrt(shape[0])) };
  }
  return makeCheckpoint({ architecture: a, weights, training: { note: 'random weights' }, metrics: {} });
}

/** pi [B][K] from the TF.js forward pass. */
async function tfPolicy(c: Checkpoint, insts: Instance[]): Promise<number[][]> {
  await ensureBackend();
  const m = regnnFromCheckpoint(c);
  const d = regnnBatch(insts, m.architecture as RegnnArchitecture);
  try {
    return tf.tidy(() => regnnPolicy(m, d).arraySync());
  } finally {
    disposeRegnnBatch(d);
    disposeRegnn(m);
  }
}

describe('REGNN (regnn-primal-dual.md, eqs. 12-14) as a DMP', () => {
  const rng = new Rng(11);
  const insts = [adhoc(rng, 12), adhoc(rng, 12), adhoc(rng, 12)];
  insts.push(withMissingCsi(insts[0], { select: 'uniform', fraction: 0.5 }, new Rng(2)));

  it('the TF.js policy and the agents (runInProcess) agree to 1e-5, in sum(K_l - 1) rounds, with full and partial CSI', async () => {
    for (const shift of ['outgoing', 'incoming'] as const) {
      const c = randomRegnn({ shift }, insts, shift === 'outgoing' ? 1 : 2);
      const pi = await tfPolicy(c, insts);
      const spread = pi.flat().filter((q) => q > 0.05 && q < 0.95).length;
      expect(spread).toBeGreaterThan(10); // not saturated: the comparison means something
      insts.forEach((inst, b) => {
        const r = runInProcess(inst, { name: 'regnn', checkpoint: c });
        expect(r.rounds).toBe(2 + 0 + 3);
        expect(r.history.slice(0, 4)).toEqual([0, 0, 0, 0]); // silent until the logit is known
        r.outputs.forEach((out, k) => expect(Math.abs(out[0] / 4 - pi[b][k])).toBeLessThan(1e-5));
      });
      // missing CSI changes the policy of the agents that lost edges
      expect(pi[3]).not.toEqual(pi[0]);
    }
  });

  it('deploys the Bernoulli policy as p0 where pi > 1/2 (threshold), as TF.js says', async () => {
    // random weights give similar pi everywhere: move the logit's bias to the median logit, so about half transmit
    const c0 = randomRegnn({ decision: 'threshold' }, insts, 1);
    const logits = (await tfPolicy(c0, insts)).flat().map((q) => Math.log(q / (1 - q))).sort((x, y) => x - y);
    const bias = { shape: [1], data: Float32Array.of(c0.weights['layer.2.bias'].data[0] - (logits[20] + logits[21]) / 2) };
    const c = makeCheckpoint({ architecture: c0.architecture, weights: { ...c0.weights, 'layer.2.bias': bias }, training: {}, metrics: {} });
    const pi = await tfPolicy(c, insts);
    insts.forEach((inst, b) => {
      const p = runInProcess(inst, { name: 'regnn', checkpoint: c }).outputs.map((o) => o[0]);
      expect(p).toEqual(pi[b].map((q) => (q > 0.5 ? 4 : 0)));
    });
    expect(pi.flat().some((q) => q > 0.5) && pi.flat().some((q) => q < 0.5)).toBe(true);
  });

  it('runs the paper architecture in 8 x 4 = 32 rounds', () => {
    const c = randomRegnn({ layers: 8, taps: [5, 5, 5, 5, 5, 5, 5, 5], widths: [1, 1, 1, 1, 1, 1, 1, 1] }, insts, 4);
    expect(regnnRounds(c.architecture)).toBe(32);
    expect(createAlgorithm({ name: 'regnn', checkpoint: c }).rounds).toBe(32);
    expect(runInProcess(insts[1], { name: 'regnn', checkpoint: c }).rounds).toBe(32);
  });

  it('refuses a spec without a checkpoint, other round counts, wrong shapes and wrong architectures', () => {
    expect(() => createAlgorithm({ name: 'regnn' })).toThrow('regnn: the algorithm spec has no checkpoint (train one with trainRegnn from @dmpemu/gnn, or load one with loadCheckpoint)');
    const c = randomRegnn({}, insts, 5);
    expect(() => createAlgorithm({ name: 'regnn', checkpoint: c, rounds: 4 })).toThrow("regnn: rounds must equal the checkpoint's sum of (K_l - 1) = 5 (one per shift of H), got 4");
    const bad = structuredClone(c);
    bad.weights['layer.1.taps'] = { shape: [3, 3], data: new Float32Array(9) };
    const rehashed = makeCheckpoint({ architecture: bad.architecture, weights: bad.weights, training: {}, metrics: {} });
    expect(() => createAlgorithm({ name: 'regnn', checkpoint: rehashed })).toThrow('regnn checkpoint: weight layer.1.taps has shape [3,3] with 9 values, expected [4,3]');
    const noRound = makeCheckpoint({ architecture: { ...c.architecture, taps: [1, 1, 1] }, weights: c.weights, training: {}, metrics: {} });
    expect(() => createAlgorithm({ name: 'regnn', checkpoint: noRound })).toThrow('regnn checkpoint: architecture.taps must include a filter of length >= 2 (taps [1,1,1] run no rounds)');
    const wide = makeCheckpoint({ architecture: { ...c.architecture, widths: [4, 3, 2] }, weights: c.weights, training: {}, metrics: {} });
    expect(() => createAlgorithm({ name: 'regnn', checkpoint: wide })).toThrow('regnn checkpoint: architecture.widths must end in 1 (the policy logit)');
    expect(() => createAlgorithm({ name: 'pcgnn', checkpoint: c })).toThrow('pcgnn checkpoint: architecture.kind must be "pcgnn", got "regnn"');
  });

  it('round-trips through serializeCheckpoint / parseCheckpoint; a tampered weight is refused', () => {
    const c = randomRegnn({}, insts, 6);
    const back = parseCheckpoint(serializeCheckpoint(c), 'regnn.json');
    expect(back.hash).toBe(c.hash);
    expect(back.architecture).toEqual(c.architecture);
    expect(runInProcess(insts[2], { name: 'regnn', checkpoint: back }).outputs).toEqual(runInProcess(insts[2], { name: 'regnn', checkpoint: c }).outputs);
    const tampered = structuredClone(c);
    tampered.weights['layer.2.taps'].data[0] += 1e-3;
    expect(() => parseCheckpoint(serializeCheckpoint(tampered), 'regnn.json')).toThrow(new RegExp(`^checkpoint hash mismatch: expected ${c.hash}, got [0-9a-f]{64}$`));
    expect(() => createAlgorithm({ name: 'regnn', checkpoint: tampered })).toThrow(`checkpoint hash mismatch: expected ${c.hash}`);
  });
});

describe('primal-dual training (Algorithm 1)', () => {
  it('updates the multipliers as eqs. 43 and 45 say, with a geometric step', () => {
    expect(dualUpdate(0.3, 2, 0.1)).toBeCloseTo(0.5, 15); // over budget: the price of power rises
    expect(dualUpdate(0.3, -5, 0.1)).toBe(0); // under budget: 0.3 - 0.5 projected on mu >= 0
    expect(dualUpdate(0, -1, 0.1)).toBe(0);
    const lambda = lambdaUpdate(Float64Array.of(1, 2), Float64Array.of(0.5, 1), Float64Array.of(1, 0.5), 0.1); // lambda - eps (f - r)
    expect(lambda[0]).toBeCloseTo(1.05, 15);
    expect(lambda[1]).toBeCloseTo(1.95, 15);
    expect(dualStep(0.01, 0.5, 3)).toBe(0.00125);
  });

  const pool = Array.from({ length: 16 }, (_, i) => adhoc(Rng.derive('regnn-test-pool', i), 20));
  /** 40 steps on the same 16 instances every step (comparable objectives), a 2-layer REGNN. */
  const run = async (Pmax: number): Promise<{ steps: PrimalDualStep[]; c: Checkpoint<RegnnArchitecture> }> => {
    let i = 0;
    const steps: PrimalDualStep[] = [];
    const c = await trainRegnn({
      generator: () => pool[i++ % pool.length],
      steps: 40, batch: 16, samples: 4, seed: 5, lr: 1e-2, dualStep: 1e-4, dualDecay: 0.99, Pmax,
      architecture: { layers: 2, taps: [5, 5], widths: [8, 1] },
      onStep: (s) => steps.push(s),
    });
    return { steps, c };
  };
  const avg = (xs: PrimalDualStep[], f: (s: PrimalDualStep) => number): number => xs.reduce((a, s) => a + f(s), 0) / xs.length;

  it('a few dozen steps on m = 20 raise the sum capacity and the Lagrangian (slack budget; seeded, deterministic)', async () => {
    const { steps, c } = await run(80);
    const first = steps.slice(0, 5), last = steps.slice(-5);
    expect(avg(first, (s) => s.objective)).toBeLessThan(3.5);
    expect(avg(last, (s) => s.objective)).toBeGreaterThan(avg(first, (s) => s.objective) + 2);
    expect(avg(last, (s) => s.lagrangian)).toBeGreaterThan(avg(first, (s) => s.lagrangian) + 2);
    expect(steps.every((s) => s.mu === 0)).toBe(true); // E[1^T p] < Pmax: the price of power stays 0
    expect(c.training).toMatchObject({ steps: 40, batch: 16, actionSamples: 4, samplesSeen: 640, K: 20, Pmax: 80, dualStep: 1e-4, dualDecay: 0.99 });
    expect((c.training.dual as { lambda: number[] }).lambda).toHaveLength(20);
    expect(c.metrics.objective).toBeCloseTo(avg(steps.slice(-4), (s) => s.objective), 10);
    expect((await run(80)).c.hash).toBe(c.hash);
  });

  it('over budget, mu follows eq. 43 step by step and the checkpoint records it', async () => {
    const { steps, c } = await run(20);
    let mu = 0;
    for (const s of steps) {
      mu = dualUpdate(mu, s.power - 20, dualStep(1e-4, 0.99, s.step));
      expect(s.mu).toBeCloseTo(mu, 12);
    }
    expect(mu).toBeGreaterThan(0.01);
    expect((c.training.dual as { mu: number }).mu).toBe(steps.at(-1)!.mu);
    expect(c.metrics).toMatchObject({ Pmax: 20, mu: steps.at(-1)!.mu });
  });
});

const MODEL = new URL('../scenarios/models/regnn-adhoc-m20.json', import.meta.url).pathname;

describe.runIf(existsSync(MODEL))('the trained REGNN (scenarios/models/regnn-adhoc-m20.json)', () => {
  it('runs as agents in 16 rounds, beats WMMSE-100 at the same power budget and spends about Pmax on average', () => {
    const c = loadCheckpoint(MODEL);
    expect(c.architecture).toMatchObject({ kind: 'regnn', layers: 4, taps: [5, 5, 5, 5], widths: [16, 16, 16, 1], p0: 4, decision: 'threshold' });
    const rng = new Rng('regnn-model-test');
    let regnn = 0, wmmse = 0, power = 0;
    for (let n = 0; n < 40; n++) {
      const inst = adhoc(rng, 20);
      const r = runInProcess(inst, { name: 'regnn', checkpoint: c }, { history: false });
      expect(r.rounds).toBe(16);
      const p = Float64Array.from(r.outputs, (o) => o[0]);
      regnn += objective(inst, { kind: 'power', p }) / 40;
      power += p.reduce((a, b) => a + b, 0) / 40;
      wmmse += objective(inst, runCentralized('wmmse', inst)) / 40; // p_k <= Pmax / m = 1: at most the same total
    }
    expect(regnn).toBeGreaterThan(1.3 * wmmse);
    expect(power).toBeGreaterThan(15);
    expect(power).toBeLessThan(25);
  });
});
