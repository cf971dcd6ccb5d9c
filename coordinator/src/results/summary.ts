/** What a run of a scenario found: per network and algorithm, and per sweep point (summary.json). */
import { mean, type Evaluation } from '../run/evaluation.ts';
import type { Faults } from '../scenario/scenario.ts';
import type { Normaliser } from '../scenario/algorithmNames.ts';

/**
 * One algorithm on one network, over all its instances: its evaluation (rates, history, traffic,
 * deaths, dropped messages... as run/evaluation.ts defines them) and what the summary adds.
 */
export interface AlgorithmSummary extends Evaluation {
  algorithm: string;
  kind: 'dmp' | 'centralized';
  runtime: 'nats' | 'memory' | 'inprocess' | 'centralized';
  /** Iterations of an iterative centralized algorithm (a DMP's count is `rounds`). */
  iterations?: number;
  meanRate: number;
  /** meanRate / the mean normaliser (the run's normaliseBy: centralized WMMSE-100, Best FPLinQ, or cell-free's optimal) on the same instances. */
  normalised: number;
  /** Over instances: the rate's mean, standard deviation and 95% interval, and the same of each instance's rate over its normaliser. */
  spread?: { rate: Spread; normalised: Spread };
  /** A learned algorithm: its architecture's kind and the size of the set it was trained on (its checkpoint's trainingSetSize). */
  trained?: { kind: string; trainingSetSize: number | string };
  /** faults.channel: the mean normaliser this algorithm is divided by, WMMSE-100 on the channel of its last round (not the network's, on round 0's). */
  normaliserAtEnd?: number;
  /** DMP: the smallest round count after which it beats centralized WMMSE with 10 / 30 / 100 iterations. */
  overtakes?: Record<string, number | null>;
}

/** Mean, sample standard deviation and a 95% interval of the mean (normal: mean +- 1.96 s / sqrt n; one value: no interval). */
export interface Spread {
  mean: number;
  std: number;
  ci95: [number, number] | null;
}

export function spreadOf(xs: number[]): Spread {
  const m = mean(xs);
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1)) : 0;
  const h = (1.96 * std) / Math.sqrt(xs.length);
  return { mean: m, std, ci95: xs.length > 1 ? [m - h, m + h] : null };
}

/**
 * One algorithm's summary: `normalised` is the ratio of means (mean rate over the mean
 * normaliser, as the papers report); `spread` gives the rate's spread over instances and the
 * per-instance ratios' (each instance's rate over its own normaliser).
 */
export function summarise(e: Evaluation, refMean: number, perInstance: number[]): Omit<AlgorithmSummary, 'algorithm' | 'kind' | 'runtime' | 'iterations'> {
  const { rates, ...rest } = e;
  return { meanRate: mean(rates), normalised: mean(rates) / refMean, spread: { rate: spreadOf(rates), normalised: spreadOf(rates.map((r, n) => r / perInstance[n])) }, rates, ...rest };
}

export interface NetworkSummary {
  network: string;
  model: string;
  /** Pairs; a cell-free network: its users (and M its access points). */
  K: number;
  M?: number;
  instances: number;
  /** Centralized WMMSE-100's mean objective (pair networks). */
  wmmse100?: number;
  /** The mean of the run's normaliser (normaliseBy) on these instances: wmmse100, Best FPLinQ's or (cell-free) the optimal algorithm's. */
  normaliser: number;
  /** Mean objective of centralized WMMSE after i iterations, i = 0.. (0: the start p = Pmax); empty for cell-free networks. */
  wmmseHistory: number[];
  /** Edges removed from the agents' local views by missing CSI, summed over instances. */
  removedEdges: number;
  /** faults.churn: agents that leave during a job, summed over instances (a rate is rounded to whole agents, at least one). */
  churnedAgents?: number;
  /** A network read from the user's instance file: its path and sha256. */
  file?: { path: string; sha256: string };
  /** The instances it ran on, relative to the run directory (outputs.instances): `dmpemu eval --instances` re-runs them. */
  instancesFile?: string;
  algorithms: AlgorithmSummary[];
}

/** faults.churn: the agents that left, per instance (a mean where the instances differ); '-' without churn. */
export function churnPerInstance(net: NetworkSummary): string {
  return net.churnedAgents === undefined ? '-' : String(+(net.churnedAgents / net.instances).toFixed(2));
}

export interface RunSummary {
  runId: string;
  scenario: string;
  status: 'completed' | 'failed';
  reason?: string;
  /** What `normalised` divides by: wmmse-100, best-fplinq or optimal (the scenario's normaliseBy, as normaliserOf reads it). */
  normaliseBy: Normaliser;
  transport?: string;
  startedAt: string;
  finishedAt?: string;
  seconds?: number;
  /** The fault plan as resolved (per sweep point when sweeping). */
  faults: Faults;
  /** Results per network (no sweep). */
  networks: NetworkSummary[];
  /**
   * With a sweep: its title (the key, or the keys joined), the keys and, per point, the value (of a
   * one-key sweep; with several keys the point's index, `values` what it set and `label` its
   * name), the fault plan and results per network.
   */
  sweep?: { key: string; keys: string[]; points: { value: number; values?: Record<string, number>; label?: string; faults: Faults; networks: NetworkSummary[] }[] };
}
