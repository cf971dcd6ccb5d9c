import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { runInProcess } from '@dmpemu/dmp';
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
