import { performance } from 'node:perf_hooks';
import Table from 'cli-table3';
import { objective, Rng, runCentralized, type CentralizedAlgorithm, type Decision } from '@dmpemu/wireless';
import { readInstancesFile } from '../instancesFile.ts';

export interface EvalArgs {
  instances: string;
  algorithm: CentralizedAlgorithm;
  iterations: number;
  seed: number;
  history: boolean;
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
  /** With --history: mean objective after each iteration (iterative algorithms). */
  history?: number[];
}

const ITERATIVE = new Set<CentralizedAlgorithm>(['wmmse', 'fplinq']);

export function evaluateCentralized(a: EvalArgs): EvalResult {
  const file = readInstancesFile(a.instances);
  const iterative = ITERATIVE.has(a.algorithm);
  const history = a.history && iterative ? new Array<number>(a.iterations).fill(0) : undefined;
  let seconds = 0;
  const rates = file.instances.map((inst, n) => {
    const onIteration = history ? (t: number, d: Decision) => (history[t - 1] += objective(inst, d)) : undefined;
    const rng = Rng.derive(a.seed, n);
    const t0 = performance.now();
    const d = runCentralized(a.algorithm, inst, { iterations: a.iterations, rng, onIteration });
    seconds += (performance.now() - t0) / 1000;
    return objective(inst, d);
  });
  const count = rates.length;
  const result: EvalResult = { algorithm: a.algorithm, instances: count, meanRate: mean(rates), rates, seconds };
  if (iterative) result.iterations = a.iterations;
  if (history) result.history = history.map((s) => s / count);
  return result;
}

function mean(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

export function formatEval(r: EvalResult): string {
  const table = new Table({ head: ['algorithm', 'instances', 'mean rate (bit/s/Hz)', 'min', 'max', 'ms / instance'], style: { head: [], border: [] } });
  table.push([
    r.iterations ? `${r.algorithm} (${r.iterations} it.)` : r.algorithm,
    r.instances,
    r.meanRate.toFixed(4),
    Math.min(...r.rates).toFixed(4),
    Math.max(...r.rates).toFixed(4),
    ((r.seconds * 1000) / r.instances).toFixed(3),
  ]);
  return table.toString();
}
