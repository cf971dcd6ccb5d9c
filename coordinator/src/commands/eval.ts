import Table from 'cli-table3';
import { DMP_ALGORITHMS, type MissingPolicy } from '@dmpemu/dmp';
import type { CentralizedAlgorithm } from '@dmpemu/wireless';
import { closeBroker, Coordinator, openBroker } from '../coordinator.ts';
import { evalCentralized, evalDmp, ITERATIVE, mean, type Evaluation } from '../evaluation.ts';
import { readInstancesFile } from '../instancesFile.ts';
import { UsageError } from '../usageError.ts';

export const EVAL_ALGORITHMS = ['wmmse', 'fplinq', 'strongest', 'full', 'random', 'equal', ...DMP_ALGORITHMS] as const;

export interface EvalArgs {
  instances: string;
  algorithm: (typeof EVAL_ALGORITHMS)[number];
  iterations: number;
  seed: number;
  history: boolean;
  /** Absent: centralized. `inprocess`: as a DMP in this process. `nats`: decentralised agents. */
  runtime?: 'nats' | 'inprocess';
  nats?: string;
  agentsPerProcess: number;
  roundDeadlineMs: number;
  policy: MissingPolicy;
  log?: (s: string) => void;
}

/**
 * The stable JSON contract of `dmpemu eval --json`: later versions add fields, never rename these.
 * `rates[n]` is the weighted sum rate (sum rate when all w_k = 1) of instance n in bit/s/Hz;
 * `seconds` the compute time of the algorithm over all instances, file I/O excluded.
 */
export interface EvalResult {
  algorithm: string;
  instances: number;
  meanRate: number;
  rates: number[];
  seconds: number;
  iterations?: number;
  /** With --runtime: where the DMP ran, and its round count. */
  runtime?: string;
  rounds?: number;
  /** Mean objective after each iteration (centralized, with --history) or round (--runtime). */
  history?: number[];
  meanRoundLatencyMs?: number;
  messagesPerRound?: number;
  bytesPerRound?: number;
  deaths?: Evaluation['deaths'];
  malformed?: number;
}

/** DMP form of an algorithm name: `wmmse` runs as `wmmse-dmp` under --runtime. */
function dmpName(name: string): string {
  if ((DMP_ALGORITHMS as readonly string[]).includes(name)) return name;
  if (name === 'wmmse') return 'wmmse-dmp';
  throw new UsageError(`--algorithm ${name} has no DMP form for --runtime; expected one of wmmse, ${DMP_ALGORITHMS.join(', ')}`);
}

export async function evaluate(a: EvalArgs): Promise<EvalResult> {
  const file = readInstancesFile(a.instances);
  const count = file.instances.length;
  if (!a.runtime) {
    if ((DMP_ALGORITHMS as readonly string[]).includes(a.algorithm)) throw new UsageError(`--algorithm ${a.algorithm} is a DMP algorithm: give --runtime nats or --runtime inprocess`);
    const e = evalCentralized(file.instances, a.algorithm as CentralizedAlgorithm, { iterations: a.iterations, seed: a.seed, history: a.history });
    const r: EvalResult = { algorithm: a.algorithm, instances: count, meanRate: mean(e.rates), rates: e.rates, seconds: e.seconds };
    if (ITERATIVE.has(a.algorithm)) r.iterations = a.iterations;
    if (e.history) r.history = e.history;
    return r;
  }
  const spec = { name: dmpName(a.algorithm), iterations: a.iterations };
  const broker = a.runtime === 'nats' ? await openBroker(a.nats, a.log) : undefined;
  let c: Coordinator | undefined;
  try {
    if (broker) {
      c = await Coordinator.start({ broker, log: a.log });
      await c.launch(file.K, a.agentsPerProcess);
    }
    const e = await evalDmp(file.instances, spec, { coordinator: c, roundDeadlineMs: a.roundDeadlineMs, policy: a.policy });
    const { rates, seconds, history, rounds, ...rest } = e;
    return {
      algorithm: a.algorithm,
      instances: count,
      meanRate: mean(rates),
      rates,
      seconds,
      iterations: a.iterations,
      runtime: c ? (c.transportKind === 'nats' ? 'nats' : 'memory') : 'inprocess',
      rounds,
      history,
      ...rest,
    };
  } finally {
    await c?.shutdown();
    if (broker) await closeBroker(broker);
  }
}

export function formatEval(r: EvalResult): string {
  const table = new Table({ head: ['algorithm', 'runtime', 'instances', 'mean rate (bit/s/Hz)', 'min', 'max', 'ms / instance', 'ms / round'], style: { head: [], border: [] } });
  table.push([
    r.iterations ? `${r.algorithm} (${r.iterations} it.)` : r.algorithm,
    r.runtime ? `${r.runtime}, ${r.rounds} rounds` : 'centralized',
    r.instances,
    r.meanRate.toFixed(4),
    Math.min(...r.rates).toFixed(4),
    Math.max(...r.rates).toFixed(4),
    ((r.seconds * 1000) / r.instances).toFixed(3),
    r.meanRoundLatencyMs !== undefined ? r.meanRoundLatencyMs.toFixed(2) : '-',
  ]);
  return table.toString();
}
