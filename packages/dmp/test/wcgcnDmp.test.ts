import { describe, expect, it } from 'vitest';
import { knowsEdge, rayleighInstance, Rng, type Instance } from '@dmpemu/wireless';
import { makeCheckpoint, runInProcess, scaleGain, wcgcnWeightShapes, type Checkpoint, type WcgcnArchitecture } from '../src/index.ts';

const LINEAR = { transform: 'linear', direct: { shift: 0, scale: 1 }, cross: { shift: 0, scale: 1 } } as const;

function randomCheckpoint(a: WcgcnArchitecture, rng: Rng): Checkpoint<WcgcnArchitecture> {
  const weights: Checkpoint['weights'] = {};
  for (const [name, shape] of Object.entries(wcgcnWeightShapes(a))) {
    const n = shape.reduce((x, y) => x * y, 1);
    weights[name] = { shape, data: Float64Array.from({ length: n }, () => rng.normal() / Math.sqrt(shape[0])) };
  }
  return makeCheckpoint({ architecture: a, weights, training: {}, metrics: {} });
}

/** Dense layers with ReLU between them (and on the last when asked), written out independently. */
function mlp(c: Checkpoint<WcgcnArchitecture>, m: 'mlp1' | 'mlp2', x: number[], lastRelu: boolean): number[] {
  const widths = c.architecture[m];
  for (let l = 0; l + 1 < widths.length; l++) {
    const W = c.weights[`${m}.${l}.kernel`].data, b = c.weights[`${m}.${l}.bias`].data;
    x = Array.from({ length: widths[l + 1] }, (_, o) => {
      const v = x.reduce((s, xi, i) => s + xi * W[i * widths[l + 1] + o], b[o]);
      return l + 2 < widths.length || lastRelu ? Math.max(v, 0) : v;
    });
  }
  return x;
}

/** Eq. 8 computed centrally from the whole instance (CSI mask applied), no DMP machinery. */
function centralWcgcn(inst: Instance, c: Checkpoint<WcgcnArchitecture>): number[] {
  const { K, gain } = inst;
  const a = c.architecture;
  const f = a.features;
  let x = Array.from({ length: K }, (_, k) => [scaleGain(gain[k * K + k], 'direct', f), inst.weights[k], 1]);
  for (let t = 0; t < a.layers; t++) {
    x = x.map((xk, k) => {
      const msgs: number[][] = [];
      for (let j = 0; j < K; j++) {
        if (j === k || !knowsEdge(inst, j, k)) continue;
        msgs.push(mlp(c, 'mlp1', [...x[j], scaleGain(gain[j * K + k], 'cross', f), scaleGain(gain[k * K + j], 'cross', f)], a.mlp1Output === 'relu'));
      }
      const M = a.mlp1[a.mlp1.length - 1];
      const agg = Array.from({ length: M }, (_, d) => {
        if (msgs.length === 0) return 0;
        const col = msgs.map((m) => m[d]);
        if (a.aggregation === 'max') return Math.max(...col);
        const s = col.reduce((p, q) => p + q, 0);
        return a.aggregation === 'sum' ? s : s / col.length;
      });
      const y = mlp(c, 'mlp2', [...xk, ...agg], false)[0];
      return [xk[0], xk[1], 1 / (1 + Math.exp(-y))];
    });
  }
  return x.map((xk) => xk[2] * inst.pmax);
}

describe('WCGCN as a DMP (eq. 8), in process', () => {
  it('equals eq. 8 computed centrally, full and partial CSI, every aggregation', () => {
    const rng = new Rng('wcgcn-central');
    for (const aggregation of ['max', 'sum', 'mean'] as const) {
      const a: WcgcnArchitecture = { kind: 'wcgcn', task: 'power', layers: 3, mlp1: [5, 16, 8], mlp2: [11, 6, 1], aggregation, mlp1Output: 'relu', features: LINEAR };
      const c = randomCheckpoint(a, rng);
      const full = rayleighInstance(rng, { K: 7, snrDb: 10, weighted: true });
      const partial = rayleighInstance(rng, { K: 7, snrDb: 0 });
      partial.csi = Uint8Array.from({ length: 49 }, () => (rng.uniform() < 0.4 ? 1 : 0));
      for (const inst of [full, partial]) {
        const dmp = runInProcess(inst, { name: 'wcgcn', checkpoint: c });
        const ref = centralWcgcn(inst, c);
        dmp.outputs.forEach((o, k) => expect(o[0]).toBeCloseTo(ref[k], 12));
        expect(dmp.history).toHaveLength(3);
      }
    }
  });

  it('a one-neuron model: p_k = sigmoid(max_j g_jk), and 0 aggregate for an agent with no CSI', () => {
    // MLP1 = ReLU(g_jk) (picks the incoming amplitude), MLP2 = the aggregate: y_k = max_j g_jk.
    const a: WcgcnArchitecture = { kind: 'wcgcn', task: 'power', layers: 1, mlp1: [5, 1], mlp2: [4, 1], aggregation: 'max', mlp1Output: 'relu', features: LINEAR };
    const c = makeCheckpoint({
      architecture: a,
      weights: {
        'mlp1.0.kernel': { shape: [5, 1], data: Float64Array.of(0, 0, 0, 1, 0) },
        'mlp1.0.bias': { shape: [1], data: Float64Array.of(0) },
        'mlp2.0.kernel': { shape: [4, 1], data: Float64Array.of(0, 0, 0, 1) },
        'mlp2.0.bias': { shape: [1], data: Float64Array.of(0) },
      },
      training: {},
      metrics: {},
    });
    // gain[i * 3 + j]: transmitter i to receiver j
    const inst: Instance = { model: 'rayleigh-ic', K: 3, Nt: 1, noise: 1, pmax: 2, weights: Float64Array.of(1, 1, 1), gain: Float64Array.of(1, 0.5, 3, 0.2, 1, 0.7, 0.9, 0.1, 1) };
    inst.csi = Uint8Array.of(0, 1, 1, 0, 0, 1, 0, 1, 0); // csi[j * 3 + k]: agent 0 knows nothing, 1 and 2 know both others
    const sig = (y: number): number => 2 / (1 + Math.exp(-y));
    const out = runInProcess(inst, { name: 'wcgcn', checkpoint: c }).outputs.map((o) => o[0]);
    expect(out[0]).toBeCloseTo(sig(0), 14);
    expect(out[1]).toBeCloseTo(sig(Math.max(0.5, 0.1)), 14);
    expect(out[2]).toBeCloseTo(sig(Math.max(3, 0.7)), 14);
  });
});
