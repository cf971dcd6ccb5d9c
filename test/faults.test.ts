import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { isLost, runInProcess, type DeliveryFaults } from '@dmpemu/dmp';
import { localView, localViews, rayleighInstance, Rng, withMissingCsi } from '@dmpemu/wireless';
import { Coordinator } from '../coordinator/src/run/coordinator.ts';
import { NatsServer } from '../coordinator/src/run/natsServer.ts';
import { runScenario } from '../coordinator/src/commands/run.ts';
import { parseScenario } from '../coordinator/src/scenario/scenario.ts';

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
        // the in-process executor counts what the agents count (it counted nothing: rounds.jsonl had 0 and 0)
        expect(local.lost).toBe(expected);
        expect(local.missing).toEqual(lossy.rounds.map((r) => r.missing));
        expect(local.received).toEqual(lossy.rounds.map((r) => r.messages));
        expect(local.received.reduce((s, m) => s + m, 0)).toBe(20 * 8 * 7 - expected);
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
      const local = runInProcess(inst, { name: 'wmmse-dmp', iterations: 3 }, { faults, roundDeadlineMs: 150 });
      expect(r.rounds.map((x) => x.objective)).toEqual(local.history);
      expect(r.rounds.every((x) => x.timedOut === 4 && x.missing === 4)).toBe(true);
      expect([local.timedOut, local.missing, local.received]).toEqual([r.rounds.map((x) => x.timedOut), r.rounds.map((x) => x.missing), r.rounds.map((x) => x.messages)]);
      expect([local.late, local.lost]).toEqual([6 * 4, 0]); // the straggler's 6 broadcasts, to each of its 4 neighbours
    } finally {
      await c.shutdown();
    }
  });

  it('a lost message from a straggler arrives (as lost) after the deadline: late and timed out, in process as over NATS', async () => {
    const inst = rayleighInstance(new Rng(23), { K: 5, snrDb: 10 });
    const spec = { name: 'wmmse-dmp', iterations: 3 };
    const faults: DeliveryFaults = { seed: 3, loss: 0.3, stragglers: { agents: [2], delayMs: 400 } };
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    try {
      await c.launch(5, 5);
      const r = await c.runJob(inst, spec, { roundDeadlineMs: 150, policy: 'skip', faults });
      const local = runInProcess(inst, spec, { faults, roundDeadlineMs: 150 });
      expect(r.rounds.map((x) => x.objective)).toEqual(local.history);
      // in process the loss was decided first: the straggler's lost messages counted lost, their receivers not timed out
      expect([local.timedOut, local.missing, local.received]).toEqual([r.rounds.map((x) => x.timedOut), r.rounds.map((x) => x.missing), r.rounds.map((x) => x.messages)]);
      expect(local.timedOut).toEqual(new Array(6).fill(4));
      expect(local.lost).toBe(r.lost);
      let lostFast = 0; // losses on the other agents' links: they arrive at once
      for (let t = 0; t < 6; t++) for (let k = 0; k < 5; k++) for (let j = 0; j < 5; j++) if (j !== k && j !== 2 && isLost(faults, t, j, k)) lostFast++;
      expect([local.lost, local.late]).toEqual([lostFast, 6 * 4]);
      expect(lostFast).toBeGreaterThan(0);
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

describe('a fault plan run in process reports what the same plan over NATS reports', () => {
  it.each([
    ['messageLoss', { messageLoss: { probability: 0.25 } }],
    ['bit errors on 8-bit codes (undecodable ranges are lost) with an agent away', { messageQuantization: { bits: 8 }, bitErrors: { ber: 0.01 }, churn: [{ agent: 3, leaveRound: 2, joinRound: 4 }] }],
  ])('%s: lost, messages per round and each round\'s missing messages in summary.json and rounds.jsonl are equal (in process they were all 0)', async (_what, faults) => {
    const run = (kind: 'inprocess' | 'nats') =>
      runScenario(
        parseScenario(
          {
            name: 'loss',
            seed: 4,
            networks: [{ name: 'net', model: 'd2d', K: 8, field: 300, csiRange: 200, instances: 2 }],
            algorithms: [{ name: 'wmmse-dmp', iterations: 4 }],
            runtime: kind === 'nats' ? { kind, agentsPerProcess: 4 } : { kind },
            faults,
            outputs: { dir: mkdtempSync(join(tmpdir(), 'dmpemu-loss-')) },
          },
          's.yaml',
        ),
        kind === 'nats' ? { nats: inject('natsUrl') } : {},
      );
    const [local, nats] = [await run('inprocess'), await run('nats')];
    const pick = (r: typeof local) => {
      const a = r.summary.networks[0].algorithms[0];
      return { rates: a.rates, lost: a.lost, late: a.late, messagesPerRound: a.messagesPerRound };
    };
    const rounds = (dir: string) =>
      readFileSync(join(dir, 'rounds.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .map((l) => [l.instance, l.round, l.messages, l.missing]);
    expect(pick(local)).toEqual(pick(nats));
    expect(pick(local).lost).toBeGreaterThan(0);
    expect(rounds(local.dir)).toEqual(rounds(nats.dir));
    expect(rounds(local.dir)).toHaveLength(2 * 8);
    expect(rounds(local.dir).reduce((s, r) => s + r[3], 0)).toBe(pick(local).lost);
  });

  it('an own module that listens to some neighbours only: deliveries from the others are not counted lost in process either (agents drop them unread)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-listens-'));
    // power as the mean of what the even neighbour slots broadcast, scaled by the agent's weight
    writeFileSync(
      join(dir, 'half.mjs'),
      `export default function () {
        return {
          name: 'half', rounds: 4, period: 1,
          init: (view) => ({ view, p: view.pmax }),
          broadcastSize: () => 1, messageSize: () => 1, aggregation: () => 'mean',
          listens: (_view, _t, i) => i % 2 === 0,
          broadcast: (s, _t, out) => { out[0] = s.p; },
          message: (_s, _t, _i, b, out) => { out[0] = b[0]; },
          update: (s, _t, agg, used) => { s.p = used ? Math.min(s.view.pmax, 0.5 * agg[0] + 0.5 * s.view.weight * s.view.pmax) : s.view.pmax; },
          output: (s) => Float64Array.of(s.p),
        };
      }\n`,
    );
    const run = (kind: 'inprocess' | 'nats') =>
      runScenario(
        parseScenario({ name: 'half', seed: 6, networks: [{ name: 'net', model: 'rayleigh-ic', K: 7, snrDb: 10, weighted: true, instances: 2 }], algorithms: [{ module: join(dir, 'half.mjs') }], runtime: kind === 'nats' ? { kind, agentsPerProcess: 7 } : { kind }, faults: { messageLoss: { probability: 0.3 } }, outputs: { dir } }, 's.yaml'),
        kind === 'nats' ? { nats: inject('natsUrl') } : {},
      );
    const [local, nats] = [await run('inprocess'), await run('nats')];
    const a = (r: typeof local) => r.summary.networks[0].algorithms[0];
    expect([a(local).rates, a(local).lost, a(local).messagesPerRound]).toEqual([a(nats).rates, a(nats).lost, a(nats).messagesPerRound]);
    expect(a(local).messagesPerRound).toBeGreaterThan(0);
  });
});
