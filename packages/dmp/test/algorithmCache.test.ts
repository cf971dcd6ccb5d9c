import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AlgorithmCache, loadCheckpoint, NodeRunner, runInProcess, type Checkpoint } from '../src/index.ts';
import { generateInstance, localView, localViews, Rng } from '@dmpemu/wireless';

const MODELS = join(import.meta.dirname, '../../../scenarios/models');

describe('AlgorithmCache: one algorithm instance per spec in a host', () => {
  const inst = generateInstance('d2d', new Rng(5), { K: 8, field: 300, csiRange: 200 });
  const wcgcn = loadCheckpoint(join(MODELS, 'wcgcn-d2d-k50.json'));

  it('hands every agent of a host the same instance for the same spec, a new one for another', () => {
    const cache = new AlgorithmCache(2);
    const a = cache.build({ name: 'wcgcn', checkpoint: wcgcn }, 1, localView(inst, 0));
    expect(cache.build({ name: 'wcgcn', checkpoint: structuredClone(wcgcn) }, 1, localView(inst, 1))).toBe(a);
    expect(cache.build({ name: 'wcgcn', checkpoint: wcgcn, rounds: 2 })).not.toBe(a);
    const w = cache.build({ name: 'wmmse-dmp', iterations: 5 });
    expect(cache.build({ name: 'wmmse-dmp', iterations: 5 })).toBe(w);
    expect(cache.build({ name: 'wmmse-dmp', iterations: 6 })).not.toBe(w);
    // the last two specs are kept: the first wcgcn is gone
    expect(cache.build({ name: 'wcgcn', checkpoint: wcgcn }, 1)).not.toBe(a);
  });

  it('a hit still verifies the checkpoint it was given: tampered weights under the same hash are refused', () => {
    const cache = new AlgorithmCache();
    cache.build({ name: 'wcgcn', checkpoint: wcgcn });
    const tampered = structuredClone(wcgcn) as Checkpoint;
    const w = Object.values(tampered.weights)[0];
    w.data = Float32Array.from(w.data, (x, i) => (i === 0 ? x + 1 : x));
    expect(() => cache.build({ name: 'wcgcn', checkpoint: tampered })).toThrow('checkpoint hash mismatch');
    // the architecture too: the entry's own (verified) checkpoint is compared before the hash is skipped
    const otherArchitecture = structuredClone(wcgcn) as Checkpoint;
    (otherArchitecture.architecture as { aggregation: string }).aggregation = 'sum';
    expect(() => cache.build({ name: 'wcgcn', checkpoint: otherArchitecture })).toThrow('checkpoint hash mismatch');
    // and the first checkpoint is a hit still
    expect(cache.build({ name: 'wcgcn', checkpoint: structuredClone(wcgcn) })).toBe(cache.build({ name: 'wcgcn', checkpoint: wcgcn }));
  });

  it('the warm-up leaves no trace: the shared, warmed instance computes what a fresh one does', () => {
    const cache = new AlgorithmCache();
    const spec = { name: 'wcgcn', checkpoint: wcgcn };
    cache.build(spec, 1, localView(inst, 3));
    const shared = cache.build(spec, 1);
    const nodes = localViews(inst).map((v) => new NodeRunner(shared, v));
    for (let t = 0; t < shared.rounds; t++) {
      const b = nodes.map((n) => n.broadcast(t));
      for (const n of nodes) {
        n.neighbours.forEach((j, i) => n.receiveSlot(i, b[j]));
        n.update(t);
      }
    }
    expect(nodes.map((n) => n.output())).toEqual(runInProcess(inst, spec).outputs);
  });
});
