import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { ecgnnWeightShapes, makeCheckpoint, runInProcess, uwmmseWeightShapes, type EcgnnArchitecture, type UwmmseArchitecture } from '@dmpemu/dmp';
import { objective, parseInstanceFile, wmmsePower } from '@dmpemu/wireless';
import { Coordinator } from '../coordinator/src/run/coordinator.ts';
import { join } from 'node:path';
import { REFERENCE_DIR } from './referenceDir.ts';

const ref = (name: string) => parseInstanceFile(JSON.parse(readFileSync(join(REFERENCE_DIR, name), 'utf8')), name);

describe('decentralised WMMSE over a real nats-server', () => {
  it('K=10 and K=30 reference instances: 100 iterations equal the centralized WMMSE and the in-process history', async () => {
    for (const [name, perProcess] of [['rayleigh-k10-snr0.json', 1], ['rayleigh-k30-snr10.json', 15]] as const) {
      const file = ref(name);
      const c = await Coordinator.start({ broker: inject('natsUrl') });
      try {
        await c.launch(file.K, perProcess);
        for (const inst of file.instances.slice(0, 2)) {
          const r = await c.runJob(inst, { name: 'wmmse-dmp', iterations: 100 }, { roundDeadlineMs: 5000, policy: 'skip' });
          const central = objective(inst, { kind: 'power', p: wmmsePower(inst, { iterations: 100 }) });
          const got = r.rounds.at(-1)!.objective;
          expect(Math.abs(got - central) / central, name).toBeLessThan(1e-9);
          const local = runInProcess(inst, { name: 'wmmse-dmp', iterations: 100 });
          expect(r.rounds.map((x) => x.objective)).toEqual(local.history);
          expect(r.rounds.every((x) => x.reported === file.K && x.timedOut === 0)).toBe(true);
          expect(r.rounds[0].messages).toBe(file.K * (file.K - 1));
          expect(r.deaths).toEqual([]);
          expect(r.malformed).toBe(0);
        }
      } finally {
        await c.shutdown();
      }
    }
  });
});

describe('decentralised WMMSE beamforming over a real nats-server', () => {
  it('MISO with CSI range: same per-round history as the in-process executor', async () => {
    const { generateInstance, Rng } = await import('@dmpemu/wireless');
    const inst = generateInstance('miso', new Rng(8), { K: 10, Nt: 2, field: 400, csiRange: 250 });
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    try {
      await c.launch(10, 5);
      const r = await c.runJob(inst, { name: 'wmmse-dmp', iterations: 20 }, { roundDeadlineMs: 5000, policy: 'skip' });
      expect(r.rounds.map((x) => x.objective)).toEqual(runInProcess(inst, { name: 'wmmse-dmp', iterations: 20 }).history);
    } finally {
      await c.shutdown();
    }
  });
});

describe('ECGNN and UWMMSE over a real nats-server', () => {
  it('D2D with a CSI range: the same per-round history as the in-process executor (UWMMSE: a wider round 0)', async () => {
    const { d2dInstance, Rng } = await import('@dmpemu/wireless');
    const rng = new Rng('nats-ecgnn-uwmmse');
    const random = (shapes: Record<string, number[]>): Record<string, { shape: number[]; data: Float64Array }> =>
      Object.fromEntries(Object.entries(shapes).map(([n, shape]) => [n, { shape, data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() / Math.sqrt(shape[0])) }]));
    const ecgnn: EcgnnArchitecture = { kind: 'ecgnn', task: 'power', layers: 2, hidden: [6, 8], head: [4], features: { transform: 'db', direct: { shift: -70, scale: 10 }, cross: { shift: -110, scale: 12 } } };
    const uwmmse: UwmmseArchitecture = { kind: 'uwmmse', task: 'power', layers: 3, gcnHidden: 5, features: { transform: 'log1p', direct: { shift: 0, scale: 7 }, cross: { shift: 0, scale: 5 } } };
    const specs = [
      { name: 'ecgnn', checkpoint: makeCheckpoint({ architecture: ecgnn, weights: random(ecgnnWeightShapes(ecgnn)), training: {}, metrics: {} }) },
      { name: 'uwmmse', checkpoint: makeCheckpoint({ architecture: uwmmse, weights: random(uwmmseWeightShapes(uwmmse)), training: {}, metrics: {} }) },
    ];
    const inst = d2dInstance(rng, { K: 10, field: 250, dmin: 10, dmax: 50, csiRange: 150 });
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    try {
      await c.launch(10, 5);
      for (const spec of specs) {
        const r = await c.runJob(inst, spec, { roundDeadlineMs: 5000, policy: 'skip' });
        expect(r.rounds.map((x) => x.objective), spec.name).toEqual(runInProcess(inst, spec).history);
        expect(r.rounds.at(-1)!.objective).toBeGreaterThan(0);
        expect(r.deaths).toEqual([]);
      }
    } finally {
      await c.shutdown();
    }
  });
});
