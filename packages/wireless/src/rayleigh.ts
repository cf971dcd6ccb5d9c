import type { Instance } from './instance.ts';
import { Rng } from './rng.ts';

export interface RayleighOptions {
  K: number;
  /** SNR in dB: sigma^2 = 10^(-snrDb/10) with Pmax = 1 (channel-models.md section 1). */
  snrDb: number;
  /** Draw w_k ~ U[0, 1] instead of all ones. */
  weighted?: boolean;
}

/** Rayleigh K-user interference channel: h_ij ~ CN(0, 1) i.i.d., complete interference graph. */
export function rayleighInstance(rng: Rng, o: RayleighOptions): Instance {
  const K = o.K;
  const gain = new Float64Array(K * K);
  for (let i = 0; i < K * K; i++) {
    const [re, im] = rng.complexNormal();
    gain[i] = Math.hypot(re, im);
  }
  const weights = new Float64Array(K).fill(1);
  if (o.weighted) for (let k = 0; k < K; k++) weights[k] = rng.uniform();
  return { model: 'rayleigh-ic', K, Nt: 1, noise: 10 ** (-o.snrDb / 10), pmax: 1, weights, gain };
}
