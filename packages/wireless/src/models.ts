import type { Instance, ModelName } from './instance.ts';
import { d2dInstance, type D2dOptions } from './d2d.ts';
import { misoInstance } from './miso.ts';
import { rayleighInstance } from './rayleigh.ts';
import { regnnAdhocInstance } from './regnnAdhoc.ts';
import type { Rng } from './rng.ts';

/** Model parameters a user can set (CLI flags, scenario keys). Defaults per model below. */
export interface GenerateOptions {
  K: number;
  /** d2d, regnn-adhoc: keep the large-scale amplitudes in `largeScale` (a time-varying channel needs them; rayleigh-ic's are 1). */
  largeScale?: boolean;
  /** rayleigh-ic: SNR in dB (sigma^2 = 10^(-snrDb/10)). */
  snrDb?: number;
  /** Draw w_k ~ U[0, 1] (rayleigh-ic, d2d, miso); default true for d2d (Tables II-IV are weighted), false otherwise. */
  weighted?: boolean;
  /** d2d / miso: side of the square field in metres. */
  field?: number;
  /** d2d / miso: direct-link distance range in metres. */
  dmin?: number;
  dmax?: number;
  /** d2d / miso: CSI range D in metres (absent: full CSI). */
  csiRange?: number;
  /** d2d: path-loss model, line of sight, antenna heights (m) and transmit power (dBm); see D2dOptions. */
  pathLoss?: D2dOptions['pathLoss'];
  los?: D2dOptions['los'];
  txHeight?: D2dOptions['txHeight'];
  rxHeight?: D2dOptions['rxHeight'];
  txPower?: D2dOptions['txPower'];
  /** miso: transmit antennas. */
  Nt?: number;
  /** regnn-adhoc: noise power sigma^2. */
  noise?: number;
}

/** Draw one instance of a model. */
export function generateInstance(model: ModelName, rng: Rng, o: GenerateOptions): Instance {
  switch (model) {
    case 'rayleigh-ic':
      return rayleighInstance(rng, { K: o.K, snrDb: o.snrDb ?? 10, weighted: o.weighted });
    case 'd2d':
      return d2dInstance(rng, o);
    case 'miso':
      return misoInstance(rng, o);
    case 'regnn-adhoc':
      return regnnAdhocInstance(rng, o);
  }
}
