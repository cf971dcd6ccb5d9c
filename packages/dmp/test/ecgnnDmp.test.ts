import { describe, expect, it } from 'vitest';
import { knowsEdge, rayleighInstance, Rng, type Instance } from '@dmpemu/wireless';
import { createAlgorithm, ecgnnWeightShapes, LEARNED_DMP_ALGORITHMS, makeCheckpoint, parseCheckpoint, runInProcess, scaleGain, serializeCheckpoint, weightsHash, type Checkpoint, type EcgnnArchitecture } from '../src/index.ts';

const LINEAR = { transform: 'linear', direct: { shift: 0, scale: 1 }, cross: { shift: 0, scale: 1 } } as const;

function arch(o: Partial<EcgnnArchitecture> = {}): EcgnnArchitecture {
  return { kind: 'ecgnn', task: 'power', layers: 2, hidden: [6, 5], head: [4], features: LINEAR, ...o };
}

function randomCheckpoint(a: EcgnnArchitecture, rng: Rng): Checkpoint<EcgnnArchitecture> {
  const weights: Checkpoint['weights'] = {};
  for (const [name, shape] of Object.entries(ecgnnWeightShapes(a))) {
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

/** Eq. 12 computed centrally from the whole instance (CSI mask applied), no DMP machinery. */
function centralEcgnn(inst: Instance, c: Checkpoint<EcgnnArchitecture>): number[] {
  const { K, gain } = inst;
  const a = c.architecture, f = a.features;
  let d = Array.from({ length: K }, (_, k) => [inst.weights[k], scaleGain(gain[k * K + k], 'direct', f)]);
  for (let t = 0; t < a.layers; t++) {
    d = d.map((dk, k) => {
      const sum = new Array<number>(a.hidden[t]).fill(0);
      let n = 0;
      for (let j = 0; j < K; j++) {
        if (j === k || !knowsEdge(inst, j, k)) continue;
        const w2h = c.weights[`layer.${t}.edge.kernel`].data.map((v) => v * scaleGain(gain[j * K + k], 'cross', f));
        const pre = affine(c, `layer.${t}.self.kernel`, dk, `layer.${t}.bias`).map((v, o) => v + w2h[o] + affine(c, `layer.${t}.neighbour.kernel`, d[j])[o]);
        pre.forEach((v, o) => (sum[o] += Math.max(v, 0)));
        n++;
      }
      return sum.map((v) => (n === 0 ? 0 : v / n));
    });
  }
  return d.map((dk) => {
    let h = dk;
    const L = a.head.length + 1;
    for (let l = 0; l < L; l++) {
      h = affine(c, `head.${l}.kernel`, h, `head.${l}.bias`);
      if (l + 1 < L) h = h.map((v) => Math.max(v, 0));
    }
    return inst.pmax / (1 + Math.exp(-h[0]));
  });
}

describe('ECGNN as a DMP (eq. 12), in process', () => {
  it('is a learned DMP algorithm', () => {
    expect(LEARNED_DMP_ALGORITHMS).toContain('ecgnn');
  });

  it('equals eq. 12 computed centrally, full and partial CSI (an agent without neighbours), 1 to 3 layers', () => {
    const rng = new Rng('ecgnn-central');
    for (const a of [arch(), arch({ layers: 3, hidden: [4, 7, 3], head: [] }), arch({ layers: 1, hidden: [5], head: [6, 3] })]) {
      const c = randomCheckpoint(a, rng);
      const full = rayleighInstance(rng, { K: 7, snrDb: 10, weighted: true });
      const partial = rayleighInstance(rng, { K: 7, snrDb: 0 });
      partial.csi = Uint8Array.from({ length: 49 }, (_, i) => (i % 7 !== 0 && rng.uniform() < 0.4 ? 1 : 0)); // agent 0 knows no edge
      for (const inst of [full, partial]) {
        const dmp = runInProcess(inst, { name: 'ecgnn', checkpoint: c });
        const ref = centralEcgnn(inst, c);
        dmp.outputs.forEach((o, k) => expect(o[0]).toBeCloseTo(ref[k], 12));
        expect(dmp.rounds).toBe(a.layers);
        expect(ref.some((p) => p > 0.05 && p < 0.95)).toBe(true);
      }
    }
  });

  it('createAlgorithm verifies the checkpoint: tampered, wrong shapes, widths per layer, other round counts, MISO', () => {
    const c = randomCheckpoint(arch(), new Rng('ecgnn-verify'));
    expect(createAlgorithm({ name: 'ecgnn', checkpoint: c }).rounds).toBe(2);
    const tampered = structuredClone(c);
    tampered.weights['layer.1.edge.kernel'].data[0] += 1e-3;
    expect(() => createAlgorithm({ name: 'ecgnn', checkpoint: tampered })).toThrow(`checkpoint hash mismatch: expected ${c.hash}, got ${weightsHash(tampered)}`);
    expect(() => createAlgorithm({ name: 'ecgnn' })).toThrow('ecgnn: the algorithm spec has no checkpoint');
    const wide = makeCheckpoint({ ...c, architecture: { ...c.architecture, hidden: [7, 5] } });
    expect(() => createAlgorithm({ name: 'ecgnn', checkpoint: wide })).toThrow('ecgnn checkpoint: weight layer.0.self.kernel has shape [2,6] with 12 values, expected [2,7]');
    const short = { ...c, architecture: { ...c.architecture, hidden: [6] } };
    expect(() => createAlgorithm({ name: 'ecgnn', checkpoint: short })).toThrow('ecgnn checkpoint: architecture.hidden must list 2 positive widths (one per layer)');
    expect(() => createAlgorithm({ name: 'ecgnn', checkpoint: c, rounds: 3 })).toThrow("ecgnn: rounds must equal the checkpoint's layers (T = 2: its layers do not share weights), got 3");
    expect(() => createAlgorithm({ name: 'ecgnn', checkpoint: c }, 2)).toThrow('ecgnn: an ecgnn does power control, the network has Nt = 2 antennas');
    const back = parseCheckpoint(serializeCheckpoint(c));
    expect(back.hash).toBe(c.hash);
  });

  it('outputs 0 until its T rounds have run (the history after round 1 is the all-silent objective 0)', () => {
    const rng = new Rng('ecgnn-silent');
    const inst = rayleighInstance(rng, { K: 5, snrDb: 10 });
    const r = runInProcess(inst, { name: 'ecgnn', checkpoint: randomCheckpoint(arch({ hidden: [5, 5] }), rng) });
    expect(r.history[0]).toBe(0);
    expect(r.history[1]).toBeGreaterThan(0);
  });
});
