import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { createAlgorithm, toDecision, type AlgorithmSpec, type MissingPolicy } from '@dmpemu/dmp';
import { AgentHost } from '@dmpemu/agents';
import { localView, objective, type Instance } from '@dmpemu/wireless';
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
}

export interface JobOptions {
  roundDeadlineMs: number;
  policy: MissingPolicy;
  onRound?: (r: RoundRecord) => void;
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
  private current: { job: number; t: number; reports: Map<number, ReportMsg>; wake: () => void } | undefined;
  private onRegister: (() => void) | undefined;
  private readonly log: (s: string) => void;

  private constructor(readonly bus: Transport, readonly natsUrl: string | undefined, o: CoordinatorOptions) {
    this.runId = o.runId ?? `run-${randomBytes(4).toString('hex')}`;
    this.subj = subjects(this.runId);
    this.log = o.log ?? (() => {});
    this.launcher = new Launcher((h) => this.onHostExit(h));
    this.subs.push(bus.subscribe(this.subj.register, (d) => this.onRegisterMsg(d)));
    this.subs.push(bus.subscribe(this.subj.report, (d) => this.onReport(d)));
  }

  /** Connect to the broker (the error names the URL when it is unreachable). */
  static async start(o: CoordinatorOptions): Promise<Coordinator> {
    const b: Broker = typeof o.broker === 'string' ? { kind: 'nats', url: o.broker } : o.broker;
    if (b.kind === 'memory') return new Coordinator(new MemoryTransport(b.bus), undefined, o);
    return new Coordinator(await NatsTransport.connect(b.url, 'dmpemu-coordinator'), b.url, o);
  }

  get transportKind(): string {
    return this.bus.kind;
  }

  /** Launch K agents in hosts of `perProcess` agents each and wait until all registered. */
  async launch(K: number, perProcess: number, timeoutS = 60): Promise<void> {
    const groups = partition(K, perProcess);
    if (this.bus instanceof MemoryTransport) {
      for (const ids of groups) this.memoryHosts.push(new AgentHost(new MemoryTransport(this.bus.bus), this.runId, ids));
    } else {
      for (const ids of groups) this.launcher.spawnHost(this.natsUrl!, this.runId, ids);
    }
    await this.waitRegistered(K, timeoutS);
  }

  /** Wait until agents 0..K-1 registered (agents may also be started by hand on other machines). */
  async waitRegistered(K: number, timeoutS: number): Promise<void> {
    const missing = (): number[] => Array.from({ length: K }, (_, k) => k).filter((k) => !this.registered.has(k) && !this.dead.has(k));
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
    this.deaths.push({ k, job: c?.job ?? this.job, round: c?.t ?? -1, cause });
    this.log(`agent ${k} died${c ? ` in round ${c.t} of job ${c.job}` : ''}: ${cause}`);
    c?.wake();
  }

  private onReport(data: Uint8Array): void {
    const r = decodeControl(reportSchema, data);
    const c = this.current;
    if (!r || !c || r.job !== c.job || r.t !== c.t) return;
    c.reports.set(r.k, r);
    c.wake();
  }

  /** Run one algorithm on one instance over the agents; they must be launched for K = inst.K. */
  async runJob(inst: Instance, spec: AlgorithmSpec, o: JobOptions): Promise<JobResult> {
    const job = ++this.job;
    const alg = createAlgorithm(spec);
    const K = inst.K;
    const deathsBefore = this.deaths.length;
    await this.configureAll(inst, spec, job, o);
    // Until an agent reports, its transmitter is taken as silent; afterwards, its last output holds.
    const outputs: Float64Array[] = Array.from({ length: K }, () => new Float64Array(inst.Nt > 1 ? 2 * inst.Nt : 1));
    const last = new Map<number, ReportMsg>();
    const rounds: RoundRecord[] = [];
    const waitMs = o.roundDeadlineMs + 1000;
    for (let t = 0; t < alg.rounds; t++) {
      const live = Array.from({ length: K }, (_, k) => k).filter((k) => !this.dead.has(k));
      const reports = new Map<number, ReportMsg>();
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, waitMs);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        const wake = (): void => {
          if (live.every((k) => reports.has(k) || this.dead.has(k))) done();
        };
        this.current = { job, t, reports, wake };
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
    let malformed = 0, late = 0;
    for (const r of last.values()) {
      malformed += r.malformed;
      late += r.late;
    }
    return { job, rounds, outputs, deaths: this.deaths.slice(deathsBefore), malformed, late };
  }

  private async configureAll(inst: Instance, spec: AlgorithmSpec, job: number, o: JobOptions): Promise<void> {
    const pending = Array.from({ length: inst.K }, (_, k) => k).filter((k) => !this.dead.has(k));
    const configure = async (k: number): Promise<void> => {
      const msg: ConfigureMsg = { type: 'configure', job, view: localView(inst, k), algorithm: spec, roundDeadlineMs: o.roundDeadlineMs, policy: o.policy };
      let reply: unknown;
      try {
        reply = decode(await this.bus.request(this.subj.agent(k), encode(msg), 10_000));
      } catch (e) {
        if (this.dead.has(k)) return;
        throw new Error(`agent ${k} did not accept its configuration: ${(e as Error).message}`);
      }
      const refused = parseControl(refusedSchema, reply);
      if (refused.ok) throw new Error(`agent ${k} refused its configuration: ${refused.value.reason}`);
      if (!parseControl(readySchema, reply).ok) throw new Error(`agent ${k} answered its configuration with a malformed message`);
    };
    // A bounded number of requests in flight.
    const workers = Array.from({ length: Math.min(64, pending.length) }, async () => {
      for (let k = pending.shift(); k !== undefined; k = pending.shift()) await configure(k);
    });
    await Promise.all(workers);
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

