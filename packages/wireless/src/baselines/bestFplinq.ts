import type { Instance } from '../instance.ts';
import { objective } from '../objectives.ts';
import type { Rng } from '../rng.ts';
import { fplinqPower } from './fplinq.ts';

/** Random initial points of Best FPLinQ (section VI-A of gnn-wireless-theory-to-practice-dmp.md: 100), besides the full-power start. */
export const BEST_FPLINQ_STARTS = 100;

export interface BestFplinqResult {
  /** The powers of the best run. */
  p: Float64Array;
  /** Its objective (weighted sum rate). */
  value: number;
  /** The objective of every run: [0] from full power, then the random starts in draw order. */
  runs: number[];
}

/**
 * Best FPLinQ (section VI-A, benchmark 6 of the DMP paper, "often regarded as the highest
 * achievable" sum rate): FPLinQ for `iterations` from p = Pmax and from `starts` random points
 * p0_k ~ U[0, Pmax] (drawn from `rng`, K per start, in order), keeping the run of the highest
 * objective (the first of equals). Centralized: it needs the whole channel.
 */
export function bestFplinqPower(inst: Instance, o: { rng: Rng; iterations: number; starts?: number }): BestFplinqResult {
  const starts = o.starts ?? BEST_FPLINQ_STARTS;
  let best = fplinqPower(inst, { iterations: o.iterations });
  let value = objective(inst, { kind: 'power', p: best });
  const runs = [value];
  for (let s = 0; s < starts; s++) {
    const p0 = Float64Array.from({ length: inst.K }, () => o.rng.uniform() * inst.pmax);
    const p = fplinqPower(inst, { iterations: o.iterations, p0 });
    const v = objective(inst, { kind: 'power', p });
    runs.push(v);
    if (v > value) [best, value] = [p, v];
  }
  return { p: best, value, runs };
}
