import { describe, expect, it } from 'vitest';
import { runInProcess } from '@dmpemu/dmp';
import { rayleighInstance, Rng } from '@dmpemu/wireless';
import { closeBroker, Coordinator, openBroker } from '../coordinator/src/run/coordinator.ts';

describe('embedded default without nats-server', () => {
  it('says so in one line and runs agents over the in-process bus, equal to the in-process executor', async () => {
    const lines: string[] = [];
    const broker = await openBroker(undefined, (s) => lines.push(s), null);
    expect(broker.kind).toBe('memory');
    expect(lines).toEqual(['nats-server not found (PATH, /usr/sbin): using the in-process bus; agents run inside the coordinator process']);
    const c = await Coordinator.start({ broker });
    await c.launch(7, 3);
    const inst = rayleighInstance(new Rng(2), { K: 7, snrDb: 0 });
    const r = await c.runJob(inst, { name: 'wmmse-dmp', iterations: 10 }, { roundDeadlineMs: 2000, policy: 'skip' });
    await c.shutdown();
    await closeBroker(broker);
    expect(r.rounds.map((x) => x.objective)).toEqual(runInProcess(inst, { name: 'wmmse-dmp', iterations: 10 }).history);
  });
});
