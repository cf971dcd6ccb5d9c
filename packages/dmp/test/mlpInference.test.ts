import { describe, expect, it } from 'vitest';
import { rayleighInstance, Rng, type Instance } from '@dmpemu/wireless';
import {
  createAlgorithm,
  makeCheckpoint,
  mlpPolicy,
  mlpPowers,
  mlpWeightShapes,
  parseCheckpoint,
  scaleGain,
  serializeCheckpoint,
  type Checkpoint,
  type MlpArchitecture,
} from '../src/index.ts';

const FEATURES = { transform: 'linear', direct: { shift: 1, scale: 0.5 }, cross: { shift: 0.5, scale: 0.4 } } as const;

function randomMlp(a: MlpArchitecture, rng: Rng): Checkpoint<MlpArchitecture> {
  const weights: Checkpoint['weights'] = {};
  for (const [name, shape] of Object.entries(mlpWeightShapes(a))) {
    const n = shape.reduce((x, y) => x * y, 1);
    weights[name] = { shape, data: Float32Array.from({ length: n }, () => rng.normal() / Math.sqrt(shape[0])) };
  }
  return makeCheckpoint({ architecture: a, weights, training: {}, metrics: {} });
}

/** The MLP written out: scaled gains (direct on the diagonal), weights, ReLU layers, sigmoid * Pmax. */
function reference(c: Checkpoint<MlpArchitecture>, inst: Instance): number[] {
  const { K, gain } = inst;
  const a = c.architecture;
  let x = [...Array.from(gain, (g, i) => scaleGain(g, Math.floor(i / K) === i % K ? 'direct' : 'cross', a.features)), ...inst.weights];
  const L = a.hidden.length + 1;
  for (let l = 0; l < L; l++) {
    const W = c.weights[`mlp.${l}.kernel`], b = c.weights[`mlp.${l}.bias`].data, nOut = W.shape[1];
    x = Array.from({ length: nOut }, (_, o) => {
      const v = x.reduce((s, xi, i) => s + xi * W.data[i * nOut + o], b[o]);
      return l + 1 < L ? Math.max(v, 0) : v;
    });
  }
  return x.map((y) => inst.pmax / (1 + Math.exp(-y)));
}

describe('MLP baseline inference (centralized, typed arrays)', () => {
  const rng = new Rng('mlp-inference');
  const a: MlpArchitecture = { kind: 'mlp', task: 'power', K: 5, hidden: [12, 7], features: FEATURES };
  const c = randomMlp(a, rng);

  it('mlpPowers equals the MLP written out, whatever the CSI (it uses the whole channel)', () => {
    const inst = rayleighInstance(rng, { K: 5, snrDb: 10, weighted: true });
    const p = mlpPowers(c, inst);
    reference(c, inst).forEach((r, k) => expect(p[k]).toBeCloseTo(r, 12));
    const partial = { ...inst, csi: new Uint8Array(25) };
    expect(mlpPowers(c, partial)).toEqual(p);
    const policy = mlpPolicy(c);
    expect(policy(inst)).toEqual(p);
    const other = rayleighInstance(rng, { K: 5, snrDb: 0 });
    reference(c, other).forEach((r, k) => expect(policy(other)[k]).toBeCloseTo(r, 12));
  });

  it('a K mismatch names both Ks; a wrong kind, a tampered or mis-shaped checkpoint are refused', () => {
    const k7 = rayleighInstance(rng, { K: 7, snrDb: 10 });
    expect(() => mlpPowers(c, k7)).toThrow('mlp: the checkpoint is an MLP for K = 5 pairs, the instance has K = 7');
    const tampered = structuredClone(c);
    tampered.weights['mlp.2.bias'].data[0] += 1;
    expect(() => mlpPowers(tampered, rayleighInstance(rng, { K: 5, snrDb: 10 }))).toThrow('checkpoint hash mismatch');
    const shapes = makeCheckpoint({ ...c, architecture: { ...a, hidden: [12, 8] } });
    expect(() => mlpPolicy(shapes)).toThrow('mlp checkpoint: weight mlp.1.kernel has shape [12,7] with 84 values, expected [12,8]');
    const notMlp = { ...c, architecture: { ...a, kind: 'wcgcn' } } as unknown as Checkpoint;
    expect(() => mlpPolicy(notMlp)).toThrow('mlp checkpoint: architecture.kind must be "mlp", got "wcgcn"');
    expect(() => createAlgorithm({ name: 'mlp', checkpoint: c })).toThrow('unknown DMP algorithm "mlp"'); // not a DMP
    expect(() => createAlgorithm({ name: 'pcgnn', checkpoint: c })).toThrow('pcgnn checkpoint: architecture.kind must be "pcgnn", got "mlp"');
  });

  it('an MLP checkpoint round-trips through JSON; rounds (layers) are refused in its architecture', () => {
    const back = parseCheckpoint(serializeCheckpoint(c));
    expect(back.hash).toBe(c.hash);
    expect(back.architecture).toEqual(a);
    const json = JSON.parse(serializeCheckpoint(c));
    json.architecture.layers = 2;
    expect(() => parseCheckpoint(JSON.stringify(json))).toThrow('checkpoint: architecture.layers must be absent for an mlp');
    json.architecture.layers = undefined;
    json.architecture.K = 0;
    expect(() => parseCheckpoint(JSON.stringify(json))).toThrow('checkpoint: architecture.K must be a positive integer, got 0');
  });
});
