import type { Instance } from '../instance.ts';
import { objective } from '../objectives.ts';
import type { Rng } from '../rng.ts';
import { uniformBeams } from './wmmseBeamforming.ts';

/** Full power: p_k = Pmax for every pair. */
export function fullPower(inst: Instance): Float64Array {
  return new Float64Array(inst.K).fill(inst.pmax);
}

/** Random power: p_k ~ U[0, Pmax]. */
export function randomPower(inst: Instance, rng: Rng): Float64Array {
  return Float64Array.from({ length: inst.K }, () => rng.uniform() * inst.pmax);
}

/**
 * Equal power: every pair transmits the same power c, the best of c in {Pmax/20, 2 Pmax/20, ...,
 * Pmax} for this instance (with Pmax = 1 and no noise-limited regime it is often full power).
 */
export function equalPower(inst: Instance): Float64Array {
  let best = fullPower(inst);
  let bestValue = objective(inst, { kind: 'power', p: best });
  for (let n = 1; n < 20; n++) {
    const p = new Float64Array(inst.K).fill((n / 20) * inst.pmax);
    const v = objective(inst, { kind: 'power', p });
    if (v > bestValue) [best, bestValue] = [p, v];
  }
  return best;
}

/**
 * Strongest (MPGNN paper, section V-A): the pairs with the largest w_k |h_kk|^2 transmit at Pmax,
 * the rest are off. `fraction` of the pairs (at least one); without it, the best fraction of
 * {0.1, 0.2, ..., 1} for this instance.
 */
export function strongest(inst: Instance, fraction?: number): Float64Array {
  const { K, gain, weights } = inst;
  const order = Array.from({ length: K }, (_, k) => k).sort((a, b) => weights[b] * gain[b * K + b] ** 2 - weights[a] * gain[a * K + a] ** 2);
  const pick = (f: number): Float64Array => {
    const p = new Float64Array(K);
    for (const k of order.slice(0, Math.max(1, Math.round(f * K)))) p[k] = inst.pmax;
    return p;
  };
  if (fraction !== undefined) {
    if (!(fraction > 0 && fraction <= 1)) throw new Error(`strongest: fraction must be in (0, 1], got ${fraction}`);
    return pick(fraction);
  }
  let best = pick(1);
  let bestValue = objective(inst, { kind: 'power', p: best });
  for (let n = 1; n < 10; n++) {
    const p = pick(n / 10);
    const v = objective(inst, { kind: 'power', p });
    if (v > bestValue) [best, bestValue] = [p, v];
  }
  return best;
}

/** MISO full power: every transmitter sends the uniform beam v_k = sqrt(Pmax / Nt) * 1 (||v_k||^2 = Pmax). */
export function fullBeams(inst: Instance): { vRe: Float64Array; vIm: Float64Array } {
  return uniformBeams(inst);
}

/**
 * MISO equal power: the uniform beam v_k = sqrt(c / Nt) * 1 with the same power c for every pair,
 * the best of c in {Pmax/20, 2 Pmax/20, ..., Pmax} for this instance (the MISO form of equalPower).
 */
export function equalBeams(inst: Instance): { vRe: Float64Array; vIm: Float64Array } {
  let best = uniformBeams(inst);
  let bestValue = objective(inst, { kind: 'beam', ...best });
  for (let n = 1; n < 20; n++) {
    const v = uniformBeams(inst, (n / 20) * inst.pmax);
    const value = objective(inst, { kind: 'beam', ...v });
    if (value > bestValue) [best, bestValue] = [v, value];
  }
  return best;
}
