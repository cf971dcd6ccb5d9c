import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { describe, expect, inject, it } from 'vitest';
import { loadCheckpoint, makeCheckpoint, pack, regnnWeightShapes, runInProcess, type AlgorithmSpec, type Checkpoint, type RegnnArchitecture } from '@dmpemu/dmp';
import { decode, encode, NatsTransport, newRunSecret, Sealer, subjects } from '@dmpemu/wire';
import { AgentHost } from '@dmpemu/agents';
import { generateInstance, localView, rayleighInstance, Rng, type Instance } from '@dmpemu/wireless';
import { Coordinator, type JobResult } from '../coordinator/src/run/coordinator.ts';
import { MODELS_DIR } from '../coordinator/src/scenario/checkpoints.ts';

/** A coordinator with K agents in hosts of 4 on the test's nats-server, and a hostile client on the same broker. */
async function setup(K: number, perHost = 4): Promise<{ co: Coordinator; nc: NatsConnection; close: () => Promise<void> }> {
  const co = await Coordinator.start({ broker: inject('natsUrl') });
  const nc = await connect({ servers: inject('natsUrl') });
  await co.launch(K, perHost);
  return { co, nc, close: async () => (await nc.close(), await co.shutdown()) };
}

function randomRegnn(): Checkpoint<RegnnArchitecture> {
  const rng = new Rng(8);
  const scaling = { shift: 0, scale: 0.5 };
  const a: RegnnArchitecture = { kind: 'regnn', task: 'power', layers: 2, taps: [3, 3], widths: [4, 1], p0: 4, shift: 'outgoing', decision: 'threshold', features: { transform: 'log1p', direct: scaling, cross: scaling } };
  const weights: Checkpoint['weights'] = {};
  for (const [name, shape] of Object.entries(regnnWeightShapes(a))) weights[name] = { shape, data: Float32Array.from({ length: shape[0] * (shape[1] ?? 1) }, () => rng.normal() / Math.sqrt(shape[0])) };
  return makeCheckpoint({ architecture: a, weights, training: { note: 'random weights' }, metrics: {} });
}

const objectives = (r: JobResult): number[] => r.rounds.map((x) => x.objective);
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('hostile clients on the run\'s broker (no credentials: anyone may publish)', () => {
  it('unsealed round, stop, configure, register and report messages are dropped and counted; WMMSE, PCGNN and REGNN results are unchanged and every host lives', async () => {
    const K = 8;
    const d2d = generateInstance('d2d', new Rng(4), { K, field: 200, csiRange: 120 });
    const adhoc = generateInstance('regnn-adhoc', new Rng(5), { K });
    const jobs: [Instance, AlgorithmSpec][] = [
      [d2d, { name: 'wmmse-dmp', iterations: 5 }],
      [d2d, { name: 'pcgnn', checkpoint: loadCheckpoint(join(MODELS_DIR, 'pcgnn-d2d-k50.json')) }],
      [adhoc, { name: 'regnn', checkpoint: randomRegnn() }],
    ];
    const { co, nc, close } = await setup(K);
    const s = subjects(co.runId);
    try {
      const pids = co.agentPids();
      for (const [inst, spec] of jobs) {
        const r = await co.runJob(inst, spec, {
          roundDeadlineMs: 5000,
          policy: 'skip',
          onRound: (rec) => {
            if (rec.t !== 0) return;
            // what killed or deafened every host before: a round beyond the plan (PCGNN threw in a timer, REGNN in the nats.js callback)
            nc.publish(s.control, encode({ type: 'round', job: r0job(co), t: 1000, gone: [] }));
            nc.publish(s.control, encode({ type: 'round', job: r0job(co), t: 1, gone: [0, 1, 2] }));
            nc.publish(s.control, encode({ type: 'stop', reason: 'forged' }));
            nc.publish(s.configure(0), encode({ type: 'configure', job: r0job(co), k: 0, view: localView(inst, 0), algorithm: { name: 'wmmse-dmp', iterations: 1 }, roundDeadlineMs: 10, policy: 'skip', fromRound: 0 }));
            nc.publish(s.register('h9'), encode({ type: 'register', host: 'h9', agents: [0, 1, 2], pid: 1, hostname: 'x' }));
            nc.publish(s.up('h0'), encode({ type: 'report', job: r0job(co), t: 1, agents: [{ k: 22, output: Float64Array.of(1), received: 0, missing: 0, bytesOut: 0, bytesIn: 0, timedOut: false, ms: 1 }] }));
          },
        });
        expect(objectives(r)).toEqual(runInProcess(inst, spec).history);
        // 3 on ctl, seen by both hosts; 1 on cfg.0; 1 on reg.h9 and 1 on up.h0, seen by the coordinator
        expect(r.counters.unauthenticated).toBe(3 * 2 + 1 + 2);
        expect(r.rounds.every((x) => x.reported === K)).toBe(true);
      }
      for (const pid of pids) expect(alive(pid)).toBe(true);
    } finally {
      await close();
    }
  });

  it('counts per job and per kind: junk in one job is counted in that job only, on data and control subjects', async () => {
    const K = 8;
    const inst = rayleighInstance(new Rng(7), { K, snrDb: 10 });
    const spec = { name: 'wmmse-dmp', iterations: 3 };
    const { co, nc, close } = await setup(K);
    const s = subjects(co.runId);
    try {
      const results: JobResult[] = [];
      for (let job = 0; job < 5; job++) {
        results.push(
          await co.runJob(inst, spec, {
            roundDeadlineMs: 5000,
            policy: 'skip',
            onRound: (rec) => {
              if (job !== 1 || rec.t !== 0) return;
              for (let i = 0; i < 100; i++) nc.publish(s.broadcast(0), Uint8Array.of(0xc1, i)); // 7 subscribers
              for (let i = 0; i < 10; i++) for (const subject of [s.control, s.configure(3), s.up('h0'), s.register('h1')]) nc.publish(subject, Uint8Array.of(i));
            },
          }),
        );
      }
      expect(results.map((r) => r.counters.malformedData)).toEqual([0, 700, 0, 0, 0]);
      // ctl reaches both hosts (20), cfg.3 its host (10), up.h0 and reg.h1 the coordinator (20)
      expect(results.map((r) => r.counters.unauthenticated)).toEqual([0, 50, 0, 0, 0]);
      for (const r of results) expect(objectives(r)).toEqual(runInProcess(inst, spec).history);
    } finally {
      await close();
    }
  });

  it('broadcasts: a wrong sender, NaN, a wrong size (200 KB) and rounds more than 4 ahead are dropped, so an agent keeps nothing unbounded', async () => {
    const K = 8;
    const inst = rayleighInstance(new Rng(8), { K, snrDb: 10 });
    const spec = { name: 'wmmse-dmp', iterations: 5 };
    const { co, nc, close } = await setup(K);
    const s = subjects(co.runId);
    try {
      const big = new Float64Array(25_000); // 200 KB
      const r = await co.runJob(inst, spec, {
        roundDeadlineMs: 5000,
        policy: 'skip',
        onRound: (rec) => {
          if (rec.t !== 0) return;
          const job = r0job(co);
          nc.publish(s.broadcast(1), encode([job, 1, 2, Float64Array.of(0.5)])); // on 1's subject as agent 2: 7 subscribers
          nc.publish(s.broadcast(1), encode([job, 1, 1, Float64Array.of(NaN)]));
          nc.publish(s.broadcast(1), encode([job, 1, 1, Float64Array.of(Infinity)]));
          for (let i = 0; i < 20; i++) nc.publish(s.broadcast(1), encode([job, 2 + (i % 4), 1, big])); // the wrong size
          nc.publish(s.broadcast(1), encode([job, 9, 1, Float64Array.of(0.5)])); // within the plan (10 rounds) but more than 4 ahead
        },
      });
      expect(objectives(r)).toEqual(runInProcess(inst, spec).history);
      expect(r.counters.malformedData).toBe(7 * 23);
      expect(r.counters.overflow).toBe(7);
      // what an agent keeps for later rounds is bounded: 4 rounds ahead, one broadcast of the algorithm's size per sender and round
      expect(r.counters.duplicate).toBe(0);
    } finally {
      await close();
    }
  });

  it('msgpack headers that claim more than the message holds (a 5-byte array32 of 2^24 elements, 24,000 nested array16 in 72 KB) are dropped as cheaply as any junk: no round waits for its deadline, every host lives', async () => {
    // msgpackr 1.12 read such a header element by element past the end before failing: 0.5 s for
    // the 5 bytes, 7 s and 1.6 GB for the 72 KB, per agent that heard it (7 here)
    const K = 8;
    const inst = rayleighInstance(new Rng(9), { K, snrDb: 10 });
    const spec = { name: 'wmmse-dmp', iterations: 5 };
    const { co, nc, close } = await setup(K);
    const s = subjects(co.runId);
    try {
      const pids = co.agentPids();
      const nested = new Uint8Array(3 * 24_000);
      for (let i = 0; i < 24_000; i++) nested.set([0xdc, 0xff, 0xff], 3 * i);
      const r = await co.runJob(inst, spec, {
        roundDeadlineMs: 5000,
        policy: 'skip',
        onRound: (rec) => {
          if (rec.t !== 0) return;
          for (let i = 0; i < 5; i++) nc.publish(s.broadcast(1), Uint8Array.of(0xdd, 0x01, 0x00, 0x00, i)); // 7 subscribers
          for (let i = 0; i < 2; i++) nc.publish(s.broadcast(1), nested);
        },
      });
      expect(objectives(r)).toEqual(runInProcess(inst, spec).history);
      expect(r.counters.malformedData).toBe(7 * 7);
      expect(r.rounds.map((x) => x.timedOut)).toEqual(r.rounds.map(() => 0));
      for (const pid of pids) expect(alive(pid)).toBe(true);
    } finally {
      await close();
    }
  });
});

describe('hostile absence notices (churn: an away agent publishes [job, t, k, null] instead of a broadcast)', () => {
  it('a notice with a wrong sender or beyond the plan is dropped and counted; one forged for an agent that is not away conflicts with its real broadcast and fails the job', async () => {
    const K = 8;
    const inst = rayleighInstance(new Rng(10), { K, snrDb: 10 });
    const spec = { name: 'wmmse-dmp', iterations: 5 };
    const churn = Array.from({ length: K }, (_, k) => (k === 3 ? { leaveRound: 2, joinRound: 6 } : undefined));
    const { co, nc, close } = await setup(K);
    const s = subjects(co.runId);
    try {
      const r = await co.runJob(inst, spec, {
        roundDeadlineMs: 5000,
        policy: 'skip',
        churn,
        onRound: (rec) => {
          if (rec.t !== 0) return;
          const job = r0job(co);
          nc.publish(s.broadcast(1), encode([job, 1, 2, null])); // on 1's subject as agent 2: 7 subscribers
          nc.publish(s.broadcast(1), encode([job, 10, 1, null])); // beyond the plan (10 rounds)
          nc.publish(s.broadcast(1), encode([job, 1, 1, 'away'])); // neither a broadcast nor a notice
        },
      });
      expect(objectives(r)).toEqual(runInProcess(inst, spec, { churn }).history);
      expect(r.counters.malformedData).toBe(7 * 3);
      expect(r.counters.conflicting).toBe(0);
      // a notice forged for agent 1's round 2 (it is not away) reaches its neighbours before its real broadcast
      await expect(
        co.runJob(inst, spec, {
          roundDeadlineMs: 5000,
          policy: 'skip',
          churn,
          onRound: (rec) => void (rec.t === 0 && nc.publish(s.broadcast(1), encode([r0job(co), 2, 1, null]))),
        }),
      ).rejects.toThrow(/conflicting duplicate message\(s\), forged traffic on the broker \(e\.g\. two different broadcasts of agent 1 for round 2/);
    } finally {
      await close();
    }
  });
});

describe('hostile broadcasts in a quantised run (messageQuantization: packed codes on the wire)', () => {
  it('a wrong sender, float64s where codes are due, a wrong length, a range that is not finite and 200 KB are dropped and counted; the result equals the in-process one', async () => {
    const K = 8;
    const inst = rayleighInstance(new Rng(9), { K, snrDb: 10 });
    const spec = { name: 'wmmse-dmp', iterations: 5 };
    const q = { bits: 8, scheme: 'uniform', range: 'per-message' } as const;
    const faults = { seed: 3, quantization: q };
    const { co, nc, close } = await setup(K);
    const s = subjects(co.runId);
    try {
      const nanRange = pack(q, Float64Array.of(0.5));
      new DataView(nanRange.buffer).setFloat32(0, NaN, true);
      const r = await co.runJob(inst, spec, {
        roundDeadlineMs: 5000,
        policy: 'skip',
        faults,
        onRound: (rec) => {
          if (rec.t !== 0) return;
          const job = r0job(co);
          nc.publish(s.broadcast(1), encode([job, 1, 2, pack(q, Float64Array.of(0.5))])); // on 1's subject as agent 2
          nc.publish(s.broadcast(1), encode([job, 1, 1, Float64Array.of(0.5)])); // float64s, not codes
          nc.publish(s.broadcast(1), encode([job, 1, 1, new Uint8Array(3)])); // 3 bytes where 9 are due
          nc.publish(s.broadcast(1), encode([job, 1, 1, nanRange])); // a range that does not decode
          for (let i = 0; i < 20; i++) nc.publish(s.broadcast(1), encode([job, 2 + (i % 4), 1, new Uint8Array(200_000)]));
        },
      });
      expect(objectives(r)).toEqual(runInProcess(inst, spec, { faults }).history);
      expect(r.counters.malformedData).toBe(7 * 24); // every message at each of agent 1's 7 neighbours
      expect(r.counters.duplicate + r.counters.conflicting).toBe(0);
    } finally {
      await close();
    }
  });
});

describe('a misbehaving credentialed host (it has the run secret)', () => {
  it('a report for an agent of another host is dropped; an output of the wrong shape or above Pmax fails the job with the reason', async () => {
    const K = 8;
    const inst = rayleighInstance(new Rng(9), { K, snrDb: 10 });
    const spec = { name: 'wmmse-dmp', iterations: 3 };
    const { co, nc, close } = await setup(K);
    const s = subjects(co.runId);
    const sealer = new Sealer(co.secret);
    const report = (t: number, k: number, output: Float64Array): void =>
      nc.publish(s.up('h0'), sealer.seal(s.up('h0'), { type: 'report', job: r0job(co), t, agents: [{ k, output, received: 7, missing: 0, bytesOut: 0, bytesIn: 0, timedOut: false, ms: 1 }] }));
    // the misbehaving host hears the coordinator's round announcements (it can open them) and reports at once
    let forge: ((t: number) => void) | undefined;
    nc.subscribe(s.control, {
      callback: (_e, m) => {
        const r = sealer.open(s.control, m.data);
        if (r.ok && (r.value as { type: string }).type === 'round') forge?.((r.value as { t: number }).t);
      },
    });
    await nc.flush();
    try {
      // every agent straggles 300 ms, so a forged report of round 1 is in before the genuine ones
      // (without it, on a loaded machine round 1 could end first: the forged report then counted as late, 1 run in 5)
      const faults = { seed: 1, stragglers: { agents: [0, 1, 2, 3, 4, 5, 6, 7], delayMs: 300 } };
      // h0 serves agents 0-3: it cannot report for agent 6; the genuine report counts
      forge = (t) => t === 1 && report(1, 6, Float64Array.of(0));
      const ok = await co.runJob(inst, spec, { roundDeadlineMs: 5000, policy: 'skip', faults });
      expect(objectives(ok)).toEqual(runInProcess(inst, spec).history);
      expect(ok.counters.malformedControl).toBe(1);
      for (const [output, reason] of [
        [Float64Array.of(0.5, 0.5), 'agent 0 reported an output of length 2, expected 1 (a power) in round 1'],
        [Float64Array.of(1e6), 'agent 0 reported a power of 1000000, outside [0, Pmax = 1] in round 1'],
        [Float64Array.of(NaN), 'agent 0 reported an output that is not finite in round 1'],
      ] as const) {
        forge = (t) => t === 1 && report(1, 0, output);
        await expect(co.runJob(inst, spec, { roundDeadlineMs: 5000, policy: 'skip', faults })).rejects.toThrow(reason);
      }
    } finally {
      await close();
    }
  });

  it('a forged broadcast for the next round, sent before the genuine one, is a conflict: the job fails saying so', async () => {
    const K = 6;
    const inst = rayleighInstance(new Rng(10), { K, snrDb: 10 });
    const { co, nc, close } = await setup(K);
    const s = subjects(co.runId);
    try {
      const run = co.runJob(inst, { name: 'wmmse-dmp', iterations: 3 }, {
        roundDeadlineMs: 5000,
        policy: 'skip',
        onRound: (rec) => rec.t === 2 && nc.publish(s.broadcast(2), encode([r0job(co), 3, 2, Float64Array.of(0.123)])),
      });
      // every neighbour that had not finished round 3 when the genuine copy came sees the conflict
      await expect(run).rejects.toThrow(/^job \d+: [1-5] conflicting duplicate message\(s\), forged traffic on the broker \(e\.g\. two different broadcasts of agent 2 for round 3, seen by agent \d\): the result cannot be trusted/);
    } finally {
      await close();
    }
  });
});

/** The job the coordinator is running (tests forge messages for it). */
function r0job(co: Coordinator): number {
  return (co as unknown as { job: number }).job;
}

describe('a replayed coordinator heartbeat (an open broker: anyone can record and resend a sealed message)', () => {
  it('does not keep an external host in a run whose coordinator is gone: it counts as a duplicate, and the host leaves on time; fresh heartbeats keep it', async () => {
    const secret = newRunSecret();
    const sealer = new Sealer(secret);
    const nc = await connect({ servers: inject('natsUrl') });
    const hosts: AgentHost[] = [];
    const buses: NatsTransport[] = [];
    try {
      const start = async (runId: string): Promise<AgentHost> => {
        const bus = await NatsTransport.connect(inject('natsUrl'), runId);
        buses.push(bus);
        const h = new AgentHost(bus, { runId, host: 'h0', ids: [0], secret, coordinatorTimeoutMs: 1500 });
        hosts.push(h);
        await bus.flush();
        return h;
      };
      const [replayed, fresh] = [await start('replay1'), await start('replay2')];
      const ctl = (runId: string): string => subjects(runId).control;
      const recorded = sealer.seal(ctl('replay1'), { type: 'alive', seq: 1, patienceMs: 0 });
      let seq = 0;
      const beat = (): void => {
        nc.publish(ctl('replay1'), recorded); // the same bytes, again and again
        nc.publish(ctl('replay2'), sealer.seal(ctl('replay2'), { type: 'alive', seq: ++seq, patienceMs: 0 }));
      };
      beat();
      const timer = setInterval(beat, 200);
      const left = await Promise.race([replayed.abandoned, new Promise((r) => setTimeout(() => r('stayed'), 6000))]);
      await new Promise((r) => setTimeout(r, 1500)); // the fresh one has heard nothing else for longer than its limit too
      clearInterval(timer);
      // before: any sealed message counted as the coordinator heard, replays too, and the host stayed
      expect(left).toBe('the coordinator of run replay1 was silent for 2 s (gone, or cut off from this host): leaving');
      expect((replayed as unknown as { counters: { duplicate: number } }).counters.duplicate).toBeGreaterThanOrEqual(8);
      expect(await Promise.race([fresh.abandoned, Promise.resolve('stayed')])).toBe('stayed');
      expect((fresh as unknown as { counters: { duplicate: number } }).counters.duplicate).toBe(0);
    } finally {
      for (const h of hosts) await h.close();
      for (const b of buses) await b.close();
      await nc.close();
    }
  });
});

describe('a replayed host heartbeat (an open broker: anyone can record and resend a sealed message)', () => {
  it('does not keep a gone host\'s agents alive: the replays count as duplicates, and its agents are declared dead after hostSilenceMs as without them', async () => {
    const K = 8;
    const inst = rayleighInstance(new Rng(34), { K, snrDb: 10 });
    const co = await Coordinator.start({ broker: inject('natsUrl'), hostSilenceMs: 2000 });
    const nc = await connect({ servers: inject('natsUrl') });
    const subject = subjects(co.runId).up('h1');
    let recorded: Uint8Array | undefined; // h1's latest heartbeat, as a recorder on the broker sees it (sealed: it cannot make another)
    nc.subscribe(subject, { callback: (_e, m) => void ((decode(m.data.subarray(0, m.data.length - 16)) as { type: string }).type === 'alive' && (recorded = m.data)) });
    await nc.flush();
    let frozen: number | undefined, replays: NodeJS.Timeout | undefined;
    try {
      await co.launch(K, 4);
      const pid = co.agentPids()[4];
      for (let i = 0; i < 100 && !recorded; i++) await new Promise((r) => setTimeout(r, 100)); // a heartbeat of h1 recorded
      expect(recorded).toBeDefined();
      const r = await co.runJob(inst, { name: 'wmmse-dmp', iterations: 10 }, {
        roundDeadlineMs: 500,
        policy: 'skip',
        onRound: (rec) => {
          if (rec.t !== 2) return;
          process.kill(pid, 'SIGSTOP');
          frozen = pid;
          replays = setInterval(() => nc.publish(subject, recorded!), 200);
        },
      });
      // before: any sealed message from up.h1 counted as h1 heard; the replays kept agents 4-7 alive, every later round held to the deadline
      expect(r.deaths.map((d) => d.k)).toEqual([4, 5, 6, 7]);
      for (const d of r.deaths) expect(d.cause).toMatch(/^its host h1 was silent for [2-9]\.\d s \(no heartbeat: its machine, process or connection is gone\)$/);
      expect(r.counters.duplicate).toBeGreaterThanOrEqual(8);
      expect(r.counters.malformedControl).toBe(0);
    } finally {
      clearInterval(replays);
      if (frozen) process.kill(frozen, 'SIGCONT');
      await nc.close();
      await co.shutdown();
    }
  });
});
