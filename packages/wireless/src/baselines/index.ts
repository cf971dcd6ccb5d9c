import type { Instance } from '../instance.ts';
import type { Decision } from '../objectives.ts';
import type { Rng } from '../rng.ts';
import { fplinqPower } from './fplinq.ts';
import { equalPower, fullPower, randomPower, strongest } from './simple.ts';
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
  /** strongest: fraction of pairs switched on (default: the best of 0.1, ..., 1 per instance). */
  fraction?: number;
}

/** Run a centralized baseline on one instance (full channel knowledge). */
export function runCentralized(name: CentralizedAlgorithm, inst: Instance, o: CentralizedOptions = {}): Decision {
  const iterations = o.iterations ?? 100;
  const onIteration = o.onIteration && ((t: number, p: Float64Array) => o.onIteration!(t, { kind: 'power', p }));
  const power = (p: Float64Array): Decision => ({ kind: 'power', p });
  switch (name) {
    case 'wmmse':
      return power(wmmsePower(inst, { iterations, onIteration }));
    case 'fplinq':
      return power(fplinqPower(inst, { iterations, onIteration }));
    case 'full':
      return power(fullPower(inst));
    case 'equal':
      return power(equalPower(inst));
    case 'strongest':
      return power(strongest(inst, o.fraction));
    case 'random':
      if (!o.rng) throw new Error('runCentralized: random needs an rng');
      return power(randomPower(inst, o.rng));
    default:
      throw new Error(`runCentralized: unknown algorithm ${JSON.stringify(name)}: expected one of ${CENTRALIZED_ALGORITHMS.join(', ')}`);
  }
}
