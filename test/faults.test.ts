import { describe, expect, inject, it } from 'vitest';
import { isLost, runInProcess, type DeliveryFaults } from '@dmpemu/dmp';
import { localView, localViews, rayleighInstance, Rng, withMissingCsi } from '@dmpemu/wireless';
import { Coordinator } from '../coordinator/src/run/coordinator.ts';
import { NatsServer } from '../coordinator/src/run/natsServer.ts';

const spec = { name: 'wmmse-dmp', iterations: 10 };

describe('fault injection over a real nats-server', () => {
  it('messageLoss 0 equals the fault-free run; loss q drops exactly the decided deliveries and equals the in-process run', async () => {
    const inst = rayleighInstance(new Rng(21), { K: 8, snrDb: 10 });
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    try {
      await c.launch(8, 4);
      const base = await c.runJob(inst, spec, { roundDeadlineMs: 5000, policy: 'skip' });
      const zero = await c.runJob(inst, spec, { roundDeadlineMs: 5000, policy: 'skip', faults: { seed: 5, loss: 0 } });
      expect(zero.rounds.map((r) => r.objective)).toEqual(base.rounds.map((r) => r.objective));
      expect(zero.lost).toBe(0);
      for (const policy of ['skip', 'last'] as const) {
        const faults: DeliveryFaults = { seed: 5, loss: 0.3 };
        const lossy = await c.runJob(inst, spec, { roundDeadlineMs: 5000, policy, faults });
        const local = runInProcess(inst, spec, { policy, faults });
        expect(lossy.rounds.map((r) => r.objective)).toEqual(local.history);
        let expected = 0;
        for (let t = 0; t < 20; t++) for (let k = 0; k < 8; k++) for (let j = 0; j < 8; j++) if (j !== k && isLost(faults, t, j, k)) expected++;
        expect(lossy.lost).toBe(expected); // counted per job (they were lifetime counters, summed again every job)
        expect(lossy.rounds.reduce((s, r) => s + r.missing, 0)).toBe(expected);
        expect(lossy.rounds.at(-1)!.objective).not.toBe(base.rounds.at(-1)!.objective);
      }
    } finally {
      await c.shutdown();
    }
  });

  it('missing CSI: agents run on views lacking the chosen edges, equal to the in-process run on the same views', async () => {
    const inst = rayleighInstance(new Rng(22), { K: 8, snrDb: 10 });
    const known = withMissingCsi(inst, { select: 'weakest', fraction: 0.5 }, new Rng(1));
    const views = localViews(known);
    for (let k = 0; k < 8; k++) expect(views[k].neighbours.length).toBe(localView(inst, k).neighbours.length - 4);
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    try {
      await c.launch(8, 8);
      const r = await c.runJob(inst, spec, { roundDeadlineMs: 5000, policy: 'skip', views });
      expect(r.rounds.map((x) => x.objective)).toEqual(runInProcess(inst, spec, { views }).history);
      expect(r.rounds[0].messages).toBe(8 * 3);
    } finally {
      await c.shutdown();
    }
  });

  it('a straggler later than the deadline: its neighbours close on the deadline, as the in-process executor predicts', async () => {
    const inst = rayleighInstance(new Rng(23), { K: 5, snrDb: 10 });
    const faults: DeliveryFaults = { seed: 1, stragglers: { agents: [2], delayMs: 400 } };
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    try {
      await c.launch(5, 5);
      const r = await c.runJob(inst, { name: 'wmmse-dmp', iterations: 3 }, { roundDeadlineMs: 150, policy: 'skip', faults });
      expect(r.rounds.map((x) => x.objective)).toEqual(runInProcess(inst, { name: 'wmmse-dmp', iterations: 3 }, { faults, roundDeadlineMs: 150 }).history);
      expect(r.rounds.every((x) => x.timedOut === 4 && x.missing === 4)).toBe(true);
    } finally {
      await c.shutdown();
    }
  });

  it('crash and restart: the agent dies at round 5, rejoins at round 6, every round is recorded', async () => {
    const inst = rayleighInstance(new Rng(24), { K: 6, snrDb: 10 });
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    try {
      await c.launch(6, 3, 60, [2]);
      const r = await c.runJob(inst, { name: 'wmmse-dmp', iterations: 15 }, { roundDeadlineMs: 2000, policy: 'skip', crashes: [{ agent: 2, round: 5, restart: true }] });
      expect(r.rounds).toHaveLength(30);
      expect(r.deaths.map((d) => [d.k, d.round])).toEqual([[2, 5]]);
      expect(r.events.map((e) => [e.event, e.agent, e.round])).toEqual([['crash', 2, 5], ['rejoin', 2, 6]]);
      expect(r.rounds[5]).toMatchObject({ expected: 5, reported: 5 });
      expect(r.rounds[6]).toMatchObject({ expected: 6, reported: 6 });
      expect(r.rounds.at(-1)).toMatchObject({ expected: 6, reported: 6, timedOut: 0 });
      expect(c.deadAgents.size).toBe(0);
    } finally {
      await c.shutdown();
    }
  });

  it('a crash fault happens in every job of a network, as planned: the agent is back for the next job (it stayed dead, unrecorded, or the restart failed)', async () => {
    const inst = rayleighInstance(new Rng(26), { K: 6, snrDb: 10 });
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    try {
      await c.launch(6, 3, 60, [3]);
      for (const restart of [false, true, false]) {
        const r = await c.runJob(inst, { name: 'wmmse-dmp', iterations: 3 }, { roundDeadlineMs: 2000, policy: 'skip', crashes: [{ agent: 3, round: 1, restart }] });
        expect(r.rounds[0]).toMatchObject({ expected: 6, reported: 6 }); // agent 3 alive when the job starts
        expect(r.deaths.map((d) => [d.k, d.round])).toEqual([[3, 1]]);
        expect(r.events.map((e) => [e.event, e.agent, e.round])).toEqual(restart ? [['crash', 3, 1], ['rejoin', 3, 2]] : [['crash', 3, 1]]);
        expect(r.rounds[1]).toMatchObject({ expected: 5, reported: 5 });
      }
    } finally {
      await c.shutdown();
    }
  });

  it('broker restart: the server stops at round 4 and comes back; agents and coordinator reconnect and every round is recorded', async () => {
    const server = await NatsServer.start();
    const inst = rayleighInstance(new Rng(25), { K: 6, snrDb: 10 });
    const c = await Coordinator.start({ broker: { kind: 'nats', url: server.url, server } });
    try {
      await c.launch(6, 3);
      const r = await c.runJob(inst, { name: 'wmmse-dmp', iterations: 6 }, { roundDeadlineMs: 2000, policy: 'skip', brokerRestarts: [{ round: 4, downMs: 300 }] });
      expect(r.rounds).toHaveLength(12);
      expect(r.events.map((e) => [e.event, e.round])).toEqual([['broker-stop', 4], ['broker-start', 4]]);
      expect(r.rounds.every((x) => x.reported === 6)).toBe(true);
      expect(r.rounds.map((x) => x.objective)).toEqual(runInProcess(inst, { name: 'wmmse-dmp', iterations: 6 }).history);
    } finally {
      await c.shutdown();
      await server.dispose();
    }
  });
});
