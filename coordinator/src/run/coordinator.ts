import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { checkCellFreeOutput, checkOutput, createAlgorithm, OneKind, linkKm, linkScales, loadModule, toDecision, type Absence, type AlgorithmSpec, type ChannelFault, type DmpAlgorithm, type DeliveryFaults, type MissingPolicy } from '@dmpemu/dmp';
import { AgentHost, formatIds } from '@dmpemu/agents';
import { cellFreeMinRate, cellFreeTerms, cellFreeViews, EvolvingChannel, largeScaleOf, localViews, objective, type CellFreeInstance, type Instance, type LocalView } from '@dmpemu/wireless';
import {
  addCounters,
  MemoryBus,
  MemoryTransport,
  NatsTransport,
  newRunSecret,
  parseControl,
  registerSchema,
  Sealer,
  specRef,
  HEARTBEAT_MS,
  subjects,
  upSchema,
  zeroCounters,
  lastToken,
  type Conflict,
  type ConfigureMsg,
  type ControlMsg,
  type Counters,
  type FinalMsg,
  type RoundEntry,
  type Subjects,
  type Transport,
  type UpMsg,
} from '@dmpemu/wire';
import { deathCause, Launcher, partition, type HostProcess } from './launcher.ts';
import { findNatsServer, NatsServer } from './natsServer.ts';
import { tsWorker } from './tsWorker.ts';
import { hostUser, type BrokerUser } from './access.ts';
import type { BrokerRestartFault, CrashFault } from '../scenario/faultPlan.ts';
import { powersOf, type RoundAgents } from './observer.ts';
import type { AgentDeath, InjectedEvent, RoundRecord } from './records.ts';
export type { AgentDeath, InjectedEvent, RoundRecord } from './records.ts';

export interface JobResult {
  job: number;
  rounds: RoundRecord[];
  outputs: Float64Array[];
  deaths: AgentDeath[];
  events: InjectedEvent[];
  /** Messages dropped in this job, by kind: the agents' (summed over hosts) and the coordinator's own. */
  counters: Counters;
  /** Deliveries dropped by messageLoss or made undecodable by bitErrors (= counters.lost). */
  lost: number;
  /** Every message dropped as malformed or unauthenticated, data and control (the sum of those counters). */
  malformed: number;
  late: number;
  /** Rounds a broker outage fell into. */
  disturbed: number[];
  /** From the first round's start to the last agent's last update (every clock: meanRoundLatencyMs is this over the rounds). */
  wallMs: number;
  /** Every agent's every round, from its start of the round to its update (ms). */
  agentRoundMs: number[];
  /** When the coordinator had each agent's last round, ms after the job started (NaN: never). */
  agentDoneMs: number[];
  /** async clock: how old the broadcasts used in updates were, in rounds (receiver's round minus the message's): count by age. */
  staleness?: Record<string, number>;
}

/** Where agents and coordinator meet: a NATS server (ours or given), or the in-process bus. */
export type Broker = { kind: 'nats'; url: string; server?: NatsServer } | { kind: 'memory'; bus: MemoryBus };

/**
 * The embedded default: the given URL; else a nats-server of our own on a free loopback port if
 * the binary exists; else, said in one line, the in-process bus.
 */
export async function openBroker(url: string | undefined, log: (s: string) => void = () => {}, bin: string | null = findNatsServer() ?? null, listen?: { host: string; port?: number }): Promise<Broker> {
  if (url) return { kind: 'nats', url };
  if (!bin) {
    log('nats-server not found (PATH, /usr/sbin): using the in-process bus; agents run inside the coordinator process');
    return { kind: 'memory', bus: new MemoryBus() };
  }
  const server = await NatsServer.start(bin, { auth: true, host: listen?.host, port: listen?.port });
  log(`started nats-server at ${server.url}${listen ? ` (listening on ${listen.host}:${server.port})` : ''}, credentials required`);
  return { kind: 'nats', url: server.url, server };
}

export async function closeBroker(b: Broker): Promise<void> {
  if (b.kind === 'nats') await b.server?.dispose();
}

export interface CoordinatorOptions {
  /** A NATS URL, or a broker from openBroker. */
  broker: Broker | string;
  runId?: string;
  /** The run secret (64 hex digits) hosts must know; default a fresh one. */
  secret?: string;
  log?: (s: string) => void;
  /** Seconds to wait for all agents to register (and to come back after a broker outage). */
  registerTimeoutS?: number;
  /** When aborted, a running job stops after its current round with an error naming the reason. */
  signal?: AbortSignal;
  /** A host without a new heartbeat for this long during a job is gone: its agents are recorded dead (default HOST_SILENCE_MS). */
  hostSilenceMs?: number;
}

/** How long a host may stay silent during a job (its heartbeat comes every second) before its agents are declared dead. */
export const HOST_SILENCE_MS = 10_000;
/** A host heard again after a longer gap during a job has missed rounds: an event, and the round disturbed. */
export const HOST_GAP_MS = 3 * HEARTBEAT_MS;

const HEARTBEAT_WORKER = new URL('./heartbeatWorker.ts', import.meta.url);

export interface JobOptions {
  roundDeadlineMs: number;
  policy: MissingPolicy;
  /** After every round: its record and, per agent, power and who was dead, timed out or short of messages. */
  onRound?: (r: RoundRecord, agents: RoundAgents) => void;
  /** Local views to ship (default: the instance's; CSI faults alter them). */
  views?: LocalView[];
  /** Loss, delay and stragglers, applied by the agents. */
  faults?: DeliveryFaults;
  crashes?: CrashFault[];
  brokerRestarts?: BrokerRestartFault[];
  /** churn: per agent, the rounds it is away; each agent is told only its own. */
  churn?: (Absence | undefined)[];
  /** A time-varying channel: each agent follows its own links; the objective is evaluated on the channel of the round. */
  channel?: ChannelFault;
  /** barrier (default): the coordinator starts every round; local: agents advance on their neighbours' broadcasts or their deadline; async: on their own timers. */
  clock?: Clock;
  /** async clock: the schedule (@dmpemu/dmp asyncClock); the seed defaults to the job number. */
  async?: { periodMs: number; jitter: number; activation: number; seed?: number };
  /** Hear deaths and events as they happen (they are in the result too). */
  onDeath?: (d: AgentDeath) => void;
  onEvent?: (e: InjectedEvent) => void;
}

/** Seconds the coordinator waits for an agent's answer to its configuration before asking again or giving up. */
const CONFIGURE_TIMEOUT_MS = 10_000;
/** How long the coordinator waits for the hosts' final counters of a job. */
const FINAL_TIMEOUT_MS = 2_000;

interface RoundState {
  job: number;
  t: number;
  live: Set<number>;
  entries: Map<number, RoundEntry>;
  wake: () => void;
}

/**
 * What a job runs on: its nodes (one agent each), their local views, what each node's output must
 * be, and how the outputs of a round score. Built from an Instance of transceiver pairs (runJob)
 * or from a network with node types (runCellFreeJob).
 */
export interface JobNetwork {
  nodes: number;
  views: LocalView[];
  /** Why node k's output is invalid (undefined: valid). */
  checkOutput(k: number, out: Float64Array): string | undefined;
  /** Node k's output until it reports (a silent transmitter). */
  silent(k: number): Float64Array;
  /** The objective of the outputs after round t. */
  objective(outputs: Float64Array[], t: number): number;
  /** Per node, what its configure message carries besides the view (faults tied to the network). */
  configureExtra?(k: number): Partial<ConfigureMsg>;
}

interface JobState {
  job: number;
  net: JobNetwork;
  /** Agents waiting to answer their configuration. */
  awaiting: Map<number, { resolve: () => void; reject: (e: Error) => void }>;
  /** Agents whose algorithm failed or whose output was invalid: the job fails with the first reason. */
  failures: Map<number, string>;
  finals: Map<string, FinalMsg>;
  onFinal?: () => void;
  options: JobOptions;
  clock: Clock;
  wallMs?: number;
}

/** Who starts rounds (README, clocks). */
export type Clock = 'barrier' | 'local' | 'async';

/** The local clock's view of a job in progress: every agent's entry per round as it streams in. */
interface StreamState {
  perRound: Map<number, RoundEntry>[];
  wake: () => void;
  /** Agent k's last round is in. */
  lastRound: (k: number) => void;
}

/**
 * The round scheduler (barrier clock). Owns the transport (and the embedded nats-server, if it
 * started one), the agent processes, and the job loop: configure every agent with its local view,
 * then per round announce, collect the hosts' reports until all live agents answered or the
 * deadline passed, and evaluate the decisions on the true channel. Every control message it sends
 * is sealed with the run secret, and it opens and checks every message it receives: a report
 * counts only from the host serving that agent, once, for the current job and round, with an
 * output of the decision's shape inside the power constraint.
 */
export class Coordinator {
  readonly runId: string;
  readonly subj: Subjects;
  /** The run secret: launched hosts get it in their environment, external hosts from the user. */
  readonly secret: string;
  private readonly sealer: Sealer;
  /** Registered hosts, and the host serving each agent. */
  private readonly hosts = new Map<string, { agents: number[]; pid: number; hostname: string }>();
  private readonly ownerOf = new Map<number, string>();
  /** Per host process (`host/boot`), its last heartbeat's seq; and the processes (`host/hostname/pid`) that registered. */
  private readonly hostSeq = new Map<string, number>();
  private readonly processesSeen = new Set<string>();
  private readonly registered = new Set<number>();
  private readonly dead = new Map<number, string>();
  /** Agents a crash fault killed and no restart brought back: relaunched before the next job, whose plan crashes them anew. */
  private readonly crashed = new Set<number>();
  private readonly deaths: AgentDeath[] = [];
  private readonly events: InjectedEvent[] = [];
  private readonly launcher: Launcher;
  private readonly memoryHosts: AgentHost[] = [];
  private readonly subs: { unsubscribe(): void }[] = [];
  private readonly registerTimeoutS: number;
  private job = 0;
  private stopping = false;
  private jobState: JobState | undefined;
  private round: RoundState | undefined;
  private stream: StreamState | undefined;
  /** The coordinator's own counters of the current job (messages it dropped). */
  private counters: Counters = zeroCounters();
  /** The job and round in progress (round -1: between rounds), for the records of deaths. */
  private now = { job: 0, t: -1 };
  /** Callbacks of everyone waiting for registrations (waitFor). */
  private readonly onRegister = new Set<() => void>();
  /** The recovery from a broker outage in progress, shared by all who wait for it. */
  private recovering: Promise<void> | undefined;
  /** Disconnects seen so far, and the one in progress. */
  private outages = 0;
  private outage: { since: number; job: number; t: number } | undefined;
  private plannedOutage = false;
  private relaunches = 0;
  private readonly log: (s: string) => void;
  private readonly signal: AbortSignal | undefined;

  private constructor(readonly bus: Transport, readonly natsUrl: string | undefined, private readonly server: NatsServer | undefined, o: CoordinatorOptions) {
    this.runId = o.runId ?? `run-${randomBytes(4).toString('hex')}`;
    this.subj = subjects(this.runId);
    this.secret = o.secret ?? newRunSecret();
    this.sealer = new Sealer(this.secret);
    this.log = o.log ?? (() => {});
    this.signal = o.signal;
    this.registerTimeoutS = o.registerTimeoutS ?? 60;
    this.launcher = new Launcher((h) => this.onHostExit(h));
    this.hostSilenceMs = o.hostSilenceMs ?? HOST_SILENCE_MS;
    this.tickMs = Math.min(1000, this.hostSilenceMs / 2);
    this.watchdog = setInterval(() => void this.reapSilentHosts(), this.tickMs);
    this.watchdog.unref();
    this.subs.push(bus.subscribe(this.subj.registerAll, (d, _r, s) => this.onRegisterMsg(s, d)));
    this.subs.push(bus.subscribe(this.subj.upAll, (d, _r, s) => this.onUp(s, d)));
    bus.onConnection((e) => this.onConnection(e));
  }

  /** Connect to the broker (the error names the URL when it is unreachable). */
  static async start(o: CoordinatorOptions): Promise<Coordinator> {
    const b: Broker = typeof o.broker === 'string' ? { kind: 'nats', url: o.broker } : o.broker;
    if (b.kind === 'memory') return new Coordinator(new MemoryTransport(b.bus), undefined, undefined, o);
    const me = b.server?.coordinator;
    return new Coordinator(await NatsTransport.connect(b.url, 'dmpemu-coordinator', { onError: (e) => o.log?.(`coordinator handler error: ${(e as Error).message}`), user: me?.user, pass: me?.password }), b.url, b.server, o);
  }

  get transportKind(): string {
    return this.bus.kind;
  }

  private publish(subject: string, msg: ControlMsg | ConfigureMsg): void {
    this.bus.publish(subject, this.sealer.seal(subject, msg));
  }

  /**
   * Launch K agents in hosts of `perProcess` agents each and wait until all registered. Agents in
   * `isolate` (crash targets) get a process of their own.
   */
  async launch(K: number, perProcess: number, timeoutS = this.registerTimeoutS, isolate: number[] = []): Promise<void> {
    await this.spawnHosts(K, perProcess, isolate);
    await this.waitRegistered(K, timeoutS);
  }

  /** Start the hosts of `launch` without waiting for them to register (they boot while the caller prepares the job). */
  async spawnHosts(K: number, perProcess: number, isolate: number[] = []): Promise<void> {
    await this.startHosts(partition(K, perProcess, isolate).map((ids, i) => ({ host: `h${i}`, ids })));
  }

  /**
   * Hosts that someone else starts (other machines: `dmpemu agents`): the agents split as
   * `launch` would, each host with its broker user when the embedded broker requires credentials.
   * Nothing is launched; wait for them with waitRegistered. Starts the heartbeat they listen for.
   */
  async externalHosts(K: number, perProcess: number): Promise<{ host: string; ids: number[]; user?: BrokerUser }[]> {
    this.startHeartbeat(this.registerTimeoutS * 1000); // unless started already (with a planned outage's downtime)
    const hosts = partition(K, perProcess).map((ids, i) => ({ host: `h${i}`, ids }));
    await this.makeHostUsers(hosts);
    return hosts.map((h) => ({ ...h, user: this.hostUsers.get(h.host)?.user }));
  }

  private readonly hostSilenceMs: number;
  private readonly tickMs: number;
  private readonly watchdog: NodeJS.Timeout;
  private heartbeat: Worker | undefined;

  /**
   * Say `{type: alive}` on `ctl` every second from a worker thread with its own connection (for
   * external hosts, which leave a run whose coordinator they stop hearing: --coordinator-timeout),
   * so that it goes on while this thread computes. `patienceMs`: how long this coordinator rides out
   * a broker outage (hosts wait at least that long).
   */
  startHeartbeat(patienceMs: number): void {
    if (this.heartbeat || !this.natsUrl) return;
    const me = this.server?.coordinator;
    this.heartbeat = tsWorker(HEARTBEAT_WORKER, { workerData: { url: this.natsUrl, user: me?.user, pass: me?.password, runId: this.runId, secret: this.secret, patienceMs } });
    this.heartbeat.on('error', (e) => this.log(`coordinator heartbeat: ${e.message}`));
    this.heartbeat.unref();
  }
  private lastTick = performance.now();
  private reaping = false;
  /** When each host was last heard from (the first registration of a process, a new heartbeat), performance.now(). */
  private readonly lastHeard = new Map<string, number>();
  /** Agents declared dead for their host's silence, with when: back at the next job if their host is heard again. */
  private readonly silenced = new Map<number, { host: string; at: number }>();

  /**
   * During a job, declare the live agents of a host silent for long enough dead: a launched host's
   * exit is seen at once (onHostExit), but a host on another machine may lose its machine or its
   * connection without the coordinator seeing a process end, and its agents would hold every round
   * to the deadline. Long enough: hostSilenceMs, and at least a round deadline plus two heartbeats
   * (a host computes a round between its heartbeats). Never on the coordinator's own account: not
   * while its broker connection is down or coming back, not right after this process itself
   * stalled (the heartbeats then wait unread in its socket), and only once a flush to the broker
   * came back (everything the broker had queued for it read first).
   */
  private async reapSilentHosts(): Promise<void> {
    const now = performance.now();
    const stalled = now - this.lastTick - this.tickMs;
    this.lastTick = now;
    if (stalled > this.tickMs) for (const [h, t] of this.lastHeard) this.lastHeard.set(h, t + stalled);
    const js = this.jobState;
    if (!js || stalled > this.tickMs || this.outage || this.recovering || this.stopping || this.reaping) return;
    const limit = Math.max(this.hostSilenceMs, js.options.roundDeadlineMs + 2 * HEARTBEAT_MS, js.options.async ? 2 * js.options.async.periodMs + 2 * HEARTBEAT_MS : 0);
    const silentFor = (host: string): number => performance.now() - (this.lastHeard.get(host) ?? performance.now());
    const suspects = () => [...this.ownerOf].filter(([k, host]) => !this.dead.has(k) && silentFor(host) > limit);
    if (suspects().length === 0) return;
    this.reaping = true;
    try {
      const flushed = await Promise.race([this.bus.flush().then(() => true, () => false), new Promise<boolean>((r) => setTimeout(() => r(false), 2000).unref())]);
      if (!flushed || this.outage || this.jobState !== js) return; // the coordinator's own connection is in doubt
      for (const [k, host] of suspects()) {
        this.silenced.set(k, { host, at: performance.now() });
        this.markDead(k, `its host ${host} was silent for ${(silentFor(host) / 1000).toFixed(1)} s (no heartbeat: its machine, process or connection is gone)`);
      }
    } finally {
      this.reaping = false;
    }
  }

  /** Hosts whose registrations failed the seal check (another run secret), named when agents fail to register. */
  private readonly unsealedRegistrations = new Set<string>();

  /** Registrations refused because a host claimed agents its broker user is not for, by host (named when agents then fail to register). */
  private readonly refusedClaims = new Map<string, string>();

  /** Hosts and their agents; with the embedded broker's credentials each host gets a user of its own (access.ts). */
  private readonly hostUsers = new Map<string, { ids: number[]; user: BrokerUser }>();

  /**
   * The agents each host's broker user is for, when the coordinator knows them (the embedded
   * broker's users, or `dmpemu nats-config`'s for a broker you run): a host may register only
   * those. Every host holds the run secret, so a registration is otherwise only its own claim.
   */
  private readonly hostIds = new Map<string, number[]>();

  /**
   * The hosts of a broker you run, as `dmpemu nats-config` made their users (its credentials
   * files): the user of host `host` may publish only on that host's subjects, so registrations
   * are held to these agents as with the embedded broker's users.
   */
  expectHosts(hosts: readonly { host: string; ids: number[] }[]): void {
    for (const { host, ids } of hosts) this.hostIds.set(host, ids);
  }

  private async makeHostUsers(hosts: readonly { host: string; ids: number[] }[]): Promise<void> {
    if (!this.server?.auth) return;
    for (const { host, ids } of hosts) this.hostUsers.set(host, { ids, user: hostUser(this.runId, host, ids) });
    this.expectHosts(hosts);
    await this.server.setUsers(hosts.map((h) => this.hostUsers.get(h.host)!.user));
  }

  private async startHosts(hosts: { host: string; ids: number[] }[]): Promise<void> {
    if (this.bus instanceof MemoryTransport) {
      for (const { host, ids } of hosts) this.memoryHosts.push(new AgentHost(new MemoryTransport(this.bus.bus), { runId: this.runId, host, ids, secret: this.secret }));
      return;
    }
    await this.makeHostUsers(hosts);
    for (const { host, ids } of hosts) this.launcher.spawnHost(this.natsUrl!, this.runId, ids, host, this.secret, this.hostUsers.get(host)?.user);
  }

  /**
   * Narrow what each launched host may subscribe to from every broadcast of the run to its agents'
   * neighbours in these local views (the union over a network's instances), once they are known.
   */
  async limitToNeighbours(views: readonly (readonly LocalView[])[]): Promise<void> {
    if (!this.server?.auth || this.hostUsers.size === 0) return;
    const updated: BrokerUser[] = [];
    for (const [host, h] of this.hostUsers) {
      const neighbours = new Set<number>();
      for (const vs of views) for (const k of h.ids) for (const j of vs[k]?.neighbours ?? []) neighbours.add(j);
      const u = hostUser(this.runId, host, h.ids, neighbours, h.user.password);
      h.user = u;
      updated.push(u);
    }
    await this.server.setUsers(updated);
  }

  /** Wait until agents 0..K-1 registered (agents may also be started by hand on other machines). */
  async waitRegistered(K: number, timeoutS = this.registerTimeoutS): Promise<void> {
    await this.waitFor(Array.from({ length: K }, (_, k) => k), timeoutS);
  }

  /** Wait until the given agents (re-)registered, or died (unless `evenDead`: a relaunched agent). */
  private async waitFor(ids: number[], timeoutS: number, evenDead = false): Promise<void> {
    const missing = (): number[] => ids.filter((k) => !this.registered.has(k) && (evenDead || !this.dead.has(k)));
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (missing().length > 0) return;
        clearTimeout(timer);
        this.onRegister.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.onRegister.delete(check);
        const m = missing();
        const refused = [...this.refusedClaims.values()];
        if (this.unsealedRegistrations.size) refused.push(`registrations from host(s) ${[...this.unsealedRegistrations].join(', ')} did not carry this run's seal: started with another run's secret?`);
        reject(new Error(`${m.length} agent(s) did not register within ${timeoutS} s: ${m.slice(0, 10).join(', ')}${m.length > 10 ? ', ...' : ''}${refused.length ? ` (${refused.join('; ')})` : ''}`));
      }, timeoutS * 1000);
      this.onRegister.add(check);
      check();
    });
  }

  /** Open a sealed message from a host; counts and returns undefined when it is not one (`unsealed`: told when the seal failed). */
  private open(subject: string, data: Uint8Array, unsealed?: () => void): unknown {
    const r = this.sealer.open(subject, data);
    if (r.ok) return r.value;
    this.counters[r.reason === 'unauthenticated' ? 'unauthenticated' : 'malformedControl']++;
    if (r.reason === 'unauthenticated') unsealed?.();
    return undefined;
  }

  private onRegisterMsg(subject: string, data: Uint8Array): void {
    // a host given another run's secret: its registrations never open (named if agents then fail to register; a few hosts are enough to say so)
    const msg = this.open(subject, data, () => void (this.unsealedRegistrations.size < 5 && this.unsealedRegistrations.add(lastToken(subject))));
    if (msg === undefined) return;
    const r = parseControl(registerSchema, msg);
    if (!r.ok || r.value.host !== lastToken(subject)) return void this.counters.malformedControl++;
    const { host, agents, pid, hostname } = r.value;
    // with per-host broker users (the embedded broker) a host serves the agents its user was made
    // for: every host holds the run secret, so a registration is otherwise only its own claim
    const mine = this.hostIds.size > 0 ? this.hostIds.get(host) : undefined;
    const foreign = this.hostIds.size > 0 ? agents.filter((k) => !mine?.includes(k)) : [];
    if (foreign.length > 0) {
      this.counters.unauthenticated++;
      this.refusedClaims.set(host, `host ${host} claimed agent(s) ${formatIds(foreign)}, ${mine ? `but its broker user serves ${formatIds(mine)}` : 'but no broker user of this run is for that host'}: refused`);
      return;
    }
    // only a process's first registration is its host heard: it repeats it until configured, and a replay (of any earlier process too) is a copy
    const proc = `${host}/${hostname}/${pid}`;
    this.hosts.set(host, { agents, pid, hostname });
    if (!this.processesSeen.has(proc)) this.heard(host);
    this.processesSeen.add(proc);
    this.refusedClaims.delete(host); // named only while they explain something
    this.unsealedRegistrations.delete(host);
    for (const k of agents) {
      this.ownerOf.set(k, host);
      this.registered.add(k);
    }
    for (const f of [...this.onRegister]) f();
  }

  private onHostExit(h: HostProcess): void {
    if (this.stopping) return;
    const cause = h.exit?.signal ? `process killed by ${h.exit.signal}` : `process exited with code ${h.exit?.code}`;
    const why = deathCause(h.stderr);
    for (const k of h.ids) if (this.ownerOf.get(k) === h.host || !this.ownerOf.has(k)) this.markDead(k, cause + (why ? `: ${why}` : ''));
  }

  /**
   * Host `host` was heard from. After a gap of more than HOST_GAP_MS during a job (its connection
   * to the broker lost and back, a node of a cluster restarted, its process frozen), its agents'
   * reports of the rounds between may be missing: the gap is recorded as an event and the round in
   * progress marked disturbed, as for the coordinator's own outages (the watchdog forgives the
   * coordinator's own stalls, so they make no gap here).
   */
  private heard(host: string): void {
    const now = performance.now();
    const gap = now - (this.lastHeard.get(host) ?? now);
    this.lastHeard.set(host, now);
    const { job, t } = this.now;
    // the watchdog's tick is overdue: this process itself stalled, and the gap is ours
    if (gap <= HOST_GAP_MS || now - this.lastTick > 2 * this.tickMs || !this.jobState || this.outage || this.recovering || t < 0) return;
    this.outages++; // collect marks the round disturbed; a configuration in flight is sent again
    this.addEvent({ round: t, event: 'host-unheard', detail: `host ${host} was not heard for ${(gap / 1000).toFixed(1)} s until round ${t} of job ${job}: its agents' reports of the rounds between may be missing` });
    this.log(`host ${host} heard again after ${(gap / 1000).toFixed(1)} s (round ${t} of job ${job})`);
  }

  private addEvent(e: InjectedEvent): void {
    this.events.push(e);
    this.jobState?.options.onEvent?.(e);
  }

  /** Record agent k as dead (reported in the job result); its neighbours stop waiting for it. */
  markDead(k: number, cause: string): void {
    if (this.dead.has(k)) return;
    this.dead.set(k, cause);
    const { job, t } = this.now;
    const death = { k, job, round: t, cause };
    this.deaths.push(death);
    this.jobState?.options.onDeath?.(death);
    this.log(`agent ${k} died${t >= 0 ? ` in round ${t} of job ${job}` : ''}: ${cause}`);
    const r = this.round;
    if (r && r.live.delete(k)) r.wake();
    this.jobState?.awaiting.get(k)?.resolve();
    if (this.stream && this.jobState) {
      this.publish(this.subj.control, { type: 'gone', job: this.jobState.job, agents: [k] });
      this.stream.wake();
    }
  }

  private onConnection(e: 'disconnect' | 'reconnect'): void {
    if (e === 'disconnect') {
      this.outages++;
      this.outage = { since: performance.now(), ...this.now };
      // every host must say again that it is there once the broker is back
      if (!this.plannedOutage) this.registered.clear();
      if (!this.plannedOutage) this.log(`lost the connection to the broker in round ${this.now.t} of job ${this.now.job}`);
      return;
    }
    const o = this.outage;
    this.outage = undefined;
    const now = performance.now();
    for (const h of this.lastHeard.keys()) this.lastHeard.set(h, now); // nobody was heard while the broker was gone
    if (!o || this.plannedOutage) return;
    const ms = performance.now() - o.since;
    this.addEvent({ round: o.t, event: 'broker-outage', detail: `connection to the broker lost for ${(ms / 1000).toFixed(1)} s from round ${o.t} of job ${o.job}` });
    this.log(`connection to the broker back after ${(ms / 1000).toFixed(1)} s`);
  }

  private onUp(subject: string, data: Uint8Array): void {
    const msg = this.open(subject, data);
    if (msg === undefined) return;
    const r = parseControl(upSchema, msg);
    const host = lastToken(subject);
    if (!r.ok) return void this.counters.malformedControl++;
    const m = r.value;
    const known = this.hosts.has(host);
    if (m.type === 'alive') {
      if (!known) return; // a heartbeat may come before its host's registration: not an error
      // only a newer heartbeat is the host heard: a replayed one kept a gone host's agents alive
      const proc = `${host}/${m.boot}`;
      if (m.seq <= (this.hostSeq.get(proc) ?? 0)) return void this.counters.duplicate++;
      this.hostSeq.set(proc, m.seq);
      return this.heard(host);
    }
    if (!known) return void this.counters.malformedControl++;
    const owns = (k: number): boolean => this.ownerOf.get(k) === host;
    const js = this.jobState;
    if (!js || m.job !== js.job) return void (m.job < this.job ? this.counters.late++ : this.counters.malformedControl++);
    switch (m.type) {
      case 'ready':
      case 'refused': {
        if (!owns(m.k)) return void this.counters.malformedControl++;
        const w = js.awaiting.get(m.k);
        if (!w) return void this.counters.duplicate++;
        js.awaiting.delete(m.k);
        if (m.type === 'ready') w.resolve();
        else w.reject(new Error(`agent ${m.k} refused its configuration: ${m.reason}`));
        return;
      }
      case 'failed':
        if (!owns(m.k)) return void this.counters.malformedControl++;
        return this.fail(m.k, `agent ${m.k} failed in round ${m.t}: ${m.reason}`);
      case 'report':
        return this.onReport(m, owns, js);
      case 'progress':
        return this.onProgress(m, owns, js);
      case 'final':
        if (js.finals.has(host)) return void this.counters.duplicate++;
        js.finals.set(host, m);
        js.onFinal?.();
        return;
    }
  }

  private onReport(m: Extract<UpMsg, { type: 'report' }>, owns: (k: number) => boolean, js: JobState): void {
    const r = this.round;
    if (!r || m.t !== r.t) return void (r && m.t < r.t ? this.counters.late++ : this.counters.malformedControl++);
    for (const e of m.agents) {
      if (!owns(e.k) || !r.live.has(e.k)) {
        this.counters[this.silenced.has(e.k) ? 'late' : 'malformedControl']++; // an agent declared dead for its host's silence, heard again: late, not forged
        continue;
      }
      this.acceptEntry(r.entries, e, m.t, js);
    }
    r.wake();
  }

  /** Store agent e.k's entry for round t, unless it repeats one (a duplicate; conflicting if it differs) or its output is invalid (the agent fails); true when stored. */
  private acceptEntry(round: Map<number, RoundEntry>, e: RoundEntry, t: number, js: JobState): boolean {
    const prior = round.get(e.k);
    if (prior) {
      this.counters.duplicate++;
      if (!sameOutput(prior.output, e.output)) this.counters.conflicting++;
      return false;
    }
    const bad = js.net.checkOutput(e.k, e.output);
    if (bad) {
      this.fail(e.k, `agent ${e.k} reported ${bad} in round ${t}`);
      return false;
    }
    round.set(e.k, e);
    return true;
  }

  private onProgress(m: Extract<UpMsg, { type: 'progress' }>, owns: (k: number) => boolean, js: JobState): void {
    const st = this.stream;
    if (!st) return void (this.counters.late += m.entries.length);
    for (const e of m.entries) {
      if (!owns(e.k) || e.t >= st.perRound.length || this.dead.has(e.k) || js.failures.has(e.k)) {
        this.counters[this.silenced.has(e.k) ? 'late' : 'malformedControl']++; // as in onReport
        continue;
      }
      if (this.acceptEntry(st.perRound[e.t], e, e.t, js) && e.t === st.perRound.length - 1) st.lastRound(e.k);
    }
    st.wake();
  }

  /** Agent k can take no further valid part in the job: the job fails with the first such reason. */
  private fail(k: number, reason: string): void {
    const js = this.jobState!;
    if (!js.failures.has(k)) js.failures.set(k, reason);
    this.log(reason);
    js.awaiting.get(k)?.reject(new Error(reason));
    const r = this.round;
    if (r && r.live.delete(k)) r.wake();
    this.stream?.wake();
  }

  /** Run one algorithm on one instance over the agents; they must be launched for K = inst.K. */
  async runJob(inst: Instance, spec: AlgorithmSpec, o: JobOptions): Promise<JobResult> {
    if (spec.module) await loadModule(spec.module);
    const alg = createAlgorithm(spec, inst.Nt);
    const K = inst.K;
    const views = o.views ?? localViews(inst);
    const powerLimit = alg.powerLimit ?? inst.pmax;
    const channel = o.channel && new EvolvingChannel(inst, o.channel);
    const large = o.channel && largeScaleOf(inst)!;
    const kinds = OneKind.of(inst); // MISO with Nt = 1: one kind of output
    const net: JobNetwork = {
      nodes: K,
      views,
      checkOutput: (k, out) => checkOutput(out, inst, powerLimit) ?? kinds?.admit(k, out),
      silent: () => new Float64Array(inst.Nt > 1 ? 2 * inst.Nt : 1),
      // evaluated on the true channel (of the round, when it varies)
      objective: (outputs, t) => objective(channel ? channel.at(t) : inst, toDecision(inst, outputs)),
      configureExtra: (k) => ({
        // messageDelay by distance: each agent is told the length of its incoming links
        ...(o.faults?.distanceDelay ? { linkKm: Float64Array.from(views[k].neighbours, (j) => linkKm(inst, j, k)) } : {}),
        ...(o.churn?.[k] ? { churn: o.churn[k] } : {}),
        ...(o.channel ? { channel: { ...o.channel, scales: linkScales(large!, K, views[k]) } } : {}),
      }),
    };
    return this.runOn(net, spec, alg, o);
  }

  /**
   * Run one algorithm on a cell-free network over the agents, one per AP and per user (ids as
   * @dmpemu/wireless cellFreeViews numbers them; launch M + K agents): the objective is eq. 6's
   * minimum rate of the users' powers. No fault of the pairs' networks applies.
   */
  async runCellFreeJob(inst: CellFreeInstance, spec: AlgorithmSpec, o: Pick<JobOptions, 'roundDeadlineMs' | 'policy' | 'clock' | 'async' | 'onRound'>): Promise<JobResult> {
    const alg = createAlgorithm(spec, 1);
    if (!alg.types?.includes('ap')) throw new Error(`${alg.name} does not know the node types of a cell-free network (ap, ue)`);
    const terms = cellFreeTerms(inst);
    const isUser = (k: number): boolean => k >= inst.M;
    const net: JobNetwork = {
      nodes: inst.M + inst.K,
      views: cellFreeViews(inst),
      checkOutput: (k, out) => checkCellFreeOutput(inst.M, k, out),
      silent: (k) => new Float64Array(isUser(k) ? 1 : 0),
      objective: (outputs) => cellFreeMinRate(inst, Float64Array.from(outputs.slice(inst.M), (x) => x[0]), terms),
    };
    return this.runOn(net, spec, alg, o);
  }

  private async runOn(net: JobNetwork, spec: AlgorithmSpec, alg: DmpAlgorithm<unknown>, o: JobOptions): Promise<JobResult> {
    const job = ++this.job;
    const clock = o.clock ?? 'barrier';
    if (clock !== 'barrier' && (o.crashes?.length || o.brokerRestarts?.length)) throw new Error(`crash and brokerRestart faults need the barrier clock, not ${clock}`);
    if (clock === 'async' && o.channel) throw new Error('a time-varying channel needs rounds: the barrier or local clock, not async');
    if (clock === 'async' && o.churn?.some((a) => a)) throw new Error('churn needs rounds: the barrier or local clock, not async');
    if (clock === 'async' && !o.async) throw new Error('the async clock needs its schedule (async: periodMs, jitter, activation)');
    const asyncClock = o.async && { ...o.async, seed: o.async.seed ?? job };
    const K = net.nodes;
    // a crash fault's plan is each job's (as a broker restart's): an agent it killed in an earlier job starts this one alive
    for (const k of this.crashed) {
      await this.relaunch(k);
      this.dead.delete(k);
      this.crashed.delete(k);
    }
    // agents declared dead for their host's silence start this job alive if it has been heard since
    for (const [k, s] of this.silenced) {
      if ((this.lastHeard.get(s.host) ?? 0) <= s.at || this.ownerOf.get(k) !== s.host) continue;
      this.dead.delete(k);
      this.silenced.delete(k);
      this.log(`agent ${k} is back: its host ${s.host} was heard again`);
    }
    const deathsBefore = this.deaths.length;
    const eventsBefore = this.events.length;
    const views = net.views;
    this.counters = zeroCounters();
    const js: JobState = { job, net, clock, awaiting: new Map(), failures: new Map(), finals: new Map(), options: o };
    this.jobState = js;
    this.now = { job, t: -1 };
    // a checkpoint or module goes whole to one agent per host, the others name it by ref (ready from the first: its host holds it)
    const ref = specRef(spec);
    const message = (k: number, fromRound: number, whole: boolean): ConfigureMsg => ({ type: 'configure', job, k, view: views[k], algorithm: whole || !ref ? spec : { name: spec.name, ref }, roundDeadlineMs: o.roundDeadlineMs, policy: o.policy, fromRound, faults: o.faults, ...net.configureExtra?.(k), clock, async: clock === 'async' ? asyncClock : undefined });
    const configure = (k: number, fromRound: number, whole = true): Promise<void> =>
      this.configure(js, k, message(k, fromRound, whole)).catch((e: Error) => {
        // its host holds nothing for the job (restarted under its id since its first agent was configured): send it whole
        if (whole || !e.message.includes('configure: algorithm.ref')) throw e;
        return this.configure(js, k, message(k, fromRound, true));
      });
    const rounds: RoundRecord[] = [];
    const disturbed: number[] = [];
    const agentRoundMs: number[] = [];
    const agentDoneMs = new Array<number>(K).fill(NaN);
    // Until an agent reports, its transmitter is taken as silent; afterwards, its last output holds.
    const outputs: Float64Array[] = Array.from({ length: K }, (_, k) => net.silent(k));
    const live = (): Set<number> => new Set(Array.from({ length: K }, (_, k) => k).filter((k) => !this.dead.has(k) && !js.failures.has(k)));
    let jobStart = 0;
    /** Round t is complete (all live agents' entries, or its time is up): evaluate the decisions on the true channel. */
    const record = (t: number, entries: Map<number, RoundEntry>, expected: number, latencyMs: number, wasDisturbed: boolean): void => {
      let messages = 0, bytes = 0, sent = 0, timedOut = 0, missing = 0;
      for (const [k, e] of entries) {
        outputs[k] = e.output;
        messages += e.received;
        bytes += e.bytesIn;
        sent += e.bytesOut;
        missing += e.missing;
        agentRoundMs.push(e.ms);
        if (e.timedOut) timedOut++;
      }
      const rec: RoundRecord = { t, objective: net.objective(outputs, t), messages, bytes, sent, latencyMs, atMs: performance.now() - jobStart, reported: entries.size, expected, timedOut, missing };
      if (!Number.isFinite(rec.objective)) throw new Error(`job ${job}: the objective after round ${t} is not finite (${rec.objective})`);
      if (wasDisturbed) {
        rec.disturbed = true;
        disturbed.push(t);
      }
      rounds.push(rec);
      if (o.onRound) {
        const timedOutAgents: number[] = [], missingPer = new Array<number>(K).fill(0);
        for (const [k, e] of entries) {
          if (e.timedOut) timedOutAgents.push(k);
          missingPer[k] = e.missing;
        }
        o.onRound(rec, { power: powersOf(outputs), dead: [...this.dead.keys(), ...js.failures.keys()], timedOut: timedOutAgents, missing: missingPer });
      }
    };
    const noLiveAgent = (t: number): Error => new Error(`job ${job}: no live agent in round ${t} (all ${K} agents dead${this.deaths.length ? `, e.g. agent ${this.deaths.at(-1)!.k}: ${this.deaths.at(-1)!.cause}` : ''})`);
    try {
      const firstOfHost = new Map<string | undefined, number>();
      const others: number[] = [];
      for (let k = 0; k < K; k++) if (!this.dead.has(k)) (ref && !firstOfHost.has(this.ownerOf.get(k)) ? firstOfHost.set(this.ownerOf.get(k), k) : others.push(k));
      await forEachBounded([...firstOfHost.values()], (k) => configure(k, 0));
      await forEachBounded(others, (k) => configure(k, 0, false));
      jobStart = performance.now();
      if (clock !== 'barrier') await this.runLocal(js, alg.rounds, o.roundDeadlineMs, live, record, (k, ms) => void (Number.isNaN(agentDoneMs[k]) && (agentDoneMs[k] = ms)), noLiveAgent);
      else {
        /** Restarted agents and the round they rejoin at (same phase as round 0). */
        const rejoining = new Map<number, { from: number; ready: Promise<boolean> }>();
        for (let t = 0; t < alg.rounds; t++) {
          if (this.signal?.aborted) throw new Error(`run interrupted (${String(this.signal.reason)}) in round ${t} of job ${job}`);
          this.now = { job, t };
          for (const b of o.brokerRestarts ?? []) if (b.round === t) await this.restartBroker(b);
          for (const c of o.crashes ?? []) {
            if (c.round !== t || this.dead.has(c.agent)) continue;
            await this.crash(c.agent, t);
            if (c.restart) {
              const from = t + 1 + ((alg.period - ((t + 1) % alg.period)) % alg.period);
              rejoining.set(c.agent, { from, ready: this.relaunch(c.agent).then(() => configure(c.agent, from)).then(() => true, () => false) });
            }
          }
          for (const [k, r] of rejoining) {
            if (r.from > t || !(await r.ready)) continue;
            this.dead.delete(k);
            this.crashed.delete(k);
            rejoining.delete(k);
            this.addEvent({ round: t, event: 'rejoin', agent: k });
            this.log(`agent ${k} rejoined at round ${t}`);
          }
          const alive = live();
          if (alive.size === 0 && js.failures.size === 0) throw noLiveAgent(t);
          const t0 = performance.now();
          const { entries, wasDisturbed } = await this.collect(job, t, alive, o.roundDeadlineMs);
          if (js.failures.size > 0) break;
          if (t === alg.rounds - 1) for (const k of entries.keys()) agentDoneMs[k] = performance.now() - jobStart;
          record(t, entries, alive.size, performance.now() - t0, wasDisturbed);
        }
      }
    } finally {
      this.round = undefined;
      this.stream = undefined;
      const wallMs = performance.now() - jobStart;
      js.wallMs = jobStart ? wallMs : 0;
      await this.endJob(js);
      this.now = { job, t: -1 };
      if (this.jobState === js) this.jobState = undefined; // a failed job too: the watchdog watches jobs only
    }
    const [first] = js.failures.values();
    if (first) throw new Error(first);
    const counters = addCounters({ ...this.counters }, {});
    const conflicts: Conflict[] = [];
    for (const f of js.finals.values()) {
      addCounters(counters, f.counters);
      conflicts.push(...f.conflicts);
    }
    this.jobState = undefined;
    if (counters.conflicting > 0) {
      const c = conflicts[0];
      throw new Error(
        `job ${job}: ${counters.conflicting} conflicting duplicate message(s), forged traffic on the broker${c ? ` (e.g. two different broadcasts of agent ${c.from} for round ${c.t}, seen by agent ${c.k})` : ''}: the result cannot be trusted; with credentials only an agent's host may publish as it (README, protocol)`,
      );
    }
    return {
      job,
      rounds,
      outputs,
      deaths: this.deaths.slice(deathsBefore),
      events: this.events.slice(eventsBefore),
      counters,
      lost: counters.lost,
      malformed: counters.malformedData + counters.malformedControl + counters.unauthenticated,
      late: counters.late,
      disturbed,
      wallMs: js.wallMs ?? 0,
      staleness: clock === 'async' ? mergeCounts([...js.finals.values()].map((f) => f.staleness ?? {})) : undefined,
      agentRoundMs,
      agentDoneMs,
    };
  }

  /**
   * The local clock: start the job once and watch. Agents advance on their own (on every live
   * neighbour's broadcast of the round, or their deadline) and stream their rounds, batched per
   * host; a round is recorded (its objective evaluated, off the agents' path) once every live
   * agent's entry for it is in. If nothing arrives for a deadline plus a second, the oldest open
   * round is recorded with what it has (its silent agents keep their last output).
   */
  private async runLocal(
    js: JobState,
    R: number,
    deadlineMs: number,
    live: () => Set<number>,
    record: (t: number, entries: Map<number, RoundEntry>, expected: number, latencyMs: number, wasDisturbed: boolean) => void,
    done: (k: number, ms: number) => void,
    noLiveAgent: (t: number) => Error,
  ): Promise<void> {
    const perRound = Array.from({ length: R }, () => new Map<number, RoundEntry>());
    const t0 = performance.now();
    let next = 0, last = t0;
    await new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => settle(() => reject(new Error(`run interrupted (${String(this.signal!.reason)}) in round ${next} of job ${js.job}`)));
      const settle = (f: () => void): void => {
        clearTimeout(timer);
        this.stream = undefined;
        this.signal?.removeEventListener('abort', onAbort); // one job after another must not pile up listeners
        f();
      };
      const advance = (force: boolean): void => {
        try {
          while (next < R && js.failures.size === 0) {
            const entries = perRound[next];
            // entries come from live agents only: fewer than the live agents cannot be complete
            if (!force && entries.size < js.net.nodes - this.dead.size - js.failures.size) break;
            const alive = live();
            if (alive.size === 0) throw noLiveAgent(next);
            if (!force && ![...alive].every((k) => entries.has(k))) break;
            force = false;
            this.now = { job: js.job, t: next };
            const now = performance.now();
            record(next, entries, alive.size, now - last, false);
            last = now;
            next++;
          }
        } catch (e) {
          return settle(() => reject(e));
        }
        if (next >= R || js.failures.size > 0) return settle(resolve);
        clearTimeout(timer);
        timer = setTimeout(() => advance(true), deadlineMs + 1000);
      };
      this.stream = { perRound, wake: () => advance(false), lastRound: (k) => done(k, performance.now() - t0) };
      this.signal?.addEventListener('abort', onAbort, { once: true });
      this.publish(this.subj.control, { type: 'start', job: js.job, gone: [...this.dead.keys()] });
      advance(false);
    });
  }

  /**
   * Announce round t and collect the live agents' entries until all are in or the deadline (plus
   * one second) passed. If the broker connection drops meanwhile, wait until it is back and the
   * hosts registered again, announce the round again (hosts ignore a repeat) and wait anew: the
   * round is then marked disturbed.
   */
  private async collect(job: number, t: number, live: Set<number>, deadlineMs: number): Promise<{ entries: Map<number, RoundEntry>; wasDisturbed: boolean }> {
    const entries = new Map<number, RoundEntry>();
    const outagesBefore = this.outages;
    for (;;) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, deadlineMs + 1000);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        const wake = (): void => {
          for (const k of live) if (!entries.has(k)) return;
          done();
        };
        this.round = { job, t, live, entries, wake };
        this.publish(this.subj.control, { type: 'round', job, t, gone: [...this.dead.keys()] });
        wake();
      });
      const complete = [...live].every((k) => entries.has(k));
      if (complete || !this.outage || this.plannedOutage) break;
      await this.recover();
    }
    return { entries, wasDisturbed: this.outages !== outagesBefore };
  }

  /** After a broker outage: wait until the connection is back and every live host registered again (one recovery at a time). */
  private recover(): Promise<void> {
    this.recovering ??= this.recoverOnce().finally(() => (this.recovering = undefined));
    return this.recovering;
  }

  private async recoverOnce(): Promise<void> {
    await this.reconnected(this.registerTimeoutS * 1000);
    const live = [...this.ownerOf.keys()].filter((k) => !this.dead.has(k));
    try {
      await this.waitFor(live, this.registerTimeoutS);
    } catch {
      for (const k of live) if (!this.registered.has(k)) this.markDead(k, `did not come back within ${this.registerTimeoutS} s after a broker outage`);
    }
  }

  /** Send agent k its configuration and wait for `ready`; a refusal or silence is an error naming k. */
  private async configure(js: JobState, k: number, msg: ConfigureMsg): Promise<void> {
    const deadline = performance.now() + Math.max(CONFIGURE_TIMEOUT_MS, this.registerTimeoutS * 1000);
    for (;;) {
      const outagesBefore = this.outages;
      const answered = new Promise<void>((resolve, reject) => js.awaiting.set(k, { resolve, reject }));
      this.publish(this.subj.configure(k), msg);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), CONFIGURE_TIMEOUT_MS)));
      const r = await Promise.race([answered.then(() => 'ok' as const), timedOut]).finally(() => clearTimeout(timer));
      if (r === 'ok' || this.dead.has(k)) return;
      js.awaiting.delete(k);
      // lost in a broker outage: ask again once the broker is back (the agent answers a repeat again)
      if ((this.outage || this.outages !== outagesBefore) && performance.now() < deadline) {
        if (this.outage) await this.recover();
        continue;
      }
      throw new Error(`agent ${k} did not answer its configuration within ${CONFIGURE_TIMEOUT_MS / 1000} s`);
    }
  }

  /** End the job on every host and collect their final counters (a host that does not answer in time adds none). */
  private async endJob(js: JobState): Promise<void> {
    const hosts = new Set([...this.ownerOf].filter(([k]) => !this.dead.has(k)).map(([, h]) => h));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, FINAL_TIMEOUT_MS);
      js.onFinal = () => {
        if ([...hosts].every((h) => js.finals.has(h))) {
          clearTimeout(timer);
          resolve();
        }
      };
      try {
        this.publish(this.subj.control, { type: 'end', job: js.job });
      } catch {
        clearTimeout(timer);
        resolve();
      }
      js.onFinal();
    });
    js.onFinal = undefined;
  }

  /** Kill the process of agent k (launched alone, see `launch`) and wait until its death is recorded. */
  private async crash(k: number, t: number): Promise<void> {
    const h = this.launcher.hostOf(k);
    if (!h || h.exit) throw new Error(`crash fault: agent ${k} has no live process to kill`);
    if (h.ids.length !== 1) throw new Error(`crash fault: agent ${k} shares its process with ${h.ids.length - 1} other agent(s); launch it isolated`);
    const exited = new Promise((r) => h.child.once('exit', r));
    h.child.kill('SIGKILL');
    await exited;
    this.crashed.add(k);
    this.addEvent({ round: t, event: 'crash', agent: k, detail: 'SIGKILL' });
  }

  /** Wait until a round trip to the broker succeeds again (the client reconnects on its own). */
  private async reconnected(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        if (this.bus.connected) {
          await this.bus.flush();
          return;
        }
      } catch {
        /* not yet */
      }
      if (Date.now() > deadline) throw new Error(`no connection to the broker within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Start a new process for agent k and wait for its registration. */
  private async relaunch(k: number): Promise<void> {
    this.registered.delete(k);
    await this.startHosts([{ host: `h${k}r${++this.relaunches}`, ids: [k] }]);
    await this.waitFor([k], 30, true);
  }

  /** Stop the embedded nats-server, start it again after `downMs`, and wait for every live host to reconnect. */
  private async restartBroker(b: BrokerRestartFault): Promise<void> {
    if (!this.server) throw new Error('brokerRestart fault needs the embedded nats-server (no NATS URL given)');
    const live = [...this.registered].filter((k) => !this.dead.has(k));
    for (const k of live) this.registered.delete(k);
    this.plannedOutage = true;
    try {
      await this.server.stop();
      this.addEvent({ round: b.round, event: 'broker-stop' });
      this.log(`nats-server stopped at round ${b.round}`);
      await new Promise((r) => setTimeout(r, b.downMs));
      await this.server.restart();
      this.addEvent({ round: b.round, event: 'broker-start' });
      this.log(`nats-server started again after ${b.downMs} ms`);
      await this.reconnected(10_000);
      await this.waitFor(live, 30);
    } finally {
      this.plannedOutage = false;
    }
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
    clearInterval(this.watchdog);
    await this.heartbeat?.terminate();
    try {
      this.publish(this.subj.control, { type: 'stop', reason });
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

/** Run `f` over `items` with at most 64 in flight. */
async function forEachBounded<T>(items: T[], f: (x: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(64, queue.length) }, async () => {
      for (let x = queue.shift(); x !== undefined; x = queue.shift()) await f(x);
    }),
  );
}

/** Sum count maps (`{age: count}`). */
export function mergeCounts(maps: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of maps) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function sameOutput(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}
