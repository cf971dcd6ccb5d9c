import type { AgentDeath, InjectedEvent, RoundRecord } from './records.ts';

/**
 * What a run tells an observer while it goes on (the live dashboard, tests): plain JSON-ready
 * data, in order. An observer only watches: it is called synchronously and must return at once
 * (queue and drop rather than block; the rounds never wait for it).
 */
export type RunEvent =
  | { type: 'run'; runId: string; scenario: string; dir: string; jobs: number; sweep?: { key: string; values: number[] }; networks: { name: string; model: string; K: number; instances: number }[] }
  /** A job starts: one algorithm on one instance; geometric models give the positions (x, y interleaved) and every network its CSI edges j -> k (pairs, interleaved). */
  | { type: 'job'; job: number; of: number; point?: number; network: string; instance: number; algorithm: string; kind: 'dmp' | 'centralized'; rounds: number; K: number; tx?: number[]; rx?: number[]; edges: number[]; M?: number }
  | { type: 'round'; job: number; network: string; instance: number; algorithm: string; t: number; record: RoundRecord; normalised: number | null; agents: RoundAgents }
  /** Centralized WMMSE's objective after 0..n iterations on an instance (NaN where not sampled), once known. */
  | { type: 'wmmse'; network: string; instance: number; curve: number[] }
  | { type: 'death'; job: number; network: string; instance: number; death: AgentDeath }
  | { type: 'fault'; job: number; network: string; instance: number; event: InjectedEvent }
  /** A centralized algorithm's result (it has no rounds). */
  | { type: 'result'; job: number; network: string; instance: number; algorithm: string; objective: number }
  | { type: 'end'; status: 'completed' | 'failed'; reason?: string; seconds: number };

/** Per agent in a round: its decision's power (||v||^2 for a beam), and who was dead, timed out or short of messages. */
export interface RoundAgents {
  power: number[];
  dead: number[];
  timedOut: number[];
  /** Neighbour messages missing per agent (0 for most). */
  missing: number[];
}

export type RunObserver = (e: RunEvent) => void;

/** The power of each agent's output ([p] or a beam of 2 Nt reals). */
export function powersOf(outputs: readonly Float64Array[]): number[] {
  return outputs.map((o) => (o.length === 1 ? o[0] : o.reduce((s, x) => s + x * x, 0)));
}
