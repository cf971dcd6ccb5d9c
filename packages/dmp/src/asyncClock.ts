import { linkUniform } from './deliveryFaults.ts';

/**
 * The async clock (README, clocks): every agent on its own timer. Activation i of agent k comes
 * `periodMs (1 + jitter (2u - 1))` after activation i - 1 (u uniform), and with probability
 * `activation` it is an update: one step of the algorithm's own round schedule, for the agent's
 * local round r (its count of updates so far), from the latest broadcast of each neighbour of the
 * same phase (r mod period), after which the agent broadcasts its message for round r + 1. WMMSE
 * (period 2) thus alternates its two half-steps update by update; a T-layer GNN runs layer r at its
 * r-th update. An agent is done after the algorithm's rounds; round 0's broadcast goes out at the start.
 * The draws hash (seed, i, k): every executor sees the same schedule.
 */
export interface AsyncClock {
  periodMs: number;
  /** Relative jitter of the period, in [0, 1]. */
  jitter: number;
  /** Probability that an activation updates, in (0, 1]. */
  activation: number;
  seed: number;
}

const PERIOD = 11;
const UPDATE = 12;

/** Milliseconds from activation i - 1 (or the start, i = 0) to activation i of agent k, and whether it updates. */
export function activation(c: AsyncClock, k: number, i: number): { afterMs: number; updates: boolean } {
  const u = linkUniform(c.seed, PERIOD, i, k, 0);
  return { afterMs: c.periodMs * (1 + c.jitter * (2 * u - 1)), updates: c.activation >= 1 || linkUniform(c.seed, UPDATE, i, k, 0) < c.activation };
}
