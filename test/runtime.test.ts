import { describe, expect, inject, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { runInProcess } from '@dmpemu/dmp';
import { decode, subjects } from '@dmpemu/wire';
import { rayleighInstance, Rng, type Instance } from '@dmpemu/wireless';
import { Coordinator } from '../coordinator/src/run/coordinator.ts';

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
