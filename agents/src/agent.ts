import { createAlgorithm, isLost, linkDelayMs, NodeRunner, publishDelayMs, type AlgorithmSpec } from '@dmpemu/dmp';
import {
  configureSchema,
  decode,
  encode,
  isBroadcast,
  parseControl,
  type BroadcastMsg,
  type ConfigureMsg,
  type ReportMsg,
  type Subjects,
  type Transport,
} from '@dmpemu/wire';

/** Counters an agent keeps over its lifetime; reported with every round. */
export interface AgentCounters {
  malformed: number;
  late: number;
  lost: number;
}

/**
 * One agent k: knows only the local view the coordinator sent it, subscribes only to its own
 * control subject and its neighbours' broadcast subjects, and runs its node of the DMP algorithm.
 * Per round: broadcast, collect the neighbours' broadcasts until all arrived or the deadline,
 * update, report.
 */
export class Agent {
  private runner: NodeRunner<unknown> | undefined;
  private config: ConfigureMsg | undefined;
  private subs: { unsubscribe(): void }[] = [];
  private readonly controlSub: { unsubscribe(): void };
  /** Round in progress (-1: none). */
  private t = -1;
  private open = false;
  private timer: NodeJS.Timeout | undefined;
  /** Broadcasts of rounds not yet started here (the round message can trail a fast neighbour's broadcast). */
  private early = new Map<number, { m: BroadcastMsg; lost: boolean }[]>();
  private bytesIn = 0;
  private bytesOut = 0;
  readonly counters: AgentCounters = { malformed: 0, late: 0, lost: 0 };

  constructor(
    readonly k: number,
    private readonly bus: Transport,
    private readonly subj: Subjects,
    private readonly decodeData: (bytes: Uint8Array) => unknown = decode,
  ) {
    this.controlSub = bus.subscribe(subj.agent(k), (data, reply) => this.onConfigure(data, reply()));
  }

  get configured(): boolean {
    return this.config !== undefined;
  }

  private onConfigure(data: Uint8Array, reply?: string): void {
    let msg: unknown;
    try {
      msg = decode(data);
    } catch {
      this.counters.malformed++;
      return;
    }
    const r = parseControl(configureSchema, msg);
    const answer = (m: object): void => {
      if (reply) this.bus.publish(reply, encode(m));
    };
    if (!r.ok) {
      this.counters.malformed++;
      const job = typeof (msg as { job?: unknown })?.job === 'number' ? (msg as { job: number }).job : 0;
      return answer({ type: 'refused', job, k: this.k, reason: `configure: ${r.reason}` });
    }
    const c = r.value as ConfigureMsg;
    if (c.view.k !== this.k) return answer({ type: 'refused', job: c.job, k: this.k, reason: `configure: view is for agent ${c.view.k}, this is agent ${this.k}` });
    let runner: NodeRunner<unknown>;
    try {
      runner = new NodeRunner(createAlgorithm(c.algorithm as AlgorithmSpec, c.view.Nt), c.view, c.policy);
    } catch (e) {
      return answer({ type: 'refused', job: c.job, k: this.k, reason: (e as Error).message });
    }
    this.reset();
    this.config = c;
    this.runner = runner;
    for (const j of c.view.neighbours) this.subs.push(this.bus.subscribe(this.subj.broadcast(j), (d) => this.onBroadcast(d)));
    answer({ type: 'ready', job: c.job, k: this.k });
  }

  /** Round t of `job` starts: publish this agent's broadcast and wait for the neighbours'. */
  startRound(job: number, t: number, gone: number[]): void {
    const runner = this.runner;
    if (!runner || !this.config || job !== this.config.job || t <= this.t || t < this.config.fromRound) return;
    runner.setGone(gone);
    this.t = t;
    this.open = true;
    this.bytesIn = 0;
    const out = encode([job, t, this.k, runner.broadcast(t)] satisfies BroadcastMsg);
    this.bytesOut = out.length;
    const straggle = publishDelayMs(this.config.faults, this.k);
    if (straggle > 0) setTimeout(() => this.bus.publish(this.subj.broadcast(this.k), out), straggle);
    else this.bus.publish(this.subj.broadcast(this.k), out);
    for (const e of this.early.get(t) ?? []) this.use(e.m, e.lost);
    this.early.delete(t);
    if (runner.complete()) this.finish(false);
    else this.timer = setTimeout(() => this.finish(true), this.config.roundDeadlineMs);
  }

  private onBroadcast(data: Uint8Array): void {
    let m: unknown;
    try {
      m = this.decodeData(data);
    } catch {
      this.counters.malformed++;
      return;
    }
    const runner = this.runner;
    if (!isBroadcast(m) || !runner || runner.slot(m[2]) < 0) {
      this.counters.malformed++;
      return;
    }
    const [job, t, from] = m;
    const faults = this.config!.faults;
    if (job !== this.config!.job) return void this.counters.late++;
    // messageLoss is emulated here, on arrival: the agent then knows the message is missing and
    // need not wait for the deadline (the aggregate is the same as after a real loss).
    const lost = isLost(faults, t, from, this.k);
    const delay = lost ? 0 : linkDelayMs(faults, t, from, this.k);
    if (delay > 0) setTimeout(() => this.accept(m, data.length, false), delay);
    else this.accept(m, data.length, lost);
  }

  /** A valid broadcast of this job reaches the agent: use it, keep it for its round, or count it late. */
  private accept(m: BroadcastMsg, size: number, lost: boolean): void {
    const [job, t] = m;
    if (job !== this.config?.job || t < this.t || (t === this.t && !this.open)) {
      this.counters.late++;
      return;
    }
    if (lost) this.counters.lost++;
    else this.bytesIn += size;
    if (t > this.t) {
      const list = this.early.get(t) ?? [];
      list.push({ m, lost });
      this.early.set(t, list);
      return;
    }
    this.use(m, lost);
    if (this.runner!.complete()) this.finish(false);
  }

  /** Hand a broadcast of the current round to the node (or tell it the message is lost). */
  private use(m: BroadcastMsg, lost: boolean): void {
    const [, t, from, b] = m;
    const ok = lost ? this.runner!.skip(from) : this.runner!.receive(t, from, b);
    if (!ok) this.counters.malformed++;
  }

  private finish(timedOut: boolean): void {
    if (!this.open || !this.runner || !this.config) return;
    clearTimeout(this.timer);
    this.open = false;
    const outcome = this.runner.update(this.t);
    const report: ReportMsg = {
      type: 'report',
      job: this.config.job,
      t: this.t,
      k: this.k,
      output: this.runner.output(),
      received: outcome.received,
      missing: outcome.missing,
      bytesOut: this.bytesOut,
      bytesIn: this.bytesIn,
      malformed: this.counters.malformed,
      late: this.counters.late,
      lost: this.counters.lost,
      timedOut,
    };
    this.bus.publish(this.subj.report, encode(report));
  }

  private reset(): void {
    clearTimeout(this.timer);
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
    this.early.clear();
    this.t = -1;
    this.open = false;
  }

  close(): void {
    this.reset();
    this.controlSub.unsubscribe();
  }
}
