import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { createAlgorithm, toDecision, type AlgorithmSpec, type DeliveryFaults, type MissingPolicy } from '@dmpemu/dmp';
import { AgentHost } from '@dmpemu/agents';
import { localViews, objective, type Instance, type LocalView } from '@dmpemu/wireless';
import {
  decode,
  decodeControl,
  encode,
  MemoryBus,
  MemoryTransport,
  NatsTransport,
  parseControl,
  readySchema,
  refusedSchema,
  registerSchema,
  reportSchema,
  subjects,
  type ConfigureMsg,
  type ReportMsg,
  type RoundMsg,
  type Subjects,
  type Transport,
} from '@dmpemu/wire';
import { Launcher, partition, type HostProcess } from './launcher.ts';
import { findNatsServer, NatsServer } from './natsServer.ts';

/** What the coordinator records for every round of a job. */
export interface RoundRecord {
  t: number;
  /** True weighted sum rate of the current decisions (full channel knowledge). */
  objective: number;
  /** Data-plane deliveries and bytes received by agents in this round. */
  messages: number;
  bytes: number;
  /** From round start to the last report (or the deadline). */
  latencyMs: number;
  /** Agents that reported / were expected (live at round start). */
  reported: number;
  expected: number;
  /** Agents whose round closed on the deadline with neighbour messages missing. */
  timedOut: number;
  /** Neighbour messages missing in aggregates, summed over agents. */
  missing: number;
}

export interface AgentDeath {
  k: number;
  job: number;
  /** Round in progress when the death was noticed (-1: before the first round). */
  round: number;
  cause: string;
}

export interface JobResult {
  job: number;
  rounds: RoundRecord[];
  outputs: Float64Array[];
  deaths: AgentDeath[];
  events: InjectedEvent[];
  /** Deliveries dropped by the messageLoss fault, summed over agents. */
  lost: number;
  /** Messages agents dropped as malformed and as late, summed over agents (lifetime counters). */
  malformed: number;
  late: number;
}

/** Where agents and coordinator meet: a NATS server (ours or given), or the in-process bus. */
export type Broker = { kind: 'nats'; url: string; server?: NatsServer } | { kind: 'memory'; bus: MemoryBus };

/**
 * The embedded default: the given URL; else a nats-server of our own on a free loopback port if
 * the binary exists; else, said in one line, the in-process bus.
 */
export async function openBroker(url: string | undefined, log: (s: string) => void = () => {}, bin: string | null = findNatsServer() ?? null): Promise<Broker> {
  if (url) return { kind: 'nats', url };
  if (!bin) {
    log('nats-server not found (PATH, /usr/sbin): using the in-process bus; agents run inside the coordinator process');
    return { kind: 'memory', bus: new MemoryBus() };
  }
  const server = await NatsServer.start(bin);
  log(`started nats-server at ${server.url}`);
  return { kind: 'nats', url: server.url, server };
}

export async function closeBroker(b: Broker): Promise<void> {
  if (b.kind === 'nats') await b.server?.dispose();
}

export interface CoordinatorOptions {
  /** A NATS URL, or a broker from openBroker. */
  broker: Broker | string;
  runId?: string;
  log?: (s: string) => void;
  /** Seconds to wait for all agents to register. */
  registerTimeoutS?: number;
  /** When aborted, a running job stops after its current round with an error naming the reason. */
  signal?: AbortSignal;
}

/** An agent process killed at the start of `round`; with `restart`, a new one rejoins later. */
export interface CrashFault {
  agent: number;
  round: number;
  restart: boolean;
}

/** The embedded nats-server stopped at the start of `round` and started again `downMs` later. */
export interface BrokerRestartFault {
  round: number;
  downMs: number;
}

export interface JobOptions {
  roundDeadlineMs: number;
  policy: MissingPolicy;
  onRound?: (r: RoundRecord) => void;
  /** Local views to ship (default: the instance's; CSI faults alter them). */
  views?: LocalView[];
  /** Loss, delay and stragglers, applied by the agents. */
  faults?: DeliveryFaults;
  crashes?: CrashFault[];
  brokerRestarts?: BrokerRestartFault[];
}

/** What the coordinator did to the run (faults it injected), with when. */
export interface InjectedEvent {
  round: number;
  event: 'crash' | 'rejoin' | 'broker-stop' | 'broker-start';
  agent?: number;
  detail?: string;
}

/**
 * The round scheduler. Owns the transport (and the embedded nats-server, if it started one), the
 * agent processes, and the job loop: configure every agent with its local view, then per round
 * announce, collect the reports until all live agents answered or the deadline passed, and
 * evaluate the decisions on the true channel.
 */
export class Coordinator {
  readonly runId: string;
  readonly subj: Subjects;
  private readonly registered = new Map<number, { pid: number; host: string }>();
  private readonly dead = new Map<number, string>();
  private readonly deaths: AgentDeath[] = [];
  private readonly launcher: Launcher;
  private readonly memoryHosts: AgentHost[] = [];
  private readonly subs: { unsubscribe(): void }[] = [];
  private job = 0;
  private stopping = false;
  private current: { job: number; t: number; reports: Map<number, ReportMsg>; wake: (reported?: number) => void } | undefined;
  /** The job and round in progress (round -1: between jobs), for the records of deaths. */
  private now = { job: 0, t: -1 };
  private onRegister: (() => void) | undefined;
  private readonly log: (s: string) => void;
  private readonly signal: AbortSignal | undefined;

  private constructor(readonly bus: Transport, readonly natsUrl: string | undefined, private readonly server: NatsServer | undefined, o: CoordinatorOptions) {
    this.runId = o.runId ?? `run-${randomBytes(4).toString('hex')}`;
    this.subj = subjects(this.runId);
    this.log = o.log ?? (() => {});
    this.signal = o.signal;
    this.launcher = new Launcher((h) => this.onHostExit(h));
    this.subs.push(bus.subscribe(this.subj.register, (d) => this.onRegisterMsg(d)));
    this.subs.push(bus.subscribe(this.subj.report, (d) => this.onReport(d)));
  }

  /** Connect to the broker (the error names the URL when it is unreachable). */
  static async start(o: CoordinatorOptions): Promise<Coordinator> {
    const b: Broker = typeof o.broker === 'string' ? { kind: 'nats', url: o.broker } : o.broker;
    if (b.kind === 'memory') return new Coordinator(new MemoryTransport(b.bus), undefined, undefined, o);
    return new Coordinator(await NatsTransport.connect(b.url, 'dmpemu-coordinator'), b.url, b.server, o);
  }

  get transportKind(): string {
    return this.bus.kind;
  }

  /**
   * Launch K agents in hosts of `perProcess` agents each and wait until all registered. Agents in
   * `isolate` (crash targets) get a process of their own.
   */
  async launch(K: number, perProcess: number, timeoutS = 60, isolate: number[] = []): Promise<void> {
    const groups = partition(K, perProcess, isolate);
    if (this.bus instanceof MemoryTransport) {
      for (const ids of groups) this.memoryHosts.push(new AgentHost(new MemoryTransport(this.bus.bus), this.runId, ids));
    } else {
      for (const ids of groups) this.launcher.spawnHost(this.natsUrl!, this.runId, ids);
    }
    await this.waitRegistered(K, timeoutS);
  }

  /** Wait until agents 0..K-1 registered (agents may also be started by hand on other machines). */
  async waitRegistered(K: number, timeoutS: number): Promise<void> {
    await this.waitFor(Array.from({ length: K }, (_, k) => k), timeoutS);
  }

  /** Wait until the given agents (re-)registered, or died (unless `evenDead`: a relaunched agent). */
  private async waitFor(ids: number[], timeoutS: number, evenDead = false): Promise<void> {
    const missing = (): number[] => ids.filter((k) => !this.registered.has(k) && (evenDead || !this.dead.has(k)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.onRegister = undefined;
        const m = missing();
        reject(new Error(`${m.length} agent(s) did not register within ${timeoutS} s: ${m.slice(0, 10).join(', ')}${m.length > 10 ? ', ...' : ''}`));
      }, timeoutS * 1000);
      this.onRegister = () => {
        if (missing().length === 0) {
          clearTimeout(timer);
          this.onRegister = undefined;
          resolve();
        }
      };
      this.onRegister();
    });
  }

  private onRegisterMsg(data: Uint8Array): void {
    const r = decodeControl(registerSchema, data);
    if (!r) return;
    for (const k of r.agents) this.registered.set(k, { pid: r.pid, host: r.host });
    this.onRegister?.();
  }

  private onHostExit(h: HostProcess): void {
    if (this.stopping) return;
    const cause = h.exit?.signal ? `process killed by ${h.exit.signal}` : `process exited with code ${h.exit?.code}`;
    for (const k of h.ids) this.markDead(k, cause + (h.stderr ? `: ${h.stderr.trim().split('\n').at(-1)}` : ''));
  }

  /** Record agent k as dead (reported in the job result); its neighbours stop waiting for it. */
  markDead(k: number, cause: string): void {
    if (this.dead.has(k)) return;
    this.dead.set(k, cause);
    const c = this.current;
    const { job, t } = this.now;
    this.deaths.push({ k, job, round: t, cause });
    this.log(`agent ${k} died${t >= 0 ? ` in round ${t} of job ${job}` : ''}: ${cause}`);
    if (c && !c.reports.has(k)) c.wake(k);
  }

  private onReport(data: Uint8Array): void {
    const r = decodeControl(reportSchema, data);
    const c = this.current;
    if (!r || !c || r.job !== c.job || r.t !== c.t) return;
    if (c.reports.has(r.k)) return;
    c.reports.set(r.k, r);
    c.wake(r.k);
  }

  /** Run one algorithm on one instance over the agents; they must be launched for K = inst.K. */
  async runJob(inst: Instance, spec: AlgorithmSpec, o: JobOptions): Promise<JobResult> {
    const job = ++this.job;
    const alg = createAlgorithm(spec, inst.Nt);
    const K = inst.K;
    const deathsBefore = this.deaths.length;
    const views = o.views ?? localViews(inst);
    const events: InjectedEvent[] = [];
    const configure = (k: number, fromRound: number): Promise<void> =>
      this.configure(k, { type: 'configure', job, view: views[k], algorithm: spec, roundDeadlineMs: o.roundDeadlineMs, policy: o.policy, fromRound, faults: o.faults });
    await this.forEachBounded(Array.from({ length: K }, (_, k) => k).filter((k) => !this.dead.has(k)), (k) => configure(k, 0));
    // Until an agent reports, its transmitter is taken as silent; afterwards, its last output holds.
    const outputs: Float64Array[] = Array.from({ length: K }, () => new Float64Array(inst.Nt > 1 ? 2 * inst.Nt : 1));
    const last = new Map<number, ReportMsg>();
    const rounds: RoundRecord[] = [];
    /** Restarted agents and the round they rejoin at (same phase as round 0). */
    const rejoining = new Map<number, { from: number; ready: Promise<boolean> }>();
    const waitMs = o.roundDeadlineMs + 1000;
    for (let t = 0; t < alg.rounds; t++) {
      if (this.signal?.aborted) throw new Error(`run interrupted (${String(this.signal.reason)}) in round ${t} of job ${job}`);
      this.now = { job, t };
      for (const b of o.brokerRestarts ?? []) if (b.round === t) await this.restartBroker(b, events);
      for (const c of o.crashes ?? []) {
        if (c.round !== t || this.dead.has(c.agent)) continue;
        await this.crash(c.agent, t, events);
        if (c.restart) {
          const from = t + 1 + ((alg.period - ((t + 1) % alg.period)) % alg.period);
          rejoining.set(c.agent, { from, ready: this.relaunch(c.agent).then(() => configure(c.agent, from)).then(() => true, () => false) });
        }
      }
      for (const [k, r] of rejoining) {
        if (r.from > t || !(await r.ready)) continue;
        this.dead.delete(k);
        rejoining.delete(k);
        events.push({ round: t, event: 'rejoin', agent: k });
        this.log(`agent ${k} rejoined at round ${t}`);
      }
      const live = Array.from({ length: K }, (_, k) => k).filter((k) => !this.dead.has(k));
      const reports = new Map<number, ReportMsg>();
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        let pending = live.length;
        const timer = setTimeout(done, waitMs);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        const wake = (k?: number): void => {
          if (k !== undefined && live.includes(k)) pending--;
          if (pending <= 0) done();
        };
        this.current = { job, t, reports, wake };
        if (live.length === 0) done();
        const msg: RoundMsg = { type: 'round', job, t, gone: [...this.dead.keys()] };
        this.bus.publish(this.subj.round, encode(msg));
      });
      const latencyMs = performance.now() - t0;
      let messages = 0, bytes = 0, timedOut = 0, missing = 0;
      for (const [k, r] of reports) {
        outputs[k] = r.output;
        last.set(k, r);
        messages += r.received;
        bytes += r.bytesIn;
        missing += r.missing;
        if (r.timedOut) timedOut++;
      }
      const rec: RoundRecord = {
        t,
        objective: objective(inst, toDecision(inst, outputs)),
        messages,
        bytes,
        latencyMs,
        reported: reports.size,
        expected: live.length,
        timedOut,
        missing,
      };
      rounds.push(rec);
      o.onRound?.(rec);
    }
    this.current = undefined;
    this.now = { job, t: -1 };
    let malformed = 0, late = 0, lost = 0;
    for (const r of last.values()) {
      malformed += r.malformed;
      late += r.late;
      lost += r.lost;
    }
    return { job, rounds, outputs, deaths: this.deaths.slice(deathsBefore), events, malformed, late, lost };
  }

  /** Send agent k its configuration and wait for `ready`; a refusal or silence is an error naming k. */
  private async configure(k: number, msg: ConfigureMsg): Promise<void> {
    let reply: unknown;
    try {
      reply = decode(await this.bus.request(this.subj.agent(k), encode(msg), 10_000));
    } catch (e) {
      if (this.dead.has(k) && msg.fromRound === 0) return;
      throw new Error(`agent ${k} did not accept its configuration: ${(e as Error).message}`);
    }
    const refused = parseControl(refusedSchema, reply);
    if (refused.ok) throw new Error(`agent ${k} refused its configuration: ${refused.value.reason}`);
    if (!parseControl(readySchema, reply).ok) throw new Error(`agent ${k} answered its configuration with a malformed message`);
  }

  /** Run `f` over `items` with at most 64 in flight. */
  private async forEachBounded<T>(items: T[], f: (x: T) => Promise<void>): Promise<void> {
    const queue = [...items];
    await Promise.all(
      Array.from({ length: Math.min(64, queue.length) }, async () => {
        for (let x = queue.shift(); x !== undefined; x = queue.shift()) await f(x);
      }),
    );
  }

  /** Kill the process of agent k (launched alone, see `launch`) and wait until its death is recorded. */
  private async crash(k: number, t: number, events: InjectedEvent[]): Promise<void> {
    const h = this.launcher.hostOf(k);
    if (!h || h.exit) throw new Error(`crash fault: agent ${k} has no live process to kill`);
    if (h.ids.length !== 1) throw new Error(`crash fault: agent ${k} shares its process with ${h.ids.length - 1} other agent(s); launch it isolated`);
    const exited = new Promise((r) => h.child.once('exit', r));
    h.child.kill('SIGKILL');
    await exited;
    events.push({ round: t, event: 'crash', agent: k, detail: 'SIGKILL' });
  }

  /** Wait until a round trip to the broker succeeds again (the client reconnects on its own). */
  private async reconnected(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.bus.flush();
        return;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`no connection to the broker ${timeoutMs} ms after its restart: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Start a new process for agent k and wait for its registration. */
  private async relaunch(k: number): Promise<void> {
    this.registered.delete(k);
    this.launcher.spawnHost(this.natsUrl!, this.runId, [k]);
    await this.waitFor([k], 30, true);
  }

  /** Stop the embedded nats-server, start it again after `downMs`, and wait for every live host to reconnect. */
  private async restartBroker(b: BrokerRestartFault, events: InjectedEvent[]): Promise<void> {
    if (!this.server) throw new Error('brokerRestart fault needs the embedded nats-server (no NATS URL given)');
    const live = [...this.registered.keys()].filter((k) => !this.dead.has(k));
    for (const k of live) this.registered.delete(k);
    await this.server.stop();
    events.push({ round: b.round, event: 'broker-stop' });
    this.log(`nats-server stopped at round ${b.round}`);
    await new Promise((r) => setTimeout(r, b.downMs));
    await this.server.restart();
    events.push({ round: b.round, event: 'broker-start' });
    this.log(`nats-server started again after ${b.downMs} ms`);
    await this.reconnected(10_000);
    await this.waitFor(live, 30);
  }

  /** Pid of the process serving each agent k (launched hosts only). */
  agentPids(): number[] {
    return this.launcher.hosts.flatMap((h) => h.ids.map(() => h.child.pid!));
  }

  /** Who died so far, by agent. */
  get deadAgents(): ReadonlyMap<number, string> {
    return this.dead;
  }

  /** Stop agents, kill what is left, close the transport and the embedded server. */
  async shutdown(reason = 'done'): Promise<void> {
    this.stopping = true;
    try {
      this.bus.publish(this.subj.stop, encode({ type: 'stop', reason }));
      await this.bus.flush();
    } catch {
      /* the broker may be gone */
    }
    await this.launcher.killAll();
    for (const h of this.memoryHosts) await h.close();
    for (const s of this.subs) s.unsubscribe();
    await this.bus.close().catch(() => {});
  }
}

