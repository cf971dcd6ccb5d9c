import { describe, expect, inject, it } from 'vitest';
import { Coordinator, parseScenario, runScenario } from '@dmpemu/coordinator';
import { runInProcess } from '@dmpemu/dmp';
import { rayleighInstance, Rng } from '@dmpemu/wireless';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('the programmatic API (@dmpemu/coordinator)', () => {
  it('runs a job on agents it launched and a whole scenario, as the README shows', async () => {
    const inst = rayleighInstance(new Rng(1), { K: 4, snrDb: 10 });
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    try {
      await c.launch(4, 2);
      const r = await c.runJob(inst, { name: 'wmmse-dmp', iterations: 5 }, { roundDeadlineMs: 5000, policy: 'skip' });
      expect(r.rounds.map((x) => x.objective)).toEqual(runInProcess(inst, { name: 'wmmse-dmp', iterations: 5 }).history);
    } finally {
      await c.shutdown();
    }
    const sc = parseScenario({ name: 'api', networks: [{ model: 'rayleigh-ic', K: 4 }], algorithms: [{ name: 'wmmse-dmp', iterations: 5 }], runtime: { kind: 'inprocess' }, outputs: { dir: mkdtempSync(join(tmpdir(), 'dmpemu-api-')) } }, 'api');
    const { summary } = await runScenario(sc);
    expect(summary.status).toBe('completed');
    expect(summary.networks[0].algorithms[0]).toMatchObject({ algorithm: 'wmmse-dmp-5', rounds: 10 });
  });
});
