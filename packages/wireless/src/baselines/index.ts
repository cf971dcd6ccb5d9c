import { isMiso, type Instance } from '../instance.ts';
import type { Decision } from '../objectives.ts';
import type { Rng } from '../rng.ts';
import { bestFplinqPower } from './bestFplinq.ts';
import { fplinqPower } from './fplinq.ts';
import { equalBeams, equalPower, fullBeams, fullPower, randomPower, strongest } from './simple.ts';
import { wmmsePower } from './wmmse.ts';
import { wmmseBeamforming } from './wmmseBeamforming.ts';

export const CENTRALIZED_ALGORITHMS = ['wmmse', 'fplinq', 'best-fplinq', 'strongest', 'full', 'random', 'equal'] as const;
export type CentralizedAlgorithm = (typeof CENTRALIZED_ALGORITHMS)[number];
/** The centralized baselines that run on MISO networks (the others do power control only). */
export const MISO_CENTRALIZED: readonly CentralizedAlgorithm[] = ['wmmse', 'full', 'equal'];

/** Throws unless `name` runs on a network of `model` with Nt transmit antennas (MISO: Nt > 1, or a miso instance). */
export function checkCentralizedNetwork(name: CentralizedAlgorithm, model: string, Nt: number, miso = Nt > 1): void {
  if (miso && !MISO_CENTRALIZED.includes(name))
    throw new Error(`runCentralized: ${name} is SISO-only (power control); this ${model} instance has Nt = ${Nt} transmit antennas: use ${MISO_CENTRALIZED.join(', ').replace(/, (?=[^,]*$)/, ' or ')}`);
}

export interface CentralizedOptions {
  /** Iterations of the iterative algorithms (wmmse, fplinq); default 100. */
  iterations?: number;
  /** Randomness for `random` and the random starts of `best-fplinq`. */
  rng?: Rng;
  /**
   * Called after every iteration of an iterative algorithm (wmmse, fplinq; on MISO: beamforming
   * WMMSE) with the current decision; its arrays are reused between calls, copy them to keep them.
   */
  onIteration?: (t: number, d: Decision) => void;
  /** strongest: fraction of pairs switched on (default: the best of 0.1, ..., 1 per instance). */
  fraction?: number;
}

/**
 * Run a centralized baseline on one instance (full channel knowledge). SISO instances get powers
 * ({kind: 'power'}). MISO instances (isMiso) get beams ({kind: 'beam'}): 'wmmse' is WMMSE
 * beamforming from uniform beams, 'full' the uniform beams v_k = sqrt(Pmax / Nt) * 1, 'equal' the
 * uniform beams at the best common power; 'fplinq', 'best-fplinq' (FPLinQ from full power and 100
 * random starts, the best run: bestFplinq.ts), 'strongest' and 'random' are SISO-only.
 */
export function runCentralized(name: CentralizedAlgorithm, inst: Instance, o: CentralizedOptions = {}): Decision {
  const iterations = o.iterations ?? 100;
  if (isMiso(inst)) return runMiso(name, inst, iterations, o);
  const onIteration = o.onIteration && ((t: number, p: Float64Array) => o.onIteration!(t, { kind: 'power', p }));
  const power = (p: Float64Array): Decision => ({ kind: 'power', p });
  switch (name) {
    case 'wmmse':
      return power(wmmsePower(inst, { iterations, onIteration }));
    case 'fplinq':
      return power(fplinqPower(inst, { iterations, onIteration }));
    case 'best-fplinq':
      if (!o.rng) throw new Error('runCentralized: best-fplinq needs an rng (its random starts)');
      return power(bestFplinqPower(inst, { iterations, rng: o.rng }).p);
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
      throw unknown(name);
  }
}

function runMiso(name: CentralizedAlgorithm, inst: Instance, iterations: number, o: CentralizedOptions): Decision {
  switch (name) {
    case 'wmmse': {
      const onIteration = o.onIteration && ((t: number, vRe: Float64Array, vIm: Float64Array) => o.onIteration!(t, { kind: 'beam', vRe, vIm }));
      return { kind: 'beam', ...wmmseBeamforming(inst, { iterations, onIteration }) };
    }
    case 'full':
      return { kind: 'beam', ...fullBeams(inst) };
    case 'equal':
      return { kind: 'beam', ...equalBeams(inst) };
    case 'fplinq':
    case 'best-fplinq':
    case 'strongest':
    case 'random':
      checkCentralizedNetwork(name, inst.model, inst.Nt, true);
      throw new Error('unreachable');
    default:
      throw unknown(name);
  }
}

function unknown(name: never): Error {
  return new Error(`runCentralized: unknown algorithm ${JSON.stringify(name)}: expected one of ${CENTRALIZED_ALGORITHMS.join(', ')}`);
}
