import { describe, expect, it } from 'vitest';
import { d2dInstance, knowsEdge, rayleighInstance, Rng, type Instance } from '@dmpemu/wireless';
import { createAlgorithm, learnedRounds, LEARNED_DMP_ALGORITHMS, makeCheckpoint, parseCheckpoint, runInProcess, scaleGain, serializeCheckpoint, uwmmseWeightShapes, weightsHash, type Checkpoint, type FeatureScaling, type UwmmseArchitecture } from '../src/index.ts';

const LOG1P: FeatureScaling = { transform: 'log1p', direct: { shift: 0, scale: 2 }, cross: { shift: 0, scale: 1.5 } };

function arch(o: Partial<UwmmseArchitecture> = {}): UwmmseArchitecture {
  return { kind: 'uwmmse', task: 'power', layers: 3, gcnHidden: 4, features: LOG1P, ...o };
}

/** Random kernels and biases ~ N(0, 1/fan_in). */
function randomCheckpoint(a: UwmmseArchitecture, rng: Rng): Checkpoint<UwmmseArchitecture> {
  const weights: Checkpoint['weights'] = {};
  for (const [name, shape] of Object.entries(uwmmseWeightShapes(a))) {
    const n = shape.reduce((x, y) => x * y, 1);
    weights[name] = { shape, data: Float64Array.from({ length: n }, () => rng.normal() / Math.sqrt(shape[0])) };
  }
  return makeCheckpoint({ architecture: a, weights, training: {}, metrics: {} });
}

const W = (c: Checkpoint, name: string): Float64Array => Float64Array.from(c.weights[name].data);
const sig = (x: number): number => 1 / (1 + Math.exp(-x));

/** The unrolled iterations computed centrally in matrix form (CSI mask applied), no DMP machinery. */
function centralUwmmse(inst: Instance, c: Checkpoint<UwmmseArchitecture>): number[] {
  const { K, gain: h, noise, pmax, weights: alpha } = inst;
  const a = c.architecture, F = a.gcnHidden;
  const known = (j: number, k: number): boolean => j !== k && knowsEdge(inst, j, k);
  const S = (k: number, j: number): number => (k === j || known(j, k) ? scaleGain(h[k * K + j] * Math.sqrt(pmax / noise), k === j ? 'direct' : 'cross', a.features) : 0);
  const psi = (name: string): number[] => {
    const z1 = Array.from({ length: K }, (_, k) => {
      const rowSum = Array.from({ length: K }, (_, j) => S(k, j)).reduce((x, y) => x + y, 0);
      return Array.from({ length: F }, (_, f) => Math.max(S(k, k) * W(c, `${name}.0.diag`)[f] + rowSum * W(c, `${name}.0.shift`)[f] + W(c, `${name}.0.bias`)[f], 0));
    });
    return Array.from({ length: K }, (_, k) => {
      let z = W(c, `${name}.1.bias`)[0];
      for (let f = 0; f < F; f++) {
        const sz = Array.from({ length: K }, (_, j) => S(k, j) * z1[j][f]).reduce((x, y) => x + y, 0);
        z += S(k, k) * z1[k][f] * W(c, `${name}.1.diag`)[f] + sz * W(c, `${name}.1.shift`)[f];
      }
      return sig(z);
    });
  };
  let v = new Array<number>(K).fill(Math.sqrt(pmax));
  for (let l = 0; l < a.layers; l++) {
    const A = psi(`layer.${l}.a`), B = psi(`layer.${l}.b`);
    const u: number[] = [], w: number[] = [];
    for (let k = 0; k < K; k++) {
      let rx = noise;
      for (let j = 0; j < K; j++) if (j === k || known(j, k)) rx += h[j * K + k] ** 2 * v[j] ** 2;
      u[k] = (h[k * K + k] * v[k]) / rx;
      w[k] = (A[k] * alpha[k]) / (1 - u[k] * h[k * K + k] * v[k]) + B[k]; // eq. 7c with the rate weight
    }
    v = v.map((_, k) => {
      let den = 0;
      for (let j = 0; j < K; j++) if (j === k || known(j, k)) den += h[k * K + j] ** 2 * u[j] ** 2 * w[j];
      return Math.min(Math.max((h[k * K + k] * u[k] * w[k]) / den, 0), Math.sqrt(pmax));
    });
  }
  return v.map((x) => x * x);
}

describe('UWMMSE as a DMP (unrolled WMMSE, a and b from GCNs), in process', () => {
  it('is a learned DMP algorithm of 2 rounds per unrolled iteration', () => {
    expect(LEARNED_DMP_ALGORITHMS).toContain('uwmmse');
    const c = randomCheckpoint(arch(), new Rng(1));
    expect(createAlgorithm({ name: 'uwmmse', checkpoint: c }).rounds).toBe(6);
    expect(learnedRounds(c.architecture)).toBe(6); // what a scenario's roundsOf uses
  });

  it('equals the unrolled iterations computed centrally, full and partial CSI (an agent without neighbours), weighted, D2D', () => {
    const rng = new Rng('uwmmse-central');
    const D2D: FeatureScaling = { transform: 'log1p', direct: { shift: 0, scale: 8 }, cross: { shift: 0, scale: 20 } }; // S_kj of ~ 0.1-0.4 at 40 dBm
    const cases: [UwmmseArchitecture, Instance[]][] = [
      [arch(), [rayleighInstance(rng, { K: 7, snrDb: 10, weighted: true }), rayleighInstance(rng, { K: 7, snrDb: 0, weighted: true })]],
      [arch({ layers: 1, gcnHidden: 2, features: { ...LOG1P, transform: 'linear', cross: { shift: 0, scale: 30 } } }), [rayleighInstance(rng, { K: 6, snrDb: 10 })]],
      [arch({ features: D2D }), [d2dInstance(rng, { K: 8, field: 250, dmin: 10, dmax: 50 }), d2dInstance(rng, { K: 8, field: 250, dmin: 10, dmax: 50, csiRange: 80 })]],
    ];
    cases[0][1][1].csi = Uint8Array.from({ length: 49 }, (_, i) => (i % 7 !== 0 && rng.uniform() < 0.4 ? 1 : 0)); // agent 0 knows no edge
    for (const [a, insts] of cases) {
      const c = randomCheckpoint(a, rng);
      for (const inst of insts) {
        const dmp = runInProcess(inst, { name: 'uwmmse', checkpoint: c });
        const ref = centralUwmmse(inst, c);
        expect(dmp.rounds).toBe(2 * a.layers);
        dmp.outputs.forEach((o, k) => expect(Math.abs(o[0] - ref[k])).toBeLessThan(1e-10 * Math.max(1, ref[k])));
        expect(ref.filter((p) => p > 1e-3 && p < 0.999).length).toBeGreaterThan(0); // not a saturated comparison
      }
    }
  });

  it('with a = 1 and b = 0 an unrolled iteration is one WMMSE iteration (the DMP equals wmmse-dmp)', () => {
    const a = arch({ layers: 4 });
    const c0 = randomCheckpoint(a, new Rng(2));
    const weights = Object.fromEntries(Object.entries(c0.weights).map(([name, t]) => {
      const data = new Float64Array(t.data.length);
      if (name.endsWith('.a.1.bias')) data[0] = 60; // sigmoid(60) = 1 in float64
      if (name.endsWith('.b.1.bias')) data[0] = -800; // sigmoid(-800) = 0
      return [name, { shape: t.shape, data }];
    }));
    const c = makeCheckpoint({ ...c0, weights });
    const inst = rayleighInstance(new Rng(9), { K: 9, snrDb: 10, weighted: true });
    const u = runInProcess(inst, { name: 'uwmmse', checkpoint: c });
    const w = runInProcess(inst, { name: 'wmmse-dmp', iterations: 4 });
    u.outputs.forEach((o, k) => expect(o[0]).toBeCloseTo(w.outputs[k][0], 12));
  });

  it('createAlgorithm verifies the checkpoint: tampered, wrong shapes, features, other round counts, MISO', () => {
    const c = randomCheckpoint(arch(), new Rng('uwmmse-verify'));
    const tampered = structuredClone(c);
    tampered.weights['layer.2.b.1.bias'].data[0] += 1e-3;
    expect(() => createAlgorithm({ name: 'uwmmse', checkpoint: tampered })).toThrow(`checkpoint hash mismatch: expected ${c.hash}, got ${weightsHash(tampered)}`);
    const wide = makeCheckpoint({ ...c, architecture: { ...c.architecture, gcnHidden: 5 } });
    expect(() => createAlgorithm({ name: 'uwmmse', checkpoint: wide })).toThrow('uwmmse checkpoint: weight layer.0.a.0.diag has shape [1,4] with 4 values, expected [1,5]');
    const db = makeCheckpoint({ ...c, architecture: { ...c.architecture, features: { transform: 'db', direct: { shift: -80, scale: 10 }, cross: { shift: -120, scale: 10 } } } });
    expect(() => createAlgorithm({ name: 'uwmmse', checkpoint: db })).toThrow('uwmmse checkpoint: architecture.features must be log1p or linear with shift 0 (a graph shift S_kj >= 0 with S_kj = 0 for no edge), got db with a shift');
    expect(() => createAlgorithm({ name: 'uwmmse', checkpoint: c, rounds: 3 })).toThrow("uwmmse: rounds must equal 2 x the checkpoint's layers = 6 (2 rounds per unrolled iteration), got 3");
    expect(() => createAlgorithm({ name: 'uwmmse', checkpoint: c }, 2)).toThrow('uwmmse: a uwmmse does power control, the network has Nt = 2 antennas');
    expect(parseCheckpoint(serializeCheckpoint(c)).hash).toBe(c.hash);
  });
});
