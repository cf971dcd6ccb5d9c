/** What a job records: its rounds, the agents that died, what happened to it (faults, outages). */
/** What the coordinator records for every round of a job. */
export interface RoundRecord {
  t: number;
  /** True weighted sum rate of the current decisions (full channel knowledge). */
  objective: number;
  /** Data-plane deliveries and bytes received by agents in this round. */
  messages: number;
  bytes: number;
  /** Bytes the agents that reported published (their broadcasts of the round, as encoded on the wire). */
  sent?: number;
  /** From round start to the last report (or the deadline); local and async clocks: since the previous round was recorded. */
  latencyMs: number;
  /** When the round was recorded, ms after the job started (the objective over time). */
  atMs?: number;
  /** Agents that reported / were expected (live at round start). */
  reported: number;
  expected: number;
  /** Agents whose round closed on the deadline with neighbour messages missing. */
  timedOut: number;
  /** Neighbour messages missing in aggregates, summed over agents. */
  missing: number;
  /** A broker outage fell into this round: messages may have been lost (the result is marked). */
  disturbed?: boolean;
}

export interface AgentDeath {
  k: number;
  job: number;
  /** Round in progress when the death was noticed (-1: before the first round). */
  round: number;
  cause: string;
}

/** What happened to the run (faults the coordinator injected, outages it saw), with when. */
export interface InjectedEvent {
  round: number;
  event: 'crash' | 'rejoin' | 'broker-stop' | 'broker-start' | 'broker-outage' | 'host-unheard';
  agent?: number;
  detail?: string;
}

