import { describe, expect, inject, it } from 'vitest';
import { makeCheckpoint, regnnWeightShapes, runInProcess, type Checkpoint, type RegnnArchitecture } from '@dmpemu/dmp';
import { generateInstance, Rng, withMissingCsi } from '@dmpemu/wireless';
import { Coordinator } from '../coordinator/src/run/coordinator.ts';

/** Random weights (the agents' arithmetic is what is compared, not the quality). */
function randomRegnn(decision: RegnnArchitecture['decision']): Checkpoint<RegnnArchitecture> {
  const rng = new Rng(8);
  const scaling = { shift: 0, scale: 0.5 };
  const a: RegnnArchitecture = { kind: 'regnn', task: 'power', layers: 2, taps: [3, 3], widths: [4, 1], p0: 4, shift: 'outgoing', decision, features: { transform: 'log1p', direct: scaling, cross: scaling } };
  const weights: Checkpoint['weights'] = {};
  for (const [name, shape] of Object.entries(regnnWeightShapes(a))) weights[name] = { shape, data: Float32Array.from({ length: shape[0] * (shape[1] ?? 1) }, () => rng.normal() / Math.sqrt(shape[0])) };
  return makeCheckpoint({ architecture: a, weights, training: { note: 'random weights' }, metrics: {} });
}

describe('REGNN over NATS', () => {
  it('runs decentralised exactly as in process, with partial CSI, in sum(K_l - 1) rounds', async () => {
    const inst = withMissingCsi(generateInstance('regnn-adhoc', new Rng(5), { K: 6 }), { select: 'uniform', fraction: 0.4 }, new Rng(1));
    const co = await Coordinator.start({ broker: inject('natsUrl') });
    try {
      await co.launch(6, 3);
      for (const decision of ['threshold', 'expected'] as const) {
        const spec = { name: 'regnn', checkpoint: randomRegnn(decision) };
        const r = await co.runJob(inst, spec, { roundDeadlineMs: 5000, policy: 'skip' });
        const local = runInProcess(inst, spec);
        expect(r.rounds).toHaveLength(4);
        expect(r.rounds.map((x) => x.objective)).toEqual(local.history);
        expect(local.history.at(-1)).toBeGreaterThan(0);
      }
    } finally {
      await co.shutdown();
    }
  });
});
