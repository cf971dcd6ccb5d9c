import { performance } from 'node:perf_hooks';
import { cellFreeMlpPolicy, loadModule, mlpPolicy, nextTurn, runAsyncInProcess, runCellFreeInProcess, runInProcess, type AlgorithmSpec, type CellFreeMlpArchitecture, type Checkpoint, type MissingPolicy } from '@dmpemu/dmp';
import { cellFreeMinRate, cellFreeOptimal, EvolvingChannel, objective, Rng, runCentralized, subInstance, type CellFreeInstance, type CentralizedAlgorithm, type ChannelDynamics, type Decision, type Instance } from '@dmpemu/wireless';
import type { WmmseYardstick } from './yardstick.ts';
import { powersOf, type RoundAgents } from './observer.ts';
import { ITERATIVE, type CellFreeCentralized } from '../scenario/algorithmNames.ts';
import { mergeCounts, type AgentDeath, type Clock, type Coordinator, type InjectedEvent, type JobResult, type RoundRecord } from './coordinator.ts';
import type { ResolvedFaults } from '../scenario/faultPlan.ts';
import { addCounters, zeroCounters, type Counters } from '@dmpemu/wire';

/** Results of one algorithm over a set of instances: what `dmpemu eval` and `dmpemu run` report. */
export interface Evaluation {
  /** Objective (weighted sum rate) per instance. */
  rates: number[];
  /** Compute time over all instances, file I/O excluded. */
  seconds: number;
  /** Mean objective after each iteration (centralized, when asked) or round (DMP). */
  history?: number[];
  /** DMP: rounds, and messages delivered per round (summed over agents, averaged over rounds and instances). */
  rounds?: number;
  messagesPerRound?: number;
  /** DMP over a transport: totals over all rounds of all instances. */
  meanRoundLatencyMs?: number;
  bytesPerRound?: number;
  /** Signalling cost: bits each agent published per round (its broadcast as encoded on the wire), and over all its rounds. */
  bitsPerAgentPerRound?: number;
  bitsPerAgent?: number;
  deaths?: (AgentDeath & { instance: number })[];
  /** Faults the coordinator injected (crashes, rejoins, broker restarts), per instance. */
  events?: (InjectedEvent & { instance: number })[];
  /** Every message dropped as malformed or unauthenticated (data and control), summed over jobs. */
  malformed?: number;
  /** DMP: deliveries dropped by messageLoss or made undecodable by bitErrors. */
  lost?: number;
  /** DMP: broadcasts of a round already closed (in process: deliveries at or past the round deadline). */
  late?: number;
  /** Messages dropped, by kind (@dmpemu/wire COUNTER_KINDS), summed over jobs: agents' and the coordinator's. */
  dropped?: Counters;
  /** async clock: how old the broadcasts used in updates were, in rounds of the algorithm (receiver's round minus the message's): count by age, over all instances. */
  staleness?: Record<string, number>;
  /** Every agent's time per round (its start of the round to its update): median and 95th percentile, ms. */
  agentRoundMs?: { median: number; p95: number };
  /** Per instance, the rounds a broker outage fell into (results there may differ from a run without it). */
  disturbed?: { instance: number; rounds: number[] }[];
}


/** The MLP baseline on every instance (centralized inference from its checkpoint, typed arrays); `silent[n]`: pairs of instance n that transmit nothing and weigh 0 (churn: they left for good). */
export function evalMlp(insts: Instance[], c: Checkpoint, silent?: number[][]): Evaluation {
  const policy = mlpPolicy(c);
  let seconds = 0;
  const rates = insts.map((inst, n) => {
    const t0 = performance.now();
    const p = policy(inst);
    seconds += (performance.now() - t0) / 1000;
    for (const k of silent?.[n] ?? []) p[k] = 0;
    const weights = silent?.[n]?.length ? inst.weights.map((w, k) => (silent[n].includes(k) ? 0 : w)) : inst.weights;
    return objective({ ...inst, weights }, { kind: 'power', p });
  });
  return { rates, seconds };
}

/**
 * A centralized cell-free algorithm on every instance: maximum power (p_k = 1), the optimal
 * algorithm (bisection, cellFreeOptimal) or the MLP of [30] (its checkpoint); the objective is
 * the minimum user rate (eq. 6).
 */
export function evalCellFreeCentralized(insts: CellFreeInstance[], name: CellFreeCentralized, c?: Checkpoint): Evaluation {
  const policy = name === 'cf-mlp' ? cellFreeMlpPolicy(c as Checkpoint<CellFreeMlpArchitecture>) : name === 'optimal' ? (i: CellFreeInstance) => cellFreeOptimal(i).p : (i: CellFreeInstance) => new Float64Array(i.K).fill(1);
  let seconds = 0;
  const rates = insts.map((inst) => {
    const t0 = performance.now();
    const p = policy(inst);
    seconds += (performance.now() - t0) / 1000;
    return cellFreeMinRate(inst, p);
  });
  return { rates, seconds };
}

/** A centralized baseline on every instance; with `history`, the mean objective after every iteration. */
export function evalCentralized(insts: Instance[], name: CentralizedAlgorithm, o: { iterations?: number; seed: number; history?: boolean }): Evaluation {
  const iterations = o.iterations ?? 100;
  const history = o.history && ITERATIVE.has(name) ? new Array<number>(iterations).fill(0) : undefined;
  let seconds = 0;
  const rates = insts.map((inst, n) => {
    const onIteration = history ? (t: number, d: Decision) => (history[t - 1] += objective(inst, d) / insts.length) : undefined;
    const t0 = performance.now();
    const d = runCentralized(name, inst, { iterations, rng: Rng.derive(o.seed, n), onIteration });
    seconds += (performance.now() - t0) / 1000;
    const rate = objective(inst, d);
    if (!Number.isFinite(rate)) throw new Error(`instance ${n}: ${name}'s objective is not finite (${rate})`);
    return rate;
  });
  return { rates, seconds, history };
}

/**
 * faults.channel: per instance, centralized WMMSE-100 on the channel of round t (what a DMP whose
 * last round is t is divided by); with churn, of the network that remains (`leftForGood`: the
 * pairs of instance n that are gone, cut from the evolved channel).
 */
export function wmmse100At(insts: Instance[], channel: (n: number) => ChannelDynamics, t: number, seed: number, leftForGood: (n: number) => readonly number[] = () => []): number[] {
  return insts.map((inst, n) => {
    const whole = new EvolvingChannel(inst, channel(n)).at(t);
    const gone = leftForGood(n);
    const now = gone.length ? subInstance(whole, Array.from({ length: inst.K }, (_, k) => k).filter((k) => !gone.includes(k))) : whole;
    return objective(now, runCentralized('wmmse', now, { iterations: 100, rng: Rng.derive(seed, n) }));
  });
}

export interface DmpEvalOptions {
  /** Agents over a transport; absent: the in-process executor. */
  coordinator?: Coordinator;
  roundDeadlineMs: number;
  policy: MissingPolicy;
  onRound?: (instance: number, r: RoundRecord, agents: RoundAgents) => void;
  /** Instance n's job is about to start. */
  onInstance?: (instance: number) => void;
  /** Deaths and injected faults of instance n's job, as they happen. */
  onDeath?: (instance: number, d: AgentDeath) => void;
  onEvent?: (instance: number, e: InjectedEvent) => void;
  /** Who starts rounds over the agents (default barrier); async needs its schedule (in process: on virtual time). */
  clock?: Clock;
  async?: { periodMs: number; jitter: number; activation: number };
  /** The fault plan resolved for instance n (views, delivery faults, crashes, broker restarts). */
  faultsFor?: (n: number) => ResolvedFaults;
  /** SIGINT/SIGTERM: in process, checked before each instance (the coordinator checks it every round). */
  signal?: AbortSignal;
}

/** A DMP algorithm on every instance, decentralised (a fresh job per instance) or in process. */
export async function evalDmp(insts: Instance[], spec: AlgorithmSpec, o: DmpEvalOptions): Promise<Evaluation> {
  if (spec.module) await loadModule(spec.module); // the in-process executors build it synchronously
  const totals = new JobTotals();
  for (const [n, inst] of insts.entries()) {
    if (!o.coordinator) {
      await nextTurn();
      if (o.signal?.aborted) throw new Error(`run interrupted (${String(o.signal.reason)}) before instance ${n}`);
    }
    const t0 = performance.now();
    let records: RoundRecord[];
    const f = o.faultsFor?.(n);
    o.onInstance?.(n);
    if (o.coordinator) {
      const r = await o.coordinator.runJob(inst, spec, {
        roundDeadlineMs: o.roundDeadlineMs,
        policy: o.policy,
        clock: o.clock,
        async: o.async && { ...o.async, seed: n },
        onRound: (rec, agents) => o.onRound?.(n, rec, agents),
        views: f?.views,
        faults: f?.delivery,
        crashes: f?.crashes,
        churn: f?.churn,
        channel: f?.channel,
        brokerRestarts: f?.brokerRestarts,
        onDeath: (d) => o.onDeath?.(n, d),
        onEvent: (e) => o.onEvent?.(n, e),
      });
      records = r.rounds;
      totals.addJob(n, r);
    } else if (o.clock === 'async') {
      if (!o.async) throw new Error('the async clock needs its schedule (periodMs, jitter, activation)');
      if (f?.churn || f?.channel) throw new Error(`${f.churn ? 'churn' : 'a time-varying channel'} needs rounds: the barrier or local clock, not async`);
      const r = runAsyncInProcess(inst, spec, { ...o.async, seed: n }, { policy: o.policy, views: f?.views, faults: f?.delivery });
      totals.staleness.push(r.staleness);
      totals.addDrops(r);
      records = inProcessRecords(n, r.history, inst.K, r, r.iterationMs);
      // the final outputs with the last round (agents.jsonl records the last round's powers)
      records.forEach((rec, t) => o.onRound?.(n, rec, { power: t === records.length - 1 ? powersOf(r.outputs) : [], dead: [], timedOut: [], missing: r.agentMissing[t] }));
    } else {
      const agents: RoundAgents[] = [];
      const r = runInProcess(inst, spec, { policy: o.policy, views: f?.views, faults: f?.delivery, churn: f?.churn, channel: f?.channel, roundDeadlineMs: o.roundDeadlineMs, onRound: o.onRound && ((_t, out, missing, timedOut) => void agents.push({ power: powersOf(out), dead: [], timedOut, missing })) });
      totals.addDrops(r);
      records = inProcessRecords(n, r.history, inst.K, r);
      records.forEach((rec, t) => o.onRound?.(n, rec, agents[t]));
    }
    totals.addRecords(records, inst.K, (performance.now() - t0) / 1000);
  }
  return totals.evaluation(insts.length, !!o.coordinator, o.clock === 'async');
}

/**
 * A cell-free DMP (AP and user agents) on every instance: over the coordinator's agents (one per
 * AP and per user), or in process. The objective is the minimum user rate (eq. 6).
 */
export async function evalCellFreeDmp(insts: CellFreeInstance[], spec: AlgorithmSpec, o: Pick<DmpEvalOptions, 'coordinator' | 'roundDeadlineMs' | 'policy' | 'clock' | 'onRound' | 'onInstance'>): Promise<Evaluation> {
  const totals = new JobTotals();
  for (const [n, inst] of insts.entries()) {
    const t0 = performance.now();
    const nodes = inst.M + inst.K;
    let records: RoundRecord[];
    o.onInstance?.(n);
    if (o.coordinator) {
      const r = await o.coordinator.runCellFreeJob(inst, spec, { roundDeadlineMs: o.roundDeadlineMs, policy: o.policy, clock: o.clock, onRound: (rec, agents) => o.onRound?.(n, rec, agents) });
      records = r.rounds;
      totals.addJob(n, r);
    } else {
      const r = runCellFreeInProcess(inst, spec);
      records = inProcessRecords(n, r.history, nodes, { received: r.received, missing: r.history.map(() => 0) });
      records.forEach((rec) => o.onRound?.(n, rec, { power: [], dead: [], timedOut: [], missing: new Array<number>(nodes).fill(0) }));
    }
    totals.addRecords(records, nodes, (performance.now() - t0) / 1000);
  }
  return totals.evaluation(insts.length, !!o.coordinator, false);
}

/** What an in-process executor counted per round (timedOut: the barrier executor, the only one with a deadline). */
interface InProcessTraffic {
  received: number[];
  missing: number[];
  timedOut?: number[];
}

/**
 * Round records of instance n's in-process run: its objective history, every one of `nodes` agents
 * reporting, the messages delivered and missing (no bytes: nothing is encoded). An objective that
 * is not finite fails the job, as over NATS (where the coordinator refuses the output that made it).
 */
function inProcessRecords(n: number, history: number[], nodes: number, traffic: InProcessTraffic, atMs?: number[]): RoundRecord[] {
  const bad = history.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new Error(`instance ${n}: the objective after round ${bad} is not finite (${history[bad]})`);
  return history.map((objective, t) => ({ t, objective, messages: traffic.received[t], bytes: 0, latencyMs: 0, ...(atMs ? { atMs: atMs[t] } : {}), reported: nodes, expected: nodes, timedOut: traffic.timedOut?.[t] ?? 0, missing: traffic.missing[t] }));
}

/** What an evaluation sums over its jobs: rates, the mean history, traffic, deaths, drops. */
class JobTotals {
  readonly rates: number[] = [];
  readonly history: number[] = [];
  readonly deaths: NonNullable<Evaluation['deaths']> = [];
  readonly events: NonNullable<Evaluation['events']> = [];
  readonly dropped = zeroCounters();
  readonly disturbed: NonNullable<Evaluation['disturbed']> = [];
  readonly staleness: Record<string, number>[] = [];
  readonly agentMs: number[] = [];
  /** Every instance's round records, in order (the mean history sums them as the loop did). */
  private readonly pending: RoundRecord[][] = [];
  private seconds = 0;
  private messages = 0;
  private bytes = 0;
  private sent = 0;
  private roundCount = 0;
  private agentRounds = 0;
  private wallMs = 0;

  /** What a job over a transport adds besides its rounds. */
  addJob(n: number, r: JobResult): void {
    this.deaths.push(...r.deaths.map((d) => ({ ...d, instance: n })));
    this.events.push(...r.events.map((e) => ({ ...e, instance: n })));
    addCounters(this.dropped, r.counters);
    this.wallMs += r.wallMs;
    for (const ms of r.agentRoundMs) this.agentMs.push(ms);
    if (r.disturbed.length) this.disturbed.push({ instance: n, rounds: r.disturbed });
    if (r.staleness) this.staleness.push(r.staleness);
  }

  /** An in-process run's deliveries dropped by faults (over a transport the agents' counters have them). */
  addDrops(r: { lost: number; late: number }): void {
    this.dropped.lost += r.lost;
    this.dropped.late += r.late;
  }

  /** An instance's rounds (`nodes` agents each), its result (the last round's objective) and compute time. */
  addRecords(records: RoundRecord[], nodes: number, seconds: number): void {
    this.seconds += seconds;
    this.rates.push(records.at(-1)!.objective);
    this.pending.push(records);
    this.roundCount += records.length;
    this.agentRounds += nodes * records.length;
    for (const r of records) {
      this.messages += r.messages;
      this.bytes += r.bytes;
      this.sent += r.sent ?? 0;
    }
  }

  evaluation(instances: number, transport: boolean, async: boolean): Evaluation {
    const history: number[] = [];
    for (const records of this.pending) records.forEach((r, t) => (history[t] = (history[t] ?? 0) + r.objective / instances));
    const e: Evaluation = { rates: this.rates, seconds: this.seconds, history, rounds: history.length };
    if (async) e.staleness = mergeCounts(this.staleness);
    // both executors: the deliveries made and those the faults dropped
    Object.assign(e, { messagesPerRound: this.messages / this.roundCount, lost: this.dropped.lost, late: this.dropped.late });
    if (transport)
      Object.assign(e, {
        // the same in every clock: the jobs' wall time (first round start to the last update) over their rounds
        meanRoundLatencyMs: this.wallMs / this.roundCount,
        agentRoundMs: { median: quantile(this.agentMs, 0.5), p95: quantile(this.agentMs, 0.95) },
        bytesPerRound: this.bytes / this.roundCount,
        bitsPerAgentPerRound: (8 * this.sent) / this.agentRounds,
        bitsPerAgent: ((8 * this.sent) / this.agentRounds) * (this.roundCount / instances),
        deaths: this.deaths,
        events: this.events,
        malformed: this.dropped.malformedData + this.dropped.malformedControl + this.dropped.unauthenticated,
        dropped: this.dropped,
        disturbed: this.disturbed,
      });
    return e;
  }
}

/** The q-quantile of xs (nearest rank); NaN for none. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export function mean(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

/** WMMSE iteration counts a decentralised algorithm is measured against. */
export const OVERTAKE_ITERATIONS = [10, 30, 100] as const;

/**
 * For each of 10, 30, 100 iterations: the smallest number of rounds R after which the DMP's mean
 * objective exceeds centralized WMMSE's after that many iterations by more than floating-point
 * noise (1e-9 relative: the WMMSE DMP equals WMMSE-t after 2t rounds, up to summation order);
 * null: never within its rounds.
 */
export function overtakes(history: number[], y: WmmseYardstick): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const it of OVERTAKE_ITERATIONS) {
    const r = history.findIndex((v) => v > y.history[it] * (1 + 1e-9));
    out[`wmmse${it}`] = r < 0 ? null : r + 1;
  }
  return out;
}
