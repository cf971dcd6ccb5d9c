import type { Instance } from './instance.ts';
import type { Rng } from './rng.ts';

export interface RegnnAdhocOptions {
  /** m: number of pairs. */
  K: number;
  /** Noise power sigma^2 (default 1; the paper also uses 0.5 and 2). */
  noise?: number;
  /** Keep the large-scale amplitudes d^-1.1 in `largeScale` (faults.channel). */
  largeScale?: boolean;
}

/**
 * Random-geometric ad-hoc network of the REGNN paper (channel-models.md section 4): transmitter i
 * uniform in [-m, m]^2, receiver i uniform in [t_i - m/4, t_i + m/4]^2; power gain
 * ||t_i - r_j||^(-2.2) times Rayleigh fading |CN(0, 1)|^2 (exponential, mean 1); `gain` holds
 * amplitudes; full CSI, Pmax = 1. Draw order: positions, then per link row-major the fading.
 */
export function regnnAdhocInstance(rng: Rng, o: RegnnAdhocOptions): Instance {
  const m = o.K;
  const tx = new Float64Array(2 * m), rx = new Float64Array(2 * m);
  for (let i = 0; i < m; i++) {
    tx[2 * i] = rng.range(-m, m);
    tx[2 * i + 1] = rng.range(-m, m);
    rx[2 * i] = rng.range(tx[2 * i] - m / 4, tx[2 * i] + m / 4);
    rx[2 * i + 1] = rng.range(tx[2 * i + 1] - m / 4, tx[2 * i + 1] + m / 4);
  }
  const gain = new Float64Array(m * m);
  const large = o.largeScale ? new Float64Array(m * m) : undefined;
  for (let i = 0; i < m; i++)
    for (let j = 0; j < m; j++) {
      const d = Math.hypot(tx[2 * i] - rx[2 * j], tx[2 * i + 1] - rx[2 * j + 1]);
      const [re, im] = rng.complexNormal();
      gain[i * m + j] = Math.sqrt(d ** -2.2 * (re * re + im * im));
      if (large) large[i * m + j] = Math.sqrt(d ** -2.2);
    }
  const inst: Instance = { model: 'regnn-adhoc', K: m, Nt: 1, noise: o.noise ?? 1, pmax: 1, weights: new Float64Array(m).fill(1), gain, tx, rx };
  if (large) inst.largeScale = large;
  return inst;
}
