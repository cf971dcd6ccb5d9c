import { performance } from 'node:perf_hooks';
import { activation, AlgorithmCache, asyncUpdate, isAway, isLost, LocalChannel, refreshesAt, keepLatest, linkDelayMs, linkReceive, NodeRunner, pack, publishDelayMs, silentOutput, unpack, type AlgorithmSpec, type DeliveryFaults, type Latest } from '@dmpemu/dmp';
import { allFinite, encode, isAbsence, isBroadcast, type AbsenceMsg, type BroadcastMsg, type Conflict, type ConfigureMsg, type Counters, type RoundEntry, type Subjects, type Transport } from '@dmpemu/wire';

/**
 * Rounds ahead of its own that an agent keeps broadcasts for under the barrier clock; later ones
 * are dropped (`overflow`). Under the local and async clocks a neighbour that does not depend on
 * this agent may run through the whole plan ahead of it: every round of the plan is kept (at most
 * one broadcast of the algorithm's size per sender and round, so memory stays bounded by the plan).
 */
export const MAX_ROUNDS_AHEAD = 4;

/**
 * Rounds back an agent remembers the broadcast it used from each neighbour: a copy of one of those
 * that arrives late and differs is a conflict (a forgery that came first and was used), not just late.
 */
export const USED_WINDOW = 64;

/** What an agent tells its host. */
export interface AgentEvents {
  /** Round t is done (an update was made, on all neighbours or on the deadline). */
  roundDone(k: number, t: number, entry: RoundEntry): void;
  /** The algorithm threw: the agent takes no further part in the job. */
  failed(k: number, t: number, reason: string): void;
  /** Two different broadcasts of one neighbour for one round. */
  conflict(c: Conflict): void;
}

interface Job {
  config: ConfigureMsg;
  /** The configure message's bytes: a repeated one (a retry) is answered again, a different one refused. */
  bytes: Uint8Array;
  runner: NodeRunner<unknown>;
  rounds: number;
  faults?: DeliveryFaults;
  /** Round in progress or last done (-1: none yet). */
  t: number;
  open: boolean;
  timer?: NodeJS.Timeout;
  /** Broadcasts (or absence notices) of rounds not started here yet, by round then sender slot. */
  early: Map<number, Map<number, Early>>;
  bytesIn: number;
  bytesOut: number;
  /** When the current round started here (performance.now). */
  startedAt: number;
  failed: boolean;
  subs: { unsubscribe(): void }[];
  /** The broadcast used (barrier, local) or kept (async) from each slot in recent rounds: ring by t mod USED_WINDOW. */
  used: { t: Int32Array; b: (Float64Array | undefined)[][] };
  /** faults.channel: this agent's links, followed round by round. */
  channel?: LocalChannel;
  /** async clock: the latest broadcast per phase and slot, updates and activations so far, ages of the messages used. */
  async?: { latest: Latest; updates: number; activations: number; arrived: number };
}

/** A neighbour's message for a round not started here yet: its broadcast, whether it is lost, or (churn) that it is away. */
interface Early {
  b: Float64Array;
  lost: boolean;
  away?: boolean;
  /** Its bytes, counted in its own round's bytesIn (0 when lost: those count `lost`). */
  size: number;
}

/**
 * One agent k: knows only the local view the coordinator sent it, subscribes only to its
 * neighbours' broadcast subjects, and runs its node of the DMP algorithm. Per round: broadcast,
 * collect the neighbours' broadcasts until all arrived or the deadline, update, tell the host.
 * Every broadcast is checked before it is used: its sender must be the subject's agent, its job
 * this job, its round within the plan and at most MAX_ROUNDS_AHEAD ahead, its vector of the
 * algorithm's size with finite entries, and only the first copy per sender and round counts.
 * Nothing the algorithm throws escapes: the agent fails (reported, with the reason) and its host
 * lives on.
 */
export class Agent {
  private job: Job | undefined;

  constructor(
    readonly k: number,
    private readonly bus: Transport,
    private readonly subj: Subjects,
    /** The host's counters of the current job (shared by its agents). */
    private readonly counters: () => Counters,
    private readonly events: AgentEvents,
    private readonly decodeData: (bytes: Uint8Array) => unknown,
    /** Hear neighbour j's broadcast subject (the host shares one subscription per subject among its agents). */
    private readonly listen: (j: number, handler: (data: Uint8Array) => void) => { unsubscribe(): void } = (j, h) => bus.subscribe(subj.broadcast(j), h),
    /** Where the algorithm comes from (a host shares one cache among its agents: one instance per spec). */
    private readonly algorithms: AlgorithmCache = new AlgorithmCache(),
  ) {}

  /** The job this agent is configured for, if any. */
  get jobId(): number | undefined {
    return this.job?.config.job;
  }

  /** Whether the agent takes part in round t of its job (configured, not failed, joined). */
  takesPart(t: number): boolean {
    const j = this.job;
    return !!j && !j.failed && t >= j.config.fromRound && t < j.rounds;
  }

  get rounds(): number {
    return this.job?.rounds ?? 0;
  }

  /**
   * A configure message for this agent (sealed and schema-checked by the host). A new job replaces
   * the old one; the same message again (a retry) is answered `ready` again; a different one for
   * the job it already has is refused. Returns the answer.
   */
  configure(c: ConfigureMsg, bytes: Uint8Array): { ok: true } | { ok: false; reason: string } {
    if (c.k !== this.k || c.view.k !== this.k) return { ok: false, reason: `configure: addressed to agent ${this.k}, but the message is for agent ${c.k} with the view of agent ${c.view.k}` };
    const cur = this.job;
    if (cur && cur.config.job === c.job) {
      if (sameBytes(cur.bytes, bytes) && cur.t < 0) return { ok: true };
      return { ok: false, reason: `configure: job ${c.job} is already configured${cur.t >= 0 ? ` and running (round ${cur.t})` : ''}; a job is configured once` };
    }
    if (cur && c.job < cur.config.job) return { ok: false, reason: `configure: job ${c.job} is older than the current job ${cur.config.job}` };
    let runner: NodeRunner<unknown>;
    try {
      runner = new NodeRunner(this.algorithms.build(c.algorithm as AlgorithmSpec, c.view.Nt, c.view), c.view, c.policy);
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    }
    const ch = c.channel;
    if (ch && (ch.scales.in.length !== c.view.neighbours.length || ch.scales.out.length !== c.view.neighbours.length))
      return { ok: false, reason: `configure: channel.scales has ${ch.scales.in.length} incoming and ${ch.scales.out.length} outgoing links for ${c.view.neighbours.length} neighbours` };
    if (ch && c.clock === 'async') return { ok: false, reason: 'configure: a time-varying channel needs rounds: the barrier or local clock, not async' };
    this.endJob();
    if (c.clock === 'async' && !c.async) return { ok: false, reason: 'configure: the async clock needs its schedule (async: periodMs, jitter, activation, seed)' };
    const slots = c.view.neighbours.length;
    const used = { t: new Int32Array(USED_WINDOW).fill(-1), b: Array.from({ length: USED_WINDOW }, () => new Array<Float64Array | undefined>(slots)) };
    const job: Job = { config: c, bytes: bytes.slice(), runner, rounds: runner.alg.rounds, faults: c.faults, t: -1, open: false, early: new Map(), bytesIn: 0, bytesOut: 0, startedAt: 0, failed: false, subs: [], used };
    if (ch) job.channel = new LocalChannel(c.view, ch, ch.scales);
    if (c.clock === 'async') job.async = { latest: Array.from({ length: runner.alg.period }, () => new Array(c.view.neighbours.length)), updates: 0, activations: 0, arrived: 0 };
    this.job = job;
    for (const j of c.view.neighbours) job.subs.push(this.listen(j, (d) => this.onBroadcast(job, j, d)));
    return { ok: true };
  }

  /**
   * Round t of the job starts: if round t' < t is still open (this host fell behind: load, a frozen
   * process), it is closed first as on its deadline, so its state, inbox and timer never leak into
   * round t. Then publish this agent's broadcast and wait for the neighbours'.
   */
  startRound(job: number, t: number, gone: Iterable<number>): void {
    const j = this.job;
    if (!j || j.config.job !== job || j.failed || t <= j.t || !this.takesPart(t)) return;
    if (j.open) this.finish(j, true);
    if (j.failed) return;
    const c = this.counters();
    for (const [r, m] of j.early) {
      if (r >= t) continue;
      c.late += m.size;
      j.early.delete(r);
    }
    j.runner.setGone(gone);
    j.t = t;
    try {
      if (refreshesAt(j.config.channel, t)) j.runner.refresh(t, j.channel!.viewAt(t)); // measured at the round's start
    } catch (e) {
      return this.fail(j, t, e);
    }
    if (isAway(j.config.churn, t)) return this.awayRound(j, t);
    if (j.config.churn?.joinRound === t) j.runner.rejoin();
    j.open = true;
    j.bytesIn = 0;
    j.startedAt = performance.now();
    if (!this.publishRound(j, t)) return;
    const early = j.early.get(t);
    j.early.delete(t);
    if (early)
      for (const [i, e] of [...early].sort((x, y) => x[0] - y[0])) {
        j.bytesIn += e.size;
        if (!this.use(j, i, e.b, e.lost, e.away)) return;
      }
    if (j.runner.complete()) this.finish(j, false);
    else j.timer = setTimeout(() => this.finish(j, true), j.config.roundDeadlineMs);
  }

  private onBroadcast(j: Job, sender: number, data: Uint8Array): void {
    if (this.job !== j || j.failed) return;
    const c = this.counters();
    let m: unknown;
    try {
      m = this.decodeData(data);
    } catch {
      c.malformedData++;
      return;
    }
    const q = j.faults?.quantization;
    const absent = isAbsence(m);
    if (!(absent || isBroadcast(m, !!q))) return void c.malformedData++;
    const msg = m as AbsenceMsg | BroadcastMsg;
    if (msg[2] !== sender) return void c.malformedData++;
    const [job, t] = msg;
    if (job !== j.config.job) {
      if (job < j.config.job) c.late++;
      else c.malformedData++;
      return;
    }
    if (t >= j.rounds) return void c.malformedData++;
    if (isAway(j.config.churn, t)) return; // this agent's radio is off in round t: it hears nothing
    const slot = j.runner.slot(sender); // a neighbour: only their subjects are heard
    if (!j.runner.listensAt(t, slot)) return; // node types: a neighbour this node does not aggregate in round t
    if (absent) return this.onAbsence(j, t, sender);
    // quantised: bit-packed codes of the expected length, read back as the in-process executor does
    const size = j.runner.broadcastSizeOf(slot, t);
    const b = q ? unpack(q, msg[3] as Uint8Array, size) : (msg[3] as Float64Array);
    if (!b || b.length !== size || !allFinite(b)) return void c.malformedData++;
    // bit errors and noise on the control channel: what this receiver reads (undefined: undecodable, lost)
    const seen = linkReceive(j.faults, t, sender, this.k, b, q ? (msg[3] as Uint8Array) : undefined);
    if (j.async) return this.acceptLatest(j, t, sender, seen, data.length);
    if (t < j.t || (t === j.t && !j.open)) return this.late(j, t, sender, seen ?? b); // compared with what was used: the copy as read
    if (j.config.clock === 'barrier' && t > Math.max(j.t, 0) + MAX_ROUNDS_AHEAD) return void c.overflow++;
    // messageLoss is emulated here, on arrival: the agent then knows the message is missing and
    // need not wait for the deadline (the aggregate is the same as after a real loss).
    const lost = isLost(j.faults, t, sender, this.k) || !seen;
    const delay = lost ? 0 : linkDelayMs(j.faults, t, sender, this.k, j.config.linkKm?.[slot]);
    if (delay > 0) setTimeout(() => this.accept(j, t, sender, slot, seen ?? b, data.length, false), delay);
    else this.accept(j, t, sender, slot, seen ?? b, data.length, lost);
  }

  /**
   * churn: neighbour `sender` is away in round t (its absence notice; no link fault acts on it:
   * it stands for silence). Kept for a later round, applied to the current one, or late.
   */
  private onAbsence(j: Job, t: number, sender: number): void {
    const c = this.counters();
    if (j.async) return void c.malformedData++; // churn needs rounds: barrier or local clock
    if (t < j.t || (t === j.t && !j.open)) return void c.late++;
    if (j.config.clock === 'barrier' && t > Math.max(j.t, 0) + MAX_ROUNDS_AHEAD) return void c.overflow++;
    const i = j.runner.slot(sender);
    if (t > j.t) {
      const round = j.early.get(t) ?? new Map<number, Early>();
      const prior = round.get(i);
      if (prior) return prior.away ? void c.duplicate++ : this.conflict(j, t, sender);
      round.set(i, { b: NO_BROADCAST, lost: false, away: true, size: 0 });
      j.early.set(t, round);
      return;
    }
    if (j.runner.isAway(i) || j.runner.isSkipped(i)) return void c.duplicate++;
    if (j.runner.stored(i) !== undefined) return this.conflict(j, t, sender);
    if (this.use(j, i, NO_BROADCAST, false, true) && j.runner.complete()) this.finish(j, false);
  }

  /** churn: round t with this agent away: publish the absence notice and report p = 0 at once. */
  private awayRound(j: Job, t: number): void {
    j.early.delete(t);
    const out = encode([j.config.job, t, this.k, null] satisfies AbsenceMsg);
    j.bytesOut = out.length;
    this.bus.publish(this.subj.broadcast(this.k), out);
    this.events.roundDone(this.k, t, { k: this.k, output: silentOutput(j.config.view.Nt), received: 0, missing: 0, bytesOut: out.length, bytesIn: 0, timedOut: false, ms: 0 });
  }

  /** A checked broadcast of this job from neighbour `sender` (slot i) reaches the agent: use it now, keep it for its round, or drop it. */
  private accept(j: Job, t: number, sender: number, i: number, b: Float64Array, size: number, lost: boolean): void {
    if (this.job !== j || j.failed) return;
    const c = this.counters();
    if (t < j.t || (t === j.t && !j.open)) return this.late(j, t, sender, b);
    if (t > j.t) {
      const round = j.early.get(t) ?? new Map<number, Early>();
      const prior = round.get(i);
      if (prior) return prior.away ? this.conflict(j, t, sender) : this.duplicate(j, t, sender, prior.b, b);
      round.set(i, { b, lost, size: lost ? 0 : size });
      j.early.set(t, round);
      if (lost) c.lost++;
      return;
    }
    const prior = j.runner.stored(i);
    if (prior !== undefined) return this.duplicate(j, t, sender, prior, b);
    if (j.runner.isSkipped(i)) return void c.duplicate++;
    if (j.runner.isAway(i)) return this.conflict(j, t, sender);
    if (lost) c.lost++;
    else j.bytesIn += size;
    if (this.use(j, i, b, lost) && j.runner.complete()) this.finish(j, false);
  }

  /** async clock: keep the newest broadcast of each neighbour per phase (loss and delay as for rounds). */
  private acceptLatest(j: Job, t: number, sender: number, b: Float64Array | undefined, size: number): void {
    const c = this.counters();
    if (isLost(j.faults, t, sender, this.k) || !b) return void c.lost++;
    const keep = (): void => {
      if (this.job !== j || j.failed) return;
      const slot = j.runner.slot(sender);
      const w = t % USED_WINDOW;
      const seen = j.used.t[w] === t ? j.used.b[w][slot] : undefined;
      if (seen) return this.duplicate(j, t, sender, seen, b);
      this.remember(j, t, slot, b);
      if (!keepLatest(j.async!.latest, slot, t, b)) return void c.late++;
      j.async!.arrived++;
      j.bytesIn += size;
    };
    const delay = linkDelayMs(j.faults, t, sender, this.k, j.config.linkKm?.[j.runner.slot(sender)]);
    if (delay > 0) setTimeout(keep, delay);
    else keep();
  }

  /** async clock: the job starts: broadcast round 0's message, then activate on this agent's own schedule. */
  startAsync(job: number, staleness: Record<string, number>): void {
    const j = this.job;
    if (!j || !j.async || j.config.job !== job || j.async.activations > 0 || j.t >= 0) return;
    j.t = 0;
    if (!this.publishRound(j, 0)) return;
    const tick = (): void => {
      if (this.job !== j || j.failed) return;
      const a = j.async!;
      const i = a.activations++;
      if (activation(j.config.async!, this.k, i).updates) {
        const r = a.updates;
        const t0 = performance.now();
        try {
          const { missing } = asyncUpdate(j.runner, a.latest, r, staleness);
          const out = j.runner.output();
          a.updates = r + 1;
          // received: the broadcasts that arrived since the previous update (their bytes are bytesIn)
          this.events.roundDone(this.k, r, { k: this.k, output: out, received: a.arrived, missing, bytesOut: j.bytesOut, bytesIn: j.bytesIn, timedOut: false, ms: performance.now() - t0 });
          j.bytesIn = 0;
          a.arrived = 0;
        } catch (e) {
          return this.fail(j, r, e);
        }
        if (a.updates >= j.rounds) return;
        j.t = a.updates;
        if (!this.publishRound(j, a.updates)) return;
      }
      j.timer = setTimeout(tick, activation(j.config.async!, this.k, i + 1).afterMs);
    };
    j.timer = setTimeout(tick, activation(j.config.async!, this.k, 0).afterMs);
  }

  /** Publish this agent's broadcast of round t (a straggler holds it back); false if the algorithm failed. */
  private publishRound(j: Job, t: number): boolean {
    let b: Float64Array;
    try {
      b = j.runner.broadcast(t);
    } catch (e) {
      this.fail(j, t, e);
      return false;
    }
    const q = j.faults?.quantization;
    const out = encode([j.config.job, t, this.k, q ? pack(q, b) : b] satisfies BroadcastMsg);
    j.bytesOut = out.length;
    const straggle = publishDelayMs(j.faults, this.k);
    if (straggle > 0) setTimeout(() => this.job === j && this.bus.publish(this.subj.broadcast(this.k), out), straggle);
    else this.bus.publish(this.subj.broadcast(this.k), out);
    return true;
  }

  private duplicate(j: Job, t: number, from: number, first: Float64Array, again: Float64Array): void {
    if (!sameValues(first, again)) return this.conflict(j, t, from);
    this.counters().duplicate++;
  }

  /** Two different messages of one neighbour for one round (two broadcasts, or a broadcast and an absence notice). */
  private conflict(j: Job, t: number, from: number): void {
    const c = this.counters();
    c.duplicate++;
    c.conflicting++;
    this.events.conflict({ k: this.k, from, t });
    void j;
  }

  /** A broadcast of a round already closed: late, or a conflict when it differs from the one used then. */
  private late(j: Job, t: number, sender: number, b: Float64Array): void {
    const w = t % USED_WINDOW;
    const prior = j.used.t[w] === t ? j.used.b[w][j.runner.slot(sender)] : undefined;
    if (prior) return this.duplicate(j, t, sender, prior, b);
    this.counters().late++;
  }

  /** Remember what slot i sent for round t (what the node uses, or the async clock keeps). */
  private remember(j: Job, t: number, slot: number, b: Float64Array): void {
    const w = t % USED_WINDOW;
    if (j.used.t[w] !== t) {
      j.used.t[w] = t;
      j.used.b[w].fill(undefined);
    }
    j.used.b[w][slot] = b;
  }

  /** Hand a broadcast of the current round to the node (or tell it the message is lost, or its sender away). False if the agent failed. */
  private use(j: Job, slot: number, b: Float64Array, lost: boolean, away = false): boolean {
    try {
      if (away) j.runner.awaySlot(slot);
      else if (lost) j.runner.skipSlot(slot);
      else {
        j.runner.receiveSlot(slot, b);
        this.remember(j, j.t, slot, b);
      }
      return true;
    } catch (e) {
      this.fail(j, j.t, e);
      return false;
    }
  }

  private finish(j: Job, timedOut: boolean): void {
    if (this.job !== j || !j.open || j.failed) return;
    clearTimeout(j.timer);
    j.open = false;
    let entry: RoundEntry;
    try {
      const outcome = j.runner.update(j.t);
      entry = { k: this.k, output: j.runner.output(), received: outcome.received, missing: outcome.missing, bytesOut: j.bytesOut, bytesIn: j.bytesIn, timedOut, ms: performance.now() - j.startedAt };
    } catch (e) {
      return this.fail(j, j.t, e);
    }
    this.events.roundDone(this.k, j.t, entry);
  }

  private fail(j: Job, t: number, e: unknown): void {
    clearTimeout(j.timer);
    j.open = false;
    j.failed = true;
    this.events.failed(this.k, t, `${j.runner.alg.name}: ${firstLine(e)}`);
  }

  /** Neighbour j died (local and async clocks say so mid-round): stop waiting for it. */
  neighbourGone(job: number, j: number): void {
    const jb = this.job;
    if (!jb || jb.config.job !== job || jb.failed) return;
    jb.runner.markGone(j);
    if (jb.open && jb.runner.complete()) this.finish(jb, false);
  }

  /** Leave the current job: timers stopped, broadcast subscriptions dropped. */
  endJob(): void {
    const j = this.job;
    if (!j) return;
    clearTimeout(j.timer);
    j.open = false;
    for (const s of j.subs) s.unsubscribe();
    this.job = undefined;
  }
}

/** Stands in for the broadcast of a neighbour that is away (never read). */
const NO_BROADCAST = new Float64Array(0);

function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0];
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameValues(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
