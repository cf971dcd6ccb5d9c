import { describe, expect, it } from 'vitest';
import { NodeRunner, wmmseDmp } from '@dmpemu/dmp';
import { decode as decodeMsgpack, encode, MemoryBus, MemoryTransport, newRunSecret, Sealer, subjects, type FinalMsg, type ReportMsg, type UpMsg } from '@dmpemu/wire';
import { localView, rayleighInstance, Rng } from '@dmpemu/wireless';
import { AgentHost, lastValueDecoder } from '../src/host.ts';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Agent 0 in a host of its own on the in-process bus; the test plays the coordinator (sealed
 * control messages) and neighbours 1 and 2 (their broadcasts), and reads the host's sealed answers.
 */
function harness() {
  const inst = rayleighInstance(new Rng(3), { K: 3, snrDb: 10 });
  const bus = new MemoryBus();
  const secret = newRunSecret();
  const sealer = new Sealer(secret);
  const subj = subjects('t');
  const host = new AgentHost(new MemoryTransport(bus), { runId: 't', host: 'h0', ids: [0], secret });
  const peer = new MemoryTransport(bus);
  const up: UpMsg[] = [];
  peer.subscribe(subj.upAll, (d, _r, s) => {
    const r = sealer.open(s, d);
    if (r.ok) up.push(r.value as UpMsg);
  });
  const control = (m: object): void => peer.publish(subj.control, sealer.seal(subj.control, m));
  const configure = (job: number, deadlineMs: number): void =>
    peer.publish(subj.configure(0), sealer.seal(subj.configure(0), { type: 'configure', job, k: 0, view: localView(inst, 0), algorithm: { name: 'wmmse-dmp', iterations: 2 }, roundDeadlineMs: deadlineMs, policy: 'skip', fromRound: 0, clock: 'barrier' }));
  const broadcast = (job: number, t: number, from: number, b: Float64Array): void => peer.publish(subj.broadcast(from), encode([job, t, from, b]));
  return { inst, host, up, control, configure, broadcast, peer, subj, sealer };
}

describe('agent host', () => {
  it('a round still open when the next one starts is closed first: no duplicates, no stale inbox, no stale timer', async () => {
    const h = harness();
    h.configure(1, 200);
    await tick();
    expect(h.up).toEqual([{ type: 'ready', job: 1, k: 0 }]);
    // the reference: agent 0's node fed exactly what reaches it in each round
    const ref = new NodeRunner(wmmseDmp(2), localView(h.inst, 0));
    const b1r0 = Float64Array.of(0.7), b1r1 = Float64Array.of(0.3), b2r1 = Float64Array.of(0.9);
    h.control({ type: 'round', job: 1, t: 0, gone: [] });
    h.broadcast(1, 0, 1, b1r0); // neighbour 2's round-0 broadcast never comes: round 0 is still open...
    await tick();
    h.control({ type: 'round', job: 1, t: 1, gone: [] }); // ...when the coordinator (having closed it) starts round 1
    h.broadcast(1, 1, 1, b1r1);
    h.broadcast(1, 1, 2, b2r1);
    await tick();
    ref.receive(0, 1, b1r0);
    ref.update(0);
    ref.receive(1, 1, b1r1);
    ref.receive(1, 2, b2r1);
    ref.update(1);
    const reports = h.up.filter((m): m is ReportMsg => m.type === 'report');
    expect(reports.map((r) => [r.t, r.agents[0].received, r.agents[0].missing, r.agents[0].timedOut])).toEqual([
      [0, 1, 1, true],
      [1, 2, 0, false],
    ]);
    expect(Array.from(reports[1].agents[0].output)).toEqual(Array.from(ref.output()));
    // round 0's deadline timer must not close round 2 early: round 2 waits for its neighbours
    await new Promise((r) => setTimeout(r, 250));
    h.control({ type: 'round', job: 1, t: 2, gone: [] });
    await tick();
    expect(h.up.filter((m) => m.type === 'report')).toHaveLength(2);
    h.control({ type: 'end', job: 1 });
    await tick();
    const final = h.up.find((m): m is FinalMsg => m.type === 'final')!;
    expect(final.counters).toMatchObject({ malformedData: 0, malformedControl: 0, duplicate: 0, late: 0, conflicting: 0 });
    await h.host.close();
  });

  it('checks every broadcast: sender, job, round plan, size and finiteness; the first copy wins and a different second one is a conflict', async () => {
    const h = harness();
    h.configure(4, 5000);
    await tick();
    h.control({ type: 'round', job: 4, t: 0, gone: [] });
    const good = Float64Array.of(0.5);
    h.peer.publish(h.subj.broadcast(1), encode([4, 0, 2, good])); // on 1's subject, claiming to be 2
    h.broadcast(4, 0, 1, Float64Array.of(NaN)); // not finite
    h.broadcast(4, 0, 1, Float64Array.of(0.5, 0.5)); // wrong size
    h.broadcast(4, 9, 1, good); // beyond the plan (4 rounds)
    h.broadcast(3, 0, 1, good); // an older job
    h.broadcast(4, 0, 1, good);
    h.broadcast(4, 0, 1, good); // an exact copy
    h.broadcast(4, 0, 1, Float64Array.of(0.25)); // a different copy
    h.peer.publish(h.subj.broadcast(1), new Uint8Array([0xc1])); // not msgpack
    await tick();
    h.control({ type: 'end', job: 4 });
    await tick();
    const final = h.up.find((m): m is FinalMsg => m.type === 'final')!;
    expect(final.counters).toEqual({ malformedData: 5, malformedControl: 0, unauthenticated: 0, late: 1, duplicate: 2, conflicting: 1, lost: 0, overflow: 0 });
    expect(final.conflicts).toEqual([{ k: 0, from: 1, t: 0 }]);
    await h.host.close();
  });

  it('drops unsealed and unfitting control messages, counted; a configure of a configured job is answered again only if identical', async () => {
    const h = harness();
    h.configure(2, 5000);
    await tick();
    h.peer.publish(h.subj.control, encode({ type: 'round', job: 2, t: 0, gone: [] })); // unsealed
    h.peer.publish(h.subj.control, h.sealer.seal(h.subj.configure(0), { type: 'round', job: 2, t: 0, gone: [] })); // sealed for another subject
    h.control({ type: 'round', job: 2, t: 1000, gone: [] }); // beyond the plan
    h.control({ type: 'round', job: 7, t: 0, gone: [] }); // not this job
    h.control({ type: 'hello' });
    h.configure(2, 5000); // a retry: answered again
    h.configure(2, 100); // a different configuration of the same job: refused
    await tick();
    expect(h.up.filter((m) => m.type !== 'final')).toEqual([
      { type: 'ready', job: 2, k: 0 },
      { type: 'ready', job: 2, k: 0 },
      { type: 'refused', job: 2, k: 0, reason: 'configure: job 2 is already configured; a job is configured once' },
    ]);
    expect(h.up.filter((m) => m.type === 'report')).toEqual([]);
    h.control({ type: 'end', job: 2 });
    await tick();
    const final = h.up.find((m): m is FinalMsg => m.type === 'final')!;
    expect(final.counters).toMatchObject({ unauthenticated: 2, malformedControl: 3 });
    await h.host.close();
  });

  it('an own module whose code does not match its hash is refused with the reason, before any code runs', async () => {
    const h = harness();
    const code = 'export default () => { throw new Error("must never run"); };';
    h.peer.publish(
      h.subj.configure(0),
      h.sealer.seal(h.subj.configure(0), { type: 'configure', job: 3, k: 0, view: localView(h.inst, 0), algorithm: { name: 'module', module: { code, sha256: 'f'.repeat(64), label: 'evil' }, params: {} }, roundDeadlineMs: 100, policy: 'skip', fromRound: 0, clock: 'barrier' }),
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(h.up).toEqual([{ type: 'refused', job: 3, k: 0, reason: expect.stringMatching(/^module evil: code hash mismatch: expected f{64}, got [0-9a-f]{64}$/) }]);
    await h.host.close();
  });

  it('a copy that comes after its round closed and differs from the one used is a conflict (a forgery was used), not just late', async () => {
    const h = harness();
    h.configure(5, 5000);
    await tick();
    h.control({ type: 'round', job: 5, t: 0, gone: [] });
    h.broadcast(5, 0, 1, Float64Array.of(0.9)); // the forgery comes first and is used
    h.broadcast(5, 0, 2, Float64Array.of(0.4));
    await tick();
    expect(h.up.filter((m) => m.type === 'report')).toHaveLength(1); // round 0 closed on both neighbours
    h.broadcast(5, 0, 1, Float64Array.of(0.1)); // the genuine one, after the round closed
    h.broadcast(5, 0, 2, Float64Array.of(0.4)); // an exact late copy: a duplicate, harmless
    await tick();
    h.control({ type: 'end', job: 5 });
    await tick();
    const final = h.up.find((m): m is FinalMsg => m.type === 'final')!;
    expect(final.counters).toMatchObject({ conflicting: 1, duplicate: 2, late: 0 });
    expect(final.conflicts).toEqual([{ k: 0, from: 1, t: 0 }]);
    await h.host.close();
  });
});

describe('lastValueDecoder: one decode per delivery for all the agents of a host', () => {
  it('returns the value decoded for the same array, or for equal bytes, and decodes different bytes anew', () => {
    const decode = lastValueDecoder();
    const bytes = encode([1, 0, 2, Float64Array.of(0.5)]);
    const first = decode(bytes);
    expect(first).toEqual([1, 0, 2, Float64Array.of(0.5)]);
    expect(decode(bytes)).toBe(first); // the host hands one delivery to its agents as the same array
    expect(decode(bytes.slice())).toBe(first); // another copy of the same bytes
    const other = decode(encode([1, 0, 2, Float64Array.of(0.25)]));
    expect(other).toEqual([1, 0, 2, Float64Array.of(0.25)]);
    expect(decode(bytes)).toEqual(first); // back to the first bytes: decoded again, not the stale value
  });

  it('junk is decoded once for all the agents that hear it: the same error again, then good bytes decode', () => {
    let calls = 0;
    const decode = lastValueDecoder((b) => (calls++, decodeMsgpack(b)));
    const junk = Uint8Array.of(0xc1, 7);
    const errors = [0, 1, 2].map(() => {
      try {
        decode(junk);
      } catch (e) {
        return e;
      }
      return undefined;
    });
    expect(errors[0]).toBeInstanceOf(Error);
    expect(errors[1]).toBe(errors[0]);
    expect(errors[2]).toBe(errors[0]);
    expect(() => decode(junk.slice())).toThrow(errors[0] as Error); // equal bytes of another delivery
    expect(calls).toBe(1);
    expect(decode(encode([1, 0, 2, Float64Array.of(0.5)]))).toEqual([1, 0, 2, Float64Array.of(0.5)]);
    expect(calls).toBe(2);
  });
});
