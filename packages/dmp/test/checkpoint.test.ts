import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '@dmpemu/wireless';
import {
  createAlgorithm,
  loadCheckpoint,
  makeCheckpoint,
  parseCheckpoint,
  saveCheckpoint,
  serializeCheckpoint,
  verifyCheckpoint,
  wcgcnWeightShapes,
  weightsHash,
  type AlgorithmSpec,
  type Checkpoint,
  type WcgcnArchitecture,
} from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'dmpemu-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const arch: WcgcnArchitecture = {
  kind: 'wcgcn',
  task: 'power',
  layers: 2,
  mlp1: [5, 8, 4],
  mlp2: [7, 6, 1],
  aggregation: 'max',
  mlp1Output: 'relu',
  features: { transform: 'db', direct: { shift: -60, scale: 10 }, cross: { shift: -90, scale: 12 } },
};

function checkpoint(seed: string, f64 = false): Checkpoint<WcgcnArchitecture> {
  const rng = new Rng(seed);
  const weights: Checkpoint['weights'] = {};
  for (const [name, shape] of Object.entries(wcgcnWeightShapes(arch))) {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: n }, () => rng.normal());
    weights[name] = { shape, data: f64 ? Float64Array.from(values) : Float32Array.from(values) };
  }
  return makeCheckpoint({ architecture: arch, weights, training: { seed, scenario: 'test' }, metrics: { finalLoss: -1.5 } });
}

describe('checkpoints', () => {
  it('round-trip through JSON and a file with an equal hash and equal weights (float32 and float64)', () => {
    for (const f64 of [false, true]) {
      const c = checkpoint('rt', f64);
      const back = parseCheckpoint(serializeCheckpoint(c));
      expect(back.hash).toBe(c.hash);
      expect(weightsHash(back)).toBe(c.hash);
      expect(back.training).toEqual(c.training);
      expect(back.metrics).toEqual(c.metrics);
      for (const [name, w] of Object.entries(c.weights)) {
        expect(back.weights[name].shape).toEqual(w.shape);
        expect(back.weights[name].data).toEqual(w.data);
      }
      const path = join(dir, `c-${f64}.json`);
      saveCheckpoint(path, c);
      expect(loadCheckpoint(path).hash).toBe(c.hash);
    }
  });

  it('hash covers architecture and weights, not key order, provenance or storage precision', () => {
    const c = checkpoint('h');
    expect(c.hash).toMatch(/^[0-9a-f]{64}$/);
    const reordered = { ...c, architecture: Object.fromEntries(Object.entries(c.architecture).reverse()) as unknown as WcgcnArchitecture };
    expect(weightsHash(reordered)).toBe(c.hash);
    expect(weightsHash({ ...c, training: { other: 1 } } as Checkpoint)).toBe(c.hash);
    const f64 = Object.fromEntries(Object.entries(c.weights).map(([n, w]) => [n, { shape: w.shape, data: Float64Array.from(w.data) }]));
    expect(weightsHash({ architecture: c.architecture, weights: f64 })).toBe(c.hash);
    expect(weightsHash({ architecture: { ...c.architecture, layers: 3 }, weights: c.weights })).not.toBe(c.hash);
    expect(weightsHash({ architecture: { ...c.architecture, features: { ...c.architecture.features, transform: 'linear' } }, weights: c.weights })).not.toBe(c.hash);
  });

  it('a tampered weight makes createAlgorithm (and loading) throw the hash mismatch', () => {
    const c = checkpoint('tamper');
    expect(() => createAlgorithm({ name: 'wcgcn', checkpoint: c })).not.toThrow();
    const expected = c.hash;
    c.weights['mlp2.1.bias'].data[0] += 1e-3;
    const got = weightsHash(c);
    expect(got).not.toBe(expected);
    expect(() => createAlgorithm({ name: 'wcgcn', checkpoint: c })).toThrow(`checkpoint hash mismatch: expected ${expected}, got ${got}`);
    expect(() => verifyCheckpoint(c)).toThrow('checkpoint hash mismatch');

    const path = join(dir, 'tampered.json');
    saveCheckpoint(path, checkpoint('file'));
    const json = JSON.parse(readFileSync(path, 'utf8'));
    json.architecture.layers = 5;
    writeFileSync(path, JSON.stringify(json));
    expect(() => loadCheckpoint(path)).toThrow('checkpoint hash mismatch: expected');
  });

  it('createAlgorithm("wcgcn") without a checkpoint, or with weights of the wrong shape, says what is wrong', () => {
    expect(() => createAlgorithm({ name: 'wcgcn' })).toThrow('wcgcn: the algorithm spec has no checkpoint');
    const c = checkpoint('shape');
    const weights = { ...c.weights, 'mlp1.1.kernel': { shape: [8, 3], data: new Float32Array(24) } };
    const bad = makeCheckpoint({ ...c, weights });
    expect(() => createAlgorithm({ name: 'wcgcn', checkpoint: bad })).toThrow('wcgcn checkpoint: weight mlp1.1.kernel has shape [8,3] with 24 values, expected [8,4]');
    const missing = makeCheckpoint({ ...c, weights: Object.fromEntries(Object.entries(c.weights).filter(([n]) => n !== 'mlp2.0.bias')) });
    expect(() => createAlgorithm({ name: 'wcgcn', checkpoint: missing })).toThrow('wcgcn checkpoint: weight mlp2.0.bias missing (expected shape [6])');
    const wide = makeCheckpoint({ ...c, architecture: { ...arch, mlp2: [9, 6, 1] } });
    expect(() => createAlgorithm({ name: 'wcgcn', checkpoint: wide })).toThrow('wcgcn checkpoint: architecture.mlp2[0] must be 7 ([x_k, aggregate]), got 9');
  });

  it('survives msgpackr (typed arrays, as shipped to agents) with its hash; a malformed one is named', () => {
    const c = checkpoint('wire');
    const packr = new Packr({ moreTypes: true, useRecords: false });
    const back = packr.unpack(packr.pack({ name: 'wcgcn', checkpoint: c })) as AlgorithmSpec;
    expect(back.checkpoint!.weights['mlp1.0.kernel'].data).toBeInstanceOf(Float32Array);
    expect(weightsHash(back.checkpoint!)).toBe(c.hash);
    expect(() => createAlgorithm(back)).not.toThrow();
    const plain = { ...c, weights: { ...c.weights, 'mlp1.0.kernel': { shape: [5, 8], data: Array.from(c.weights['mlp1.0.kernel'].data) } } };
    expect(() => createAlgorithm({ name: 'wcgcn', checkpoint: plain as unknown as Checkpoint })).toThrow('wcgcn checkpoint: weights.mlp1.0.kernel.data must be a Float32Array or Float64Array');
    const other = { ...c, architecture: { ...c.architecture, kind: 'regnn' } };
    expect(() => createAlgorithm({ name: 'wcgcn', checkpoint: other as unknown as Checkpoint })).toThrow('wcgcn checkpoint: architecture.kind must be "wcgcn", got "regnn"');
  });

  it('parse errors name the field and what was expected', () => {
    const text = serializeCheckpoint(checkpoint('parse'));
    const edit = (f: (j: Record<string, any>) => void): string => {
      const j = JSON.parse(text);
      f(j);
      return JSON.stringify(j);
    };
    expect(() => parseCheckpoint('{', 'm.json')).toThrow('m.json: not JSON');
    expect(() => parseCheckpoint(edit((j) => (j.format = 'x')), 'm.json')).toThrow('m.json: format must be "dmpemu-checkpoint/1", got "x"');
    expect(() => parseCheckpoint(edit((j) => (j.architecture.aggregation = 'min')))).toThrow('checkpoint: architecture.aggregation must be max, sum or mean, got "min"');
    expect(() => parseCheckpoint(edit((j) => (j.weights['mlp1.0.bias'].shape = [9])))).toThrow('checkpoint: weights.mlp1.0.bias has 8 values, shape [9] needs 9');
    expect(() => parseCheckpoint(edit((j) => (j.architecture.features.cross.scale = 0)))).toThrow('checkpoint: architecture.features.cross must be { shift, scale } with finite numbers, scale != 0');
    // a key the model does not read was hashed and shipped, and ignored: the model computed ReLU where its author wrote tanh
    expect(() => parseCheckpoint(edit((j) => (j.architecture.activation = 'tanh')))).toThrow('checkpoint: architecture.activation is not a key of a wcgcn architecture (its keys: kind, task, features, layers, Nt, edges, mlp1, mlp2, aggregation, mlp1Output): it would be ignored');
  });

  it('a hashed checkpoint with more layers than a job has rounds, or a weight that is not finite, is refused by name (it ran 10^9 rounds, or gave NaN rates as a completed run)', () => {
    const good = checkpoint('limits');
    const layers = makeCheckpoint({ ...good, architecture: { ...good.architecture, layers: 1e9 } });
    expect(() => parseCheckpoint(serializeCheckpoint(layers), 'deep.json')).toThrow('deep.json: architecture.layers must be an integer from 1 to 10000 (one round each), got 1000000000');
    expect(() => createAlgorithm({ name: 'wcgcn', checkpoint: layers })).toThrow('wcgcn checkpoint: architecture.layers must be an integer from 1 to 10000 (one round each), got 1000000000');
    const data = Float32Array.from(good.weights['mlp2.1.bias'].data);
    data[0] = NaN;
    const nan = makeCheckpoint({ ...good, weights: { ...good.weights, 'mlp2.1.bias': { shape: good.weights['mlp2.1.bias'].shape, data } } });
    expect(() => parseCheckpoint(serializeCheckpoint(nan), 'nan.json')).toThrow('nan.json: weights.mlp2.1.bias must hold finite numbers, got NaN at index 0');
    expect(() => createAlgorithm({ name: 'wcgcn', checkpoint: nan })).toThrow('wcgcn checkpoint: weights.mlp2.1.bias must hold finite numbers, got NaN at index 0');
  });
});
