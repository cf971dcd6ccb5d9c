import { connect, type NatsConnection } from '@nats-io/transport-node';
import { describe, expect, inject, it } from 'vitest';
import { runInProcess } from '@dmpemu/dmp';
import { subjects } from '@dmpemu/wire';
import { rayleighInstance, Rng } from '@dmpemu/wireless';
import { Coordinator } from '../coordinator/src/run/coordinator.ts';

/**
 * A fuzzer on the run's broker: it sees every message of the run (`dmpemu.v5.<run>.>`) and
 * publishes, in batches, random bytes on every subject of the run and copies of what it saw:
 * exact replays, and replays with flipped bits, cut short, lengthened or moved to another subject.
 * `mutateBroadcasts` decides whether broadcasts (the unsealed data plane) are mutated too.
 * Its connection must be opened with `noEcho`: otherwise it sees its own publications, and a
 * broadcast it moved to another subject comes back as a non-broadcast, is mutated, and may be
 * moved back onto a broadcast subject, so "without mutated broadcasts" would still send some.
 * `mutatedOnBroadcastSubjects` counts exactly that (a mutated copy published on a `b.*` subject).
 */
class Fuzzer {
  sent = 0;
  mutatedOnBroadcastSubjects = 0;
  private readonly mutated = new Set<string>();
  private seen: { subject: string; data: Uint8Array; broadcast: boolean }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly rng = new Rng(77);

  constructor(private readonly nc: NatsConnection, private readonly runId: string, private readonly K: number, private readonly mutateBroadcasts: boolean) {
    const s = subjects(runId);
    nc.subscribe(`${s.base}.>`, {
      callback: (_e, m) => {
        if (this.seen.length < 2000) this.seen.push({ subject: m.subject, data: m.data.slice(), broadcast: m.subject.includes('.b.') });
        else this.seen[this.rng.int(2000)] = { subject: m.subject, data: m.data.slice(), broadcast: m.subject.includes('.b.') };
      },
    });
  }

  private subject(): string {
    const s = subjects(this.runId);
    const k = this.rng.int(this.K);
    const all = [s.control, s.configure(k), s.broadcast(k), s.up('h0'), s.up('h1'), s.register('h0'), s.register('h7'), `${s.base}.x`];
    return all[this.rng.int(all.length)];
  }

  private junk(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.rng.int(256));
  }

  private copy(subject: string, data: Uint8Array): void {
    if (subject.includes('.b.') && this.mutated.has(Buffer.from(data).toString('base64'))) this.mutatedOnBroadcastSubjects++;
    this.nc.publish(subject, data);
  }

  /** Publishes a mutated copy of `original` (bit flips may cancel out: then it is a replay). */
  private mutation(subject: string, data: Uint8Array, original: Uint8Array): void {
    if (!Buffer.from(data).equals(Buffer.from(original))) this.mutated.add(Buffer.from(data).toString('base64'));
    this.copy(subject, data);
  }

  private one(): void {
    const r = this.rng.uniform();
    const pick = this.seen.length ? this.seen[this.rng.int(this.seen.length)] : undefined;
    if (!pick || r < 0.3) return this.nc.publish(this.subject(), this.junk(this.rng.int(200)));
    if (r < 0.45) return this.copy(pick.subject, pick.data); // an exact replay
    if (r < 0.55) return this.copy(this.subject(), pick.data); // moved to another subject
    if (pick.broadcast && !this.mutateBroadcasts) return this.copy(pick.subject, pick.data);
    const d = pick.data.slice();
    const how = this.rng.int(3);
    if (how === 0) for (let i = 0; i < 1 + this.rng.int(4); i++) d[this.rng.int(d.length)] ^= 1 << this.rng.int(8);
    if (how === 1) return this.mutation(pick.subject, d.subarray(0, this.rng.int(d.length)), pick.data);
    if (how === 2) return this.mutation(pick.subject, Uint8Array.from([...d, ...this.junk(1 + this.rng.int(8))]), pick.data);
    this.mutation(pick.subject, d, pick.data);
  }

  /** Publishes `total` messages, `perBatch` every `everyMs`, then stops. */
  start(total: number, perBatch = 200, everyMs = 5): void {
    this.timer = setInterval(() => {
      for (let i = 0; i < perBatch; i++) this.one();
      this.sent += perBatch;
      if (this.sent >= total) this.stop();
    }, everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

describe('fuzzing every subject of a run', () => {
  for (const mutateBroadcasts of [false, true]) {
    it(`${mutateBroadcasts ? 'with' : 'without'} mutated broadcasts: 10^5 random and mutated messages; every job equals the fault-free run${mutateBroadcasts ? ' or fails with a reason' : ''}`, async () => {
      const K = 8;
      const inst = rayleighInstance(new Rng(41), { K, snrDb: 10 });
      const spec = { name: 'wmmse-dmp', iterations: 30 };
      const ref = runInProcess(inst, spec).history;
      const co = await Coordinator.start({ broker: inject('natsUrl') });
      const nc = await connect({ servers: inject('natsUrl'), noEcho: true });
      const fuzz = new Fuzzer(nc, co.runId, K, mutateBroadcasts);
      const outcomes = { equal: 0, failed: [] as string[] };
      try {
        await co.launch(K, 4);
        await nc.flush();
        fuzz.start(100_000);
        const deadline = Date.now() + 45_000;
        while (fuzz.sent < 100_000 && Date.now() < deadline) {
          try {
            const r = await co.runJob(inst, spec, { roundDeadlineMs: 10_000, policy: 'skip' });
            expect(r.rounds.map((x) => x.objective)).toEqual(ref);
            outcomes.equal++;
          } catch (e) {
            outcomes.failed.push((e as Error).message);
          }
        }
        fuzz.stop();
        expect(fuzz.sent).toBeGreaterThanOrEqual(100_000);
        if (mutateBroadcasts) {
          for (const reason of outcomes.failed) expect(reason).toMatch(/conflicting duplicate message\(s\), forged traffic on the broker/);
        } else {
          expect(fuzz.mutatedOnBroadcastSubjects).toBe(0);
          expect(outcomes.failed).toEqual([]);
        }
        expect(outcomes.equal + outcomes.failed.length).toBeGreaterThanOrEqual(1);
        console.log(`fuzz ${mutateBroadcasts ? 'with' : 'without'} mutated broadcasts: ${fuzz.sent} messages during ${outcomes.equal} equal and ${outcomes.failed.length} failed job(s)`);
        // and the run goes on afterwards: a quiet job equals the reference
        await nc.flush();
        const quiet = await co.runJob(inst, spec, { roundDeadlineMs: 10_000, policy: 'skip' });
        expect(quiet.rounds.map((x) => x.objective)).toEqual(ref);
      } finally {
        fuzz.stop();
        await nc.close();
        await co.shutdown();
      }
    }, 90_000);
  }
});
