/**
 * What the dashboard's page draws, live (from the run's events) or from a finished run's files:
 * one instance of one network (at one sweep point), every algorithm's rounds on it, centralized
 * WMMSE's curve, the layout and the agents' last state, and the faults seen.
 */
import type { AgentState, Layout } from '../report/networkLayout.ts';

/** Per round of one DMP algorithm on the instance (index: round t). */
export interface Series {
  objective: number[];
  normalised: (number | null)[];
  messages: number[];
  bytes: number[];
  latencyMs: number[];
  /** Agents timed out, neighbour messages missing (counts per round). */
  timedOut: number[];
  missing: number[];
}

export interface LogEntry {
  kind: string;
  algorithm?: string;
  instance: number;
  round: number;
  agent?: number;
  text: string;
}

export interface Progress {
  job: number;
  of: number;
  point?: number;
  sweepValue?: number;
  network: string;
  instance: number;
  algorithm: string;
  kind: 'dmp' | 'centralized';
  /** Round in progress (the last one reported) and the job's rounds. */
  t: number;
  rounds: number;
}

export interface RunInfo {
  runId: string;
  scenario: string;
  jobs: number;
  sweep?: { key: string; values: number[] };
  networks: { name: string; model: string; K: number; instances: number }[];
  status: 'running' | 'completed' | 'failed';
  reason?: string;
  seconds?: number;
}

export interface View {
  run: RunInfo | null;
  progress: Progress | null;
  point?: number;
  sweepValue?: number;
  network: string;
  model?: string;
  instance: number;
  K: number;
  layout?: Layout;
  /** Centralized WMMSE's objective after 0..n iterations (null where not sampled). */
  wmmse?: (number | null)[];
  series: Record<string, Series>;
  /** Centralized algorithms' objective on the instance. */
  results: Record<string, number>;
  /** The agents' state after a round of an algorithm (live: the latest; files: per algorithm, the last round). */
  agents: Record<string, AgentState & { t: number }>;
  log: LogEntry[];
}

export function emptySeries(): Series {
  return { objective: [], normalised: [], messages: [], bytes: [], latencyMs: [], timedOut: [], missing: [] };
}
