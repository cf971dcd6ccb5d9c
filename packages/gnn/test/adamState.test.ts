import { describe, expect, it } from 'vitest';
import type { Checkpoint } from '@dmpemu/dmp';
import { rayleighInstance, Rng } from '@dmpemu/wireless';
import { train, type AdamState } from '../src/index.ts';

/** Largest absolute difference between the weights of two checkpoints of one architecture. */
function maxWeightDiff(a: Checkpoint, b: Checkpoint): number {
  let d = 0;
  for (const [name, w] of Object.entries(a.weights)) w.data.forEach((x, i) => (d = Math.max(d, Math.abs(x - b.weights[name].data[i]))));
  return d;
}

describe('Adam state across a resume', () => {
  it('3 + 3 steps resumed with the saved moments = 6 steps in one go; without them the weights differ', async () => {
    const rng = new Rng('adam-resume');
    const instances = Array.from({ length: 8 }, () => rayleighInstance(rng, { K: 6, snrDb: 10 }));
    const o = { instances, batch: 8, seed: 5, architecture: { layers: 2, mlp1: [5, 8, 8], mlp2: [11, 8, 1] } }; // batch = the whole set: every step sees the same instances
    const straight = await train({ ...o, steps: 6 });
    let saved: AdamState | undefined;
    const first = await train({ ...o, steps: 3, onCheckpoint: (_c, _d, adam) => void (saved = adam) });
    expect(saved?.iterations).toBe(3);
    expect(Object.keys(saved!.moments).sort()).toEqual(Object.keys(first.weights).sort());
    const resumed = await train({ ...o, steps: 3, init: first, adam: saved });
    const restarted = await train({ ...o, steps: 3, init: first });
    expect(maxWeightDiff(resumed, straight)).toBeLessThan(1e-5);
    expect(maxWeightDiff(restarted, straight)).toBeGreaterThan(1e-4);
    await expect(train({ ...o, steps: 1, adam: saved })).rejects.toThrow('train: adam (an optimizer state) needs init (the checkpoint it belongs to)');
  });
});
