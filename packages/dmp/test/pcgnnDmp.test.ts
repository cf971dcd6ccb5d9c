import { describe, expect, it } from 'vitest';
import { d2dInstance, knowsEdge, rayleighInstance, Rng, type Instance } from '@dmpemu/wireless';
import {
  createAlgorithm,
  LEARNED_DMP_ALGORITHMS,
  makeCheckpoint,
  parseCheckpoint,
  pcgnnWeightShapes,
  runInProcess,
  scaleGain,
  serializeCheckpoint,
  weightsHash,
  type Checkpoint,
  type PcgnnArchitecture,
} from '../src/index.ts';

const LINEAR = { transform: 'linear', direct: { shift: 0, scale: 1 }, cross: { shift: 0, scale: 1 } } as const;

function arch(o: Partial<PcgnnArchitecture> = {}): PcgnnArchitecture {
  return { kind: 'pcgnn', task: 'power', layers: 2, hidden: 6, edgeEmbedding: 4, head: [5], aggregation: 'max', features: LINEAR, ...o };
}

function randomCheckpoint(a: PcgnnArchitecture, rng: Rng): Checkpoint<PcgnnArchitecture> {
  const weights: Checkpoint['weights'] = {};
  for (const [name, shape] of Object.entries(pcgnnWeightShapes(a))) {
    const n = shape.reduce((x, y) => x * y, 1);
    weights[name] = { shape, data: Float64Array.from({ length: n }, () => rng.normal() / Math.sqrt(shape[0])) };
  }
  return makeCheckpoint({ architecture: a, weights, training: {}, metrics: {} });
}

/** y = x W + b with the checkpoint's [in, out] kernel, written out independently. */
function affine(c: Checkpoint, kernel: string, x: number[], bias?: string): number[] {
  const W = c.weights[kernel], [nIn, nOut] = W.shape;
  expect(x).toHaveLength(nIn);
  return Array.from({ length: nOut }, (_, o) => x.reduce((s, xi, i) => s + xi * W.data[i * nOut + o], bias ? c.weights[bias].data[o] : 0));
}
const relu = (v: number[]): number[] => v.map((x) => Math.max(x, 0));
const add = (...vs: number[][]): number[] => vs[0].map((_, i) => vs.reduce((s, v) => s + v[i], 0));

/** Eqs. 20-21 computed centrally from the whole instance (CSI mask applied), no DMP machinery. */
function centralPcgnn(inst: Instance, c: Checkpoint<PcgnnArchitecture>): number[] {
  const { K, gain } = inst;
  const a = c.architecture;
  const f = a.features;
  const power = a.powerFeature ? [(10 * Math.log10(inst.pmax / inst.noise) - f.power!.shift) / f.power!.scale] : [];
  let x = Array.from({ length: K }, (_, k) => relu(affine(c, 'embed.node.kernel', [scaleGain(gain[k * K + k], 'direct', f), inst.weights[k], ...power], 'embed.node.bias')));
  const e = (j: number, k: number): number[] => relu(affine(c, 'embed.edge.kernel', [scaleGain(gain[j * K + k], 'cross', f), scaleGain(gain[k * K + j], 'cross', f)], 'embed.edge.bias'));
  for (let t = 0; t < a.layers; t++) {
    x = x.map((xk, k) => {
      const msgs: number[][] = [];
      for (let j = 0; j < K; j++) {
        if (j === k || !knowsEdge(inst, j, k)) continue;
        msgs.push(relu(add(affine(c, `layer.${t}.self.kernel`, xk, `layer.${t}.bias`), affine(c, 'edge.kernel', e(j, k)), affine(c, `layer.${t}.neighbour.kernel`, x[j]))));
      }
      return Array.from({ length: a.hidden }, (_, d) => {
        if (msgs.length === 0) return 0;
        const col = msgs.map((m) => m[d]);
        if (a.aggregation === 'max') return Math.max(...col);
        const s = col.reduce((p, q) => p + q, 0);
        return a.aggregation === 'sum' ? s : s / col.length;
      });
    });
  }
  return x.map((xk) => {
    let h = xk;
    const L = a.head.length + 1;
    for (let l = 0; l < L; l++) {
      h = affine(c, `head.${l}.kernel`, h, `head.${l}.bias`);
      if (l + 1 < L) h = relu(h);
    }
    return inst.pmax / (1 + Math.exp(-h[0]));
  });
}

describe('PCGNN as a DMP (eqs. 20-21), in process', () => {
  it('is a learned DMP algorithm', () => {
    expect(LEARNED_DMP_ALGORITHMS).toContain('pcgnn');
  });

  it('equals eqs. 20-21 computed centrally, full and partial CSI (an agent without neighbours), every aggregation', () => {
    const rng = new Rng('pcgnn-central');
    for (const aggregation of ['max', 'sum', 'mean'] as const) {
      for (const a of [arch({ aggregation }), arch({ aggregation, layers: 3, head: [], hidden: 5, edgeEmbedding: 7 })]) {
        const c = randomCheckpoint(a, rng);
        const full = rayleighInstance(rng, { K: 7, snrDb: 10, weighted: true });
        const partial = rayleighInstance(rng, { K: 7, snrDb: 0 });
        partial.csi = Uint8Array.from({ length: 49 }, (_, i) => (i % 7 !== 0 && rng.uniform() < 0.4 ? 1 : 0)); // agent 0 knows no edge
        for (const inst of [full, partial]) {
          const dmp = runInProcess(inst, { name: 'pcgnn', checkpoint: c });
          const ref = centralPcgnn(inst, c);
          dmp.outputs.forEach((o, k) => expect(o[0]).toBeCloseTo(ref[k], 12));
          expect(dmp.rounds).toBe(a.layers);
          expect(dmp.history).toHaveLength(a.layers);
        }
      }
    }
  });

  it('with powerFeature the transmit power is a third node input: equals eqs. 20-21 centrally at 0, 20 and 40 dBm', () => {
    const rng = new Rng('pcgnn-power');
    const features = { transform: 'db', direct: { shift: -70, scale: 10 }, cross: { shift: -110, scale: 12 }, power: { shift: 122, scale: 6 } } as const;
    const c = randomCheckpoint(arch({ powerFeature: true, features }), rng);
    expect(c.weights['embed.node.kernel'].shape).toEqual([3, 6]);
    const outs = [0, 20, 40].map((txPower) => {
      const inst = d2dInstance(new Rng('same-layout'), { K: 8, field: 250, dmin: 10, dmax: 50, txPower });
      const dmp = runInProcess(inst, { name: 'pcgnn', checkpoint: c });
      const ref = centralPcgnn(inst, c);
      dmp.outputs.forEach((o, k) => expect(o[0]).toBeCloseTo(ref[k], 12));
      return ref;
    });
    expect(outs[0]).not.toEqual(outs[2]); // the same channel at another power: other decisions
    const noPower = { ...c, architecture: { ...c.architecture, features: { ...features, power: undefined } } };
    expect(() => createAlgorithm({ name: 'pcgnn', checkpoint: noPower })).toThrow('pcgnn checkpoint: architecture.features.power must be given when powerFeature is true');
  });

  it('createAlgorithm verifies the checkpoint: tampered weights, wrong kind, missing, wrong shapes, other round counts', () => {
    const c = randomCheckpoint(arch(), new Rng('pcgnn-verify'));
    expect(() => createAlgorithm({ name: 'pcgnn', checkpoint: c })).not.toThrow();
    const tampered = structuredClone(c);
    tampered.weights['edge.kernel'].data[3] += 1e-3;
    expect(() => createAlgorithm({ name: 'pcgnn', checkpoint: tampered })).toThrow(`checkpoint hash mismatch: expected ${c.hash}, got ${weightsHash(tampered)}`);
    expect(() => createAlgorithm({ name: 'pcgnn' })).toThrow('pcgnn: the algorithm spec has no checkpoint');
    expect(() => createAlgorithm({ name: 'wcgcn', checkpoint: c })).toThrow('wcgcn checkpoint: architecture.kind must be "wcgcn", got "pcgnn"');
    const wide = makeCheckpoint({ ...c, architecture: { ...c.architecture, hidden: 7 } });
    expect(() => createAlgorithm({ name: 'pcgnn', checkpoint: wide })).toThrow('pcgnn checkpoint: weight embed.node.kernel has shape [2,6] with 12 values, expected [2,7]');
    const missing = makeCheckpoint({ ...c, weights: Object.fromEntries(Object.entries(c.weights).filter(([n]) => n !== 'layer.1.bias')) });
    expect(() => createAlgorithm({ name: 'pcgnn', checkpoint: missing })).toThrow('pcgnn checkpoint: weight layer.1.bias missing (expected shape [6])');
    expect(() => createAlgorithm({ name: 'pcgnn', checkpoint: c, rounds: 3 })).toThrow("pcgnn: rounds must equal the checkpoint's layers (T = 2: its layers do not share weights), got 3");
    const bad = { ...c, architecture: { ...c.architecture, head: [0] } };
    expect(() => createAlgorithm({ name: 'pcgnn', checkpoint: bad })).toThrow('pcgnn checkpoint: architecture.head must list positive hidden layer widths');
  });

  it('a PCGNN checkpoint round-trips through JSON with its hash; a tampered file is refused', () => {
    const c = randomCheckpoint(arch(), new Rng('pcgnn-json'));
    const back = parseCheckpoint(serializeCheckpoint(c));
    expect(back.hash).toBe(c.hash);
    expect(back.architecture).toEqual(c.architecture);
    const json = JSON.parse(serializeCheckpoint(c));
    json.architecture.edgeEmbedding = 5;
    expect(() => parseCheckpoint(JSON.stringify(json), 'p.json')).toThrow('checkpoint hash mismatch: expected');
    json.architecture.kind = 'gcn';
    expect(() => parseCheckpoint(JSON.stringify(json), 'p.json')).toThrow('p.json: architecture.kind must be one of "wcgcn", "pcgnn", "mlp", "regnn", "ecgnn", "uwmmse", "mpnn", "cf-pcgnn", "hetgnn", "cf-mlp", got "gcn"');
  });
});
