import type { Instance } from '../instance.ts';
import type { Decision } from '../objectives.ts';
import type { Rng } from '../rng.ts';
import { wmmsePower } from './wmmse.ts';

export const CENTRALIZED_ALGORITHMS = ['wmmse', 'fplinq', 'strongest', 'full', 'random', 'equal'] as const;
export type CentralizedAlgorithm = (typeof CENTRALIZED_ALGORITHMS)[number];

export interface CentralizedOptions {
  /** Iterations of the iterative algorithms (wmmse, fplinq); default 100. */
  iterations?: number;
  /** Randomness for `random`. */
  rng?: Rng;
  /** Called after every iteration of an iterative algorithm with the current decision. */
  onIteration?: (t: number, d: Decision) => void;
}

/** Run a centralized baseline on one instance (full channel knowledge). */
export function runCentralized(name: CentralizedAlgorithm, inst: Instance, o: CentralizedOptions = {}): Decision {
  const iterations = o.iterations ?? 100;
  switch (name) {
    case 'wmmse':
      return {
        kind: 'power',
        p: wmmsePower(inst, { iterations, onIteration: o.onIteration && ((t, p) => o.onIteration!(t, { kind: 'power', p })) }),
      };
    default:
      throw new Error(`runCentralized: ${name} not written yet`);
  }
}
