/**
 * churn: agent k leaves the network at the start of round `leaveRound` (its transmitter goes
 * silent, p_k = 0) and, with `joinRound`, comes back at the start of that round with a fresh state
 * (the algorithm's init on its local view). Only k is told its own schedule; its neighbours learn
 * of the absence from k's broadcast subject, which carries an absence notice instead of a broadcast
 * in every round k is away (the emulated silence of its beacon: README, protocol).
 */
export interface Absence {
  leaveRound: number;
  joinRound?: number;
}

/** Whether an agent with this schedule is away in round t. */
export function isAway(a: Absence | undefined, t: number): boolean {
  return !!a && t >= a.leaveRound && (a.joinRound === undefined || t < a.joinRound);
}

/** The decision of an agent that is away: p_k = 0 (power control), v_k = 0 (beamforming with Nt antennas). */
export function silentOutput(Nt: number): Float64Array {
  return new Float64Array(Nt > 1 ? 2 * Nt : 1);
}
