import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  configureSchema,
  controlSchema,
  decode,
  HEARTBEAT_MS,
  parseControl,
  Sealer,
  specRef,
  subjects,
  zeroCounters,
  type Conflict,
  type ConfigureMsg,
  type ControlMsg,
  type Counters,
  type ProgressEntry,
  type RegisterMsg,
  type RoundEntry,
  type Subjects,
  type Transport,
  type UpMsg,
} from '@dmpemu/wire';
import { AlgorithmCache, loadModule } from '@dmpemu/dmp';
import { Agent } from './agent.ts';

/** Conflicts a host keeps per job to name in its final message (the count is complete). */
const MAX_CONFLICTS_LISTED = 20;

export interface AgentHostOptions {
  runId: string;
  /** The host's id (a subject token): its `reg.<host>` and `up.<host>` subjects. */
  host: string;
  ids: number[];
  /** The run secret (hex) shared with the coordinator: every control message is sealed with it. */
  secret: string;
  /**
   * Leave the run (`abandoned` resolves with the reason) when the coordinator, once heard, was
   * silent this long, and longer than it rides out a broker outage itself (its heartbeat on `ctl`
   * says how long). Default: never (launched hosts follow their parent process instead).
   */
  coordinatorTimeoutMs?: number;
  log?: (s: string) => void;
}

/**
 * An agent host: runs many agents in one process for scale. Each agent keeps its own local view,
 * state and subscriptions, and every message between agents goes through the broker. The host
 * shares the connection and the control plane among its agents: it opens and checks every
 * control message (seal, schema, job and round plan) before an agent sees it, counts what it
 * drops per job, and reports its agents' rounds to the coordinator in one message per round.
 */
export class AgentHost {
  readonly agents: Agent[];
  private readonly byId: Map<number, Agent>;
  readonly host: string;
  private readonly subj: Subjects;
  private readonly sealer: Sealer;
  private readonly subs: { unsubscribe(): void }[] = [];
  private registerTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private resolveStopped!: (reason: string) => void;
  /** Resolves with the coordinator's reason when it stops the run. */
  readonly stopped = new Promise<string>((r) => (this.resolveStopped = r));
  private resolveAbandoned!: (reason: string) => void;
  /** Resolves with the reason when the coordinator, once heard, was silent for coordinatorTimeoutMs (and its patience). */
  readonly abandoned = new Promise<string>((r) => (this.resolveAbandoned = r));
  /** The job the counters belong to, and its counters and conflicts. */
  private counterJob = -1;
  private counters: Counters = zeroCounters();
  private conflicts: Conflict[] = [];
  /** The last round started in the current job (barrier clock). */
  private lastRound = -1;
  /** The current job's clock, whether it started (local), the agents known gone, and the rounds finished but not yet sent (local). */
  private clock: 'barrier' | 'local' | 'async' = 'barrier';
  private started = false;
  private readonly gone = new Set<number>();
  private outbox: ProgressEntry[] = [];
  private flushing = false;
  /** async clock: ages of the broadcasts this host's agents used, in rounds (count by age). */
  private staleness: Record<string, number> = {};
  /** Rounds whose report is being collected: the agents expected and what they reported. */
  private readonly pending = new Map<number, { expected: Set<number>; entries: RoundEntry[] }>();
  private readonly log: (s: string) => void;
  /** The coordinator's last heartbeat: when it arrived (undefined: never yet: a coordinator that sends none is waited for), its number and the coordinator's patience with broker outages. */
  private heardAt: number | undefined;
  /** The current job's algorithm specs that came whole (with a checkpoint or module), by that one's hash: later configures name them by ref. */
  private readonly held = new Map<string, ConfigureMsg['algorithm']>();
  private aliveSeq = 0;
  /** This process's id and its last heartbeat's number (aliveSchema's boot and seq). */
  private readonly boot = randomBytes(8).toString('hex');
  private upSeq = 0;
  private patienceMs = 0;

  constructor(private readonly bus: Transport, o: AgentHostOptions) {
    this.subj = subjects(o.runId);
    this.host = o.host;
    this.sealer = new Sealer(o.secret);
    this.log = o.log ?? (() => {});
    const decodeData = lastValueDecoder();
    const events = {
      roundDone: (k: number, t: number, e: RoundEntry) => this.onRoundDone(k, t, e),
      failed: (k: number, t: number, reason: string) => this.onFailed(k, t, reason),
      conflict: (c: Conflict) => void (this.conflicts.length < MAX_CONFLICTS_LISTED && this.conflicts.push(c)),
    };
    const listen = (j: number, h: (data: Uint8Array) => void): { unsubscribe(): void } => this.listen(j, h);
    const algorithms = new AlgorithmCache();
    this.agents = o.ids.map((k) => new Agent(k, bus, this.subj, () => this.counters, events, decodeData, listen, algorithms));
    this.byId = new Map(this.agents.map((a) => [a.k, a]));
    for (const a of this.agents) this.subs.push(bus.subscribe(this.subj.configure(a.k), (d) => this.onConfigure(a, d)));
    this.subs.push(bus.subscribe(this.subj.control, (d) => this.onControl(d)));
    const register: RegisterMsg = { type: 'register', host: o.host, agents: o.ids, pid: process.pid, hostname: hostname() };
    const announce = (): void => bus.publish(this.subj.register(o.host), this.sealer.seal(this.subj.register(o.host), register));
    // Register now and again every second until configured: the coordinator may come up later.
    const repeat = (): void => {
      if (this.agents.every((a) => a.jobId !== undefined)) return;
      announce();
      this.registerTimer = setTimeout(repeat, 1000);
    };
    bus.flush().then(repeat, () => {});
    const timeout = o.coordinatorTimeoutMs;
    let tick = performance.now();
    this.heartbeat = setInterval(() => {
      this.up({ type: 'alive', boot: this.boot, seq: ++this.upSeq });
      // a late tick: this process itself stalled, and heartbeats may wait unread in its socket
      const now = performance.now(), late = now - tick > 2 * HEARTBEAT_MS;
      tick = now;
      if (timeout === undefined || this.heardAt === undefined || late) return;
      const limit = Math.max(timeout, this.patienceMs + 2 * HEARTBEAT_MS);
      if (now - this.heardAt > limit) this.resolveAbandoned(`the coordinator of run ${o.runId} was silent for ${Math.round(limit / 100) / 10} s (gone, or cut off from this host): leaving`);
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
    // After a broker outage, say again that we are here (a few times: the coordinator may
    // reconnect after us and miss the first); the coordinator waits for it.
    bus.onConnection((e) => {
      if (e === 'reconnect') for (let i = 0; i < 10; i++) setTimeout(announce, 300 * i).unref();
    });
  }

  /** One subscription per broadcast subject for the whole host, its deliveries handed to every agent listening (in the order they subscribed). */
  private readonly shared = new Map<number, { sub: { unsubscribe(): void }; handlers: Set<(data: Uint8Array) => void> }>();

  private listen(j: number, h: (data: Uint8Array) => void): { unsubscribe(): void } {
    let s = this.shared.get(j);
    if (!s) {
      const handlers = new Set<(data: Uint8Array) => void>();
      s = { sub: this.bus.subscribe(this.subj.broadcast(j), (d) => handlers.forEach((f) => f(d))), handlers };
      this.shared.set(j, s);
    }
    s.handlers.add(h);
    const entry = s;
    return {
      unsubscribe: () => {
        entry.handlers.delete(h);
        if (entry.handlers.size === 0 && this.shared.get(j) === entry) {
          entry.sub.unsubscribe();
          this.shared.delete(j);
        }
      },
    };
  }

  private up(msg: UpMsg): void {
    const s = this.subj.up(this.host);
    this.bus.publish(s, this.sealer.seal(s, msg));
  }

  /** Open a sealed control message; count and drop what is not one. */
  private open(subject: string, data: Uint8Array): unknown {
    const r = this.sealer.open(subject, data);
    if (r.ok) return r.value;
    if (r.reason === 'unauthenticated') this.counters.unauthenticated++;
    else this.counters.malformedControl++;
    return undefined;
  }

  private onConfigure(a: Agent, data: Uint8Array): void {
    const msg = this.open(this.subj.configure(a.k), data);
    if (msg === undefined) return;
    const r = parseControl(configureSchema, msg);
    if (!r.ok) {
      this.counters.malformedControl++;
      const job = (msg as { job?: unknown })?.job;
      if (Number.isInteger(job) && (job as number) >= 0) this.up({ type: 'refused', job: job as number, k: a.k, reason: `configure: ${r.reason}` });
      return;
    }
    let c = r.value as ConfigureMsg;
    if (c.job > this.counterJob) {
      this.counterJob = c.job;
      this.counters = zeroCounters();
      this.conflicts = [];
      this.lastRound = -1;
      this.pending.clear();
      this.clock = c.clock;
      this.started = false;
      this.gone.clear();
      this.outbox = [];
      this.staleness = {};
      this.held.clear();
    }
    const ref = c.algorithm.ref;
    if (ref !== undefined) {
      const whole = c.job === this.counterJob ? this.held.get(ref) : undefined;
      if (whole?.name !== c.algorithm.name) return this.up({ type: 'refused', job: c.job, k: a.k, reason: `configure: algorithm.ref ${ref.slice(0, 12)} names no ${c.algorithm.name} checkpoint or module this host was sent whole in job ${c.job}` });
      c = { ...c, algorithm: whole };
    }
    const configure = (): void => {
      const answer = a.configure(c, data);
      const whole = specRef(c.algorithm);
      if (answer.ok && whole && c.job === this.counterJob) this.held.set(whole, c.algorithm); // for this job's configures that name it by ref
      this.up(answer.ok ? { type: 'ready', job: c.job, k: a.k } : { type: 'refused', job: c.job, k: a.k, reason: answer.reason });
    };
    // an own algorithm's code is verified and loaded once per host (and hash) before any agent builds it
    if (c.algorithm.module) loadModule(c.algorithm.module).then(configure, (e: Error) => this.up({ type: 'refused', job: c.job, k: a.k, reason: e.message }));
    else configure();
  }

  private onControl(data: Uint8Array): void {
    const msg = this.open(this.subj.control, data);
    if (msg === undefined) return;
    const r = parseControl(controlSchema, msg);
    if (!r.ok) return void this.counters.malformedControl++;
    this.handle(r.value);
  }

  private handle(m: ControlMsg): void {
    if (m.type === 'alive') {
      if (m.seq <= this.aliveSeq) return void this.counters.duplicate++; // a replay does not make a gone coordinator heard
      this.aliveSeq = m.seq;
      this.patienceMs = m.patienceMs;
      this.heardAt = performance.now();
      return;
    }
    if (m.type === 'stop') {
      this.log(`stop: ${m.reason}`);
      return this.resolveStopped(m.reason);
    }
    if (m.job !== this.counterJob) {
      // a sealed message of another job: a delayed one (older) is late, anything else does not fit
      if (m.job < this.counterJob) this.counters.late++;
      else this.counters.malformedControl++;
      return;
    }
    if (m.type === 'end') return this.endJob(m.job);
    if (m.type === 'gone') {
      for (const j of m.agents) {
        this.gone.add(j);
        for (const a of this.agents) a.neighbourGone(m.job, j);
      }
      return;
    }
    if (m.type === 'start') {
      if (this.clock === 'barrier') return void this.counters.malformedControl++;
      if (this.started) return void this.counters.duplicate++;
      this.started = true;
      for (const j of m.gone) this.gone.add(j);
      if (this.clock === 'async') for (const a of this.agents) a.startAsync(m.job, this.staleness);
      else for (const a of this.agents) a.startRound(m.job, 0, [...this.gone]);
      return;
    }
    if (this.clock !== 'barrier') return void this.counters.malformedControl++;
    const rounds = Math.max(0, ...this.agents.map((a) => (a.jobId === m.job ? a.rounds : 0)));
    if (m.t >= rounds) return void this.counters.malformedControl++;
    if (m.t <= this.lastRound) return void this.counters.duplicate++; // announced again after an outage
    this.lastRound = m.t;
    const expected = new Set(this.agents.filter((a) => a.jobId === m.job && a.takesPart(m.t)).map((a) => a.k));
    if (expected.size > 0) this.pending.set(m.t, { expected, entries: [] });
    for (const a of this.agents) a.startRound(m.job, m.t, m.gone);
  }

  private onRoundDone(k: number, t: number, e: RoundEntry): void {
    if (this.clock === 'async') {
      this.outbox.push({ ...e, t });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => this.flushProgress());
      }
      return;
    }
    if (this.clock === 'local') {
      // stream the round (batched: one message per host per turn of the event loop) and go on at once
      this.outbox.push({ ...e, t });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => this.flushProgress());
      }
      const a = this.byId.get(k)!;
      const job = this.counterJob;
      if (a.takesPart(t + 1)) queueMicrotask(() => a.startRound(job, t + 1, this.gone));
      return;
    }
    const p = this.pending.get(t);
    if (!p || !p.expected.has(k)) return;
    p.entries.push(e);
    this.flush(t);
  }

  private onFailed(k: number, t: number, reason: string): void {
    this.log(`agent ${k} failed in round ${t}: ${reason}`);
    this.up({ type: 'failed', job: this.counterJob, k, t, reason });
    for (const [r, p] of this.pending) if (p.expected.delete(k)) this.flush(r);
  }

  /** Report round t once every expected agent is done with it. */
  private flush(t: number): void {
    const p = this.pending.get(t);
    if (!p || p.entries.length < p.expected.size) return;
    this.pending.delete(t);
    if (p.entries.length > 0) this.up({ type: 'report', job: this.counterJob, t, agents: p.entries });
  }

  private flushProgress(): void {
    this.flushing = false;
    if (this.outbox.length === 0) return;
    const entries = this.outbox;
    this.outbox = [];
    this.up({ type: 'progress', job: this.counterJob, entries });
  }

  private endJob(job: number): void {
    this.flushProgress();
    for (const a of this.agents) if (a.jobId === job) a.endJob();
    this.pending.clear();
    this.up({ type: 'final', job, counters: { ...this.counters }, conflicts: [...this.conflicts], ...(this.clock === 'async' ? { staleness: { ...this.staleness } } : {}) });
  }

  async close(): Promise<void> {
    clearTimeout(this.registerTimer);
    clearInterval(this.heartbeat);
    for (const a of this.agents) a.endJob();
    for (const s of this.subs) s.unsubscribe();
  }
}

/**
 * Decoder for the data plane of one host: a broadcast reaches every subscribing agent of the host
 * as its own delivery, one after the other; decoding the same bytes again returns the value just
 * decoded (read-only to agents), or throws the error just thrown, instead of decoding it once per
 * agent (junk costs a host one decode, not one per agent that hears the subject).
 */
export function lastValueDecoder(decodeBytes: (bytes: Uint8Array) => unknown = decode): (bytes: Uint8Array) => unknown {
  let last: Uint8Array | undefined;
  let outcome: { value: unknown } | { error: unknown } = { value: undefined };
  let lastSeen: Uint8Array | undefined;
  const give = (): unknown => {
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  };
  return (bytes) => {
    // the host hands one delivery to its agents as the same array: no need to compare the bytes
    if (bytes === lastSeen) return give();
    if (last && last.length === bytes.length && Buffer.compare(last, bytes) === 0) {
      lastSeen = bytes;
      return give();
    }
    last = lastSeen = undefined;
    try {
      outcome = { value: decodeBytes(bytes) };
    } catch (error) {
      outcome = { error };
    }
    last = bytes.slice();
    lastSeen = bytes;
    return give();
  };
}
