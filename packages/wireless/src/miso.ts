import type { Instance } from './instance.ts';
import { csiWithinRange, d2dLayout, type LayoutOptions } from './d2d.ts';
import type { Rng } from './rng.ts';

/** Large-scale gain beta(d) = 4.4e5 / (d^1.88 * 10^(6.3 s / 20)) with shadowing s ~ N(0, 1) (channel-models.md section 3). */
export function misoBeta(d: number, s: number): number {
  return 4.4e5 / (d ** 1.88 * 10 ** ((6.3 * s) / 20));
}

/** Transmit antennas when a MISO network does not say. */
export const MISO_DEFAULT_NT = 2;

export interface MisoOptions extends LayoutOptions {
  /** Transmit antennas (default 2). */
  Nt?: number;
  csiRange?: number;
  /** Weighted sum rate with w_k ~ U[0, 1] (default false). */
  weighted?: boolean;
}

/**
 * MISO beamforming network (channel-models.md section 3): the D2D layout, Nt antennas, h_ij in
 * C^Nt with entries sqrt(beta(d_ij; s)) * CN(0, 1), s drawn per antenna entry; sigma^2 = 1,
 * Pmax = 1. `gain[i * K + j]` holds ||h_ij||. Draw order: layout, then per link (i, j) row-major
 * and per antenna: s, then the complex normal; then weights.
 */
export function misoInstance(rng: Rng, o: MisoOptions): Instance {
  const { K } = o;
  const Nt = o.Nt ?? MISO_DEFAULT_NT;
  const { tx, rx, dist } = d2dLayout(rng, o);
  const hRe = new Float64Array(K * K * Nt), hIm = new Float64Array(K * K * Nt), gain = new Float64Array(K * K);
  for (let i = 0; i < K; i++)
    for (let j = 0; j < K; j++) {
      let norm2 = 0;
      for (let n = 0; n < Nt; n++) {
        const amp = Math.sqrt(misoBeta(dist[i * K + j], rng.normal()));
        const [re, im] = rng.complexNormal();
        const o2 = (i * K + j) * Nt + n;
        hRe[o2] = amp * re;
        hIm[o2] = amp * im;
        norm2 += hRe[o2] ** 2 + hIm[o2] ** 2;
      }
      gain[i * K + j] = Math.sqrt(norm2);
    }
  const weights = new Float64Array(K).fill(1);
  if (o.weighted) for (let k = 0; k < K; k++) weights[k] = rng.uniform();
  const inst: Instance = { model: 'miso', K, Nt, noise: 1, pmax: 1, weights, gain, hRe, hIm, tx, rx };
  if (o.csiRange !== undefined) inst.csi = csiWithinRange(dist, K, o.csiRange);
  return inst;
}
