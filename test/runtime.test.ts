import { describe, expect, inject, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { join } from 'node:path';
import { loadCheckpoint, runInProcess, type AlgorithmSpec } from '@dmpemu/dmp';
import { decode, Sealer, subjects } from '@dmpemu/wire';
import { generateInstance, localView, rayleighInstance, Rng, type Instance } from '@dmpemu/wireless';
import { Coordinator } from '../coordinator/src/run/coordinator.ts';
import { MODELS_DIR } from '../coordinator/src/scenario/checkpoints.ts';

function partialCsiInstance(K: number, seed: number): Instance {
  const inst = rayleighInstance(new Rng(seed), { K, snrDb: 10 });
  const rng = new Rng(seed + 1);
  inst.csi = new Uint8Array(K * K);
  for (let j = 0; j < K; j++) for (let k = 0; k < K; k++) if (j !== k && rng.uniform() < 0.4) inst.csi[j * K + k] = 1;
  return inst;
}

/** Every number inside a decoded message, typed arrays included. */
function numbersIn(v: unknown, out: number[] = []): number[] {
  if (typeof v === 'number') out.push(v);
  else if (ArrayBuffer.isView(v)) out.push(...Array.from(v as unknown as ArrayLike<number>));
  else if (Array.isArray(v)) v.forEach((x) => numbersIn(x, out));
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => numbersIn(x, out));
  return out;
}

describe('runtime over a real nats-server', () => {
  it('sends agent k only its local view: no channel outside its CSI', async () => {
    const inst = partialCsiInstance(8, 5);
    const K = inst.K;
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    const spy = await connect({ servers: inject('natsUrl') });
    const seen = new Map<number, unknown>();
    spy.subscribe(`${subjects(c.runId).base}.cfg.*`, { callback: (_e, m) => void seen.set(Number(m.subject.split('.').at(-1)), decode(m.data.subarray(0, m.data.length - 16))) }); // sealed: msgpack + 16-byte tag
    await spy.flush();
    try {
      await c.launch(K, 4);
      const r = await c.runJob(inst, { name: 'wmmse-dmp', iterations: 20 }, { roundDeadlineMs: 5000, policy: 'skip' });
      expect(r.rounds.at(-1)!.objective).toBeCloseTo(runInProcess(inst, { name: 'wmmse-dmp', iterations: 20 }).history.at(-1)!, 12);
      expect(seen.size).toBe(K);
      for (let k = 0; k < K; k++) {
        const msg = seen.get(k) as { view: { k: number; neighbours: Int32Array; gIn: Float64Array; gOut: Float64Array } };
        const known = Array.from({ length: K }, (_, j) => j).filter((j) => j !== k && inst.csi![j * K + k] === 1);
        expect(Array.from(msg.view.neighbours)).toEqual(known);
        expect(Array.from(msg.view.gIn)).toEqual(known.map((j) => inst.gain[j * K + k]));
        expect(Array.from(msg.view.gOut)).toEqual(known.map((j) => inst.gain[k * K + j]));
        const allowed = new Set([inst.gain[k * K + k], ...known.flatMap((j) => [inst.gain[j * K + k], inst.gain[k * K + j]])]);
        const forbidden = Array.from(inst.gain).filter((g) => !allowed.has(g));
        const carried = new Set(numbersIn(msg));
        expect(forbidden.filter((g) => carried.has(g))).toEqual([]);
      }
    } finally {
      await spy.close();
      await c.shutdown();
    }
  });

  it('a checkpoint travels once per host and job, not once per agent (the beamforming WCGCN\'s 250 KB to each of 1,000 agents doubled a K = 1000 job); the result is the in-process one', async () => {
    const inst = generateInstance('miso', new Rng(12), { K: 12, Nt: 2, field: 300, csiRange: 200 });
    const spec: AlgorithmSpec = { name: 'wcgcn', checkpoint: loadCheckpoint(join(MODELS_DIR, 'wcgcn-miso-k50-nt2-both-csi500.json')) };
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    const spy = await connect({ servers: inject('natsUrl') });
    const sent: { k: number; bytes: number; algorithm: Record<string, unknown> }[] = [];
    spy.subscribe(`${subjects(c.runId).base}.cfg.*`, { callback: (_e, m) => void sent.push({ k: Number(m.subject.split('.').at(-1)), bytes: m.data.length, algorithm: (decode(m.data.subarray(0, m.data.length - 16)) as { algorithm: Record<string, unknown> }).algorithm }) });
    await spy.flush();
    try {
      await c.launch(inst.K, 4); // 3 hosts
      for (let job = 0; job < 2; job++) {
        sent.length = 0;
        const r = await c.runJob(inst, spec, { roundDeadlineMs: 5000, policy: 'skip' });
        expect(r.rounds.map((x) => x.objective)).toEqual(runInProcess(inst, spec).history);
        await spy.flush();
        const whole = sent.filter((m) => m.algorithm.checkpoint);
        expect([whole.length, sent.length]).toEqual([3, 12]); // one agent per host, every job (before: 12 of 12)
        expect(new Set(whole.map((m) => Math.floor(m.k / 4)))).toEqual(new Set([0, 1, 2]));
        for (const m of sent.filter((x) => !x.algorithm.checkpoint)) expect(m.algorithm).toEqual({ name: 'wcgcn', ref: spec.checkpoint!.hash });
        const total = sent.reduce((n, m) => n + m.bytes, 0);
        expect(total).toBeLessThan(4 * whole[0].bytes); // before: 12 times
      }
      // a ref its host does not hold (another checkpoint's hash) is refused with the reason, sealed by the coordinator's own secret
      const sealer = new Sealer(c.secret);
      const answers: unknown[] = [];
      spy.subscribe(`${subjects(c.runId).base}.up.*`, { callback: (_e, m) => void answers.push(decode(m.data.subarray(0, m.data.length - 16))) });
      const job = (c as unknown as { job: number }).job;
      const subject = subjects(c.runId).configure(5);
      spy.publish(subject, sealer.seal(subject, { type: 'configure', job: job + 1, k: 5, view: localView(inst, 5), algorithm: { name: 'wcgcn', ref: 'ab'.repeat(32) }, roundDeadlineMs: 1000, policy: 'skip', fromRound: 0, clock: 'barrier' }));
      for (let i = 0; i < 100 && answers.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(answers.filter((m) => (m as { type: string }).type === 'refused')).toEqual([{ type: 'refused', job: job + 1, k: 5, reason: `configure: algorithm.ref abababababab names no wcgcn checkpoint or module this host was sent whole in job ${job + 1}` }]);
    } finally {
      await spy.close();
      await c.shutdown();
    }
  });

  it('a killed agent process is reported with its round; the run finishes and no process is left', async () => {
    const inst = rayleighInstance(new Rng(9), { K: 6, snrDb: 10 });
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    await c.launch(6, 1);
    const pids = c.agentPids();
    expect(pids).toHaveLength(6);
    let killedAt = -1;
    const r = await c.runJob(inst, { name: 'wmmse-dmp', iterations: 40 }, {
      roundDeadlineMs: 1000,
      policy: 'skip',
      onRound: (rec) => {
        if (rec.t === 20) {
          killedAt = rec.t;
          process.kill(c.agentPids()[3], 'SIGKILL');
        }
      },
    });
    await c.shutdown();
    expect(r.rounds).toHaveLength(80);
    expect(r.deaths).toHaveLength(1);
    expect(r.deaths[0].k).toBe(3);
    expect(r.deaths[0].round).toBeGreaterThanOrEqual(killedAt);
    expect(r.deaths[0].round).toBeLessThanOrEqual(killedAt + 1);
    expect(r.deaths[0].cause).toContain('SIGKILL');
    expect(r.rounds.at(-1)!.expected).toBe(5);
    expect(r.rounds.at(-1)!.reported).toBe(5);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });

  it('drops and counts malformed messages on an agent\'s subjects; results unchanged', async () => {
    const inst = rayleighInstance(new Rng(11), { K: 5, snrDb: 10 });
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    const spy = await connect({ servers: inject('natsUrl') });
    const subj = subjects(c.runId);
    try {
      await c.launch(5, 5);
      const r = await c.runJob(inst, { name: 'wmmse-dmp', iterations: 10 }, {
        roundDeadlineMs: 5000,
        policy: 'skip',
        onRound: (rec) => {
          if (rec.t !== 0) return;
          spy.publish(subj.broadcast(0), new Uint8Array([0xc1])); // not msgpack: 4 subscribers (agents 1-4)
          spy.publish(subj.broadcast(0), new Uint8Array([0x93, 1, 2, 3])); // msgpack [1,2,3]: wrong shape
          spy.publish(subj.configure(2), new Uint8Array([0x01])); // unsealed: not a configure message
        },
      });
      expect(r.rounds.map((x) => x.objective)).toEqual(runInProcess(inst, { name: 'wmmse-dmp', iterations: 10 }).history);
      expect(r.malformed).toBe(4 + 4 + 1);
    } finally {
      await spy.close();
      await c.shutdown();
    }
  });

  it('an unreachable NATS URL is a one-line error naming the URL', async () => {
    await expect(Coordinator.start({ broker: 'nats://127.0.0.1:1' })).rejects.toThrow(/^cannot connect to NATS at nats:\/\/127\.0\.0\.1:1: /);
    const e = await Coordinator.start({ broker: 'nats://ann:s3cret@127.0.0.1:1' }).catch((x: Error) => x);
    expect((e as Error).message).toMatch(/^cannot connect to NATS at nats:\/\/ann:\*\*\*@127\.0\.0\.1:1: /);
    expect((e as Error).message).not.toContain('s3cret');
  });
});
