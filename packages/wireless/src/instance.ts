/** The network models of ../shared/docs/channel-models.md. */
export const MODEL_NAMES = ['rayleigh-ic', 'd2d', 'miso', 'regnn-adhoc'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** The largest network dmpemu runs (pairs), and the most transmit antennas (README, Limits). */
export const MAX_K = 10_000;
export const MAX_NT = 64;
/** The most access points of a cell-free network, and so the most agents of any network: M access points and K users. */
export const MAX_CELL_FREE_APS = 10_000;
export const MAX_AGENTS = MAX_K + MAX_CELL_FREE_APS;

/**
 * One drawn network. Conventions (channel-models.md): pair k = transmitter k + receiver k;
 * `gain[i * K + j]` is the amplitude |h_ij| from transmitter i to receiver j; powers are
 * normalised to 0 <= p_k <= pmax.
 */
export interface Instance {
  model: ModelName;
  K: number;
  /** Transmit antennas: 1 for SISO power control, >1 for MISO beamforming. */
  Nt: number;
  /** Noise power sigma^2 at every receiver. */
  noise: number;
  pmax: number;
  /** Rate weights w_k. */
  weights: Float64Array;
  /** Amplitudes |h_ij| (for MISO: the norm ||h_ij||), row-major K x K, transmitter i to receiver j. */
  gain: Float64Array;
  /** MISO only: h_ij in C^Nt at offset (i * K + j) * Nt, real and imaginary parts. */
  hRe?: Float64Array;
  hIm?: Float64Array;
  /** Geometric models: transmitter and receiver positions in metres, interleaved x, y. */
  tx?: Float64Array;
  rx?: Float64Array;
  /**
   * CSI available at the receivers: `csi[j * K + k] = 1` when agent k knows the edge (j, k),
   * i.e. g_jk and g_kj. Absent means full CSI (every pair knows every other pair).
   */
  csi?: Uint8Array;
  /**
   * Amplitudes of the large-scale fading a_ij (path loss and shadowing; |h_ij| = a_ij |f_ij|), row-major
   * like `gain`: kept only when asked for (generateInstance's `largeScale`, for faults.channel).
   */
  largeScale?: Float64Array;
}

export function isMiso(inst: Instance): boolean {
  return inst.Nt > 1 || inst.hRe !== undefined;
}

/** Whether agent k knows the edge from j (j != k). */
export function knowsEdge(inst: Instance, j: number, k: number): boolean {
  return inst.csi === undefined || inst.csi[j * inst.K + k] === 1;
}

/** Squared amplitudes |h_ij|^2, row-major like `gain`. */
export function squaredGains(inst: Instance): Float64Array {
  const g2 = new Float64Array(inst.gain.length);
  for (let i = 0; i < g2.length; i++) g2[i] = inst.gain[i] * inst.gain[i];
  return g2;
}

/**
 * The network of the pairs in `keep` (ascending), renumbered 0..keep.length-1: every per-pair and
 * per-link field restricted to them. Its objective equals the whole network's with the other pairs
 * silent and weighing 0 (they neither transmit nor count).
 */
export function subInstance(inst: Instance, keep: readonly number[]): Instance {
  const K = inst.K, n = keep.length, Nt = inst.Nt;
  function links<T extends Float64Array | Uint8Array>(a: T, per = 1): T {
    const out = new (a.constructor as { new (n: number): T })(n * n * per);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const from = (keep[i] * K + keep[j]) * per, to = (i * n + j) * per;
        for (let d = 0; d < per; d++) out[to + d] = a[from + d];
      }
    return out;
  }
  const pairs = (a: Float64Array, per: number): Float64Array => {
    const out = new Float64Array(n * per);
    for (let i = 0; i < n; i++) for (let d = 0; d < per; d++) out[i * per + d] = a[keep[i] * per + d];
    return out;
  };
  const out: Instance = { model: inst.model, K: n, Nt, noise: inst.noise, pmax: inst.pmax, weights: pairs(inst.weights, 1), gain: links(inst.gain) };
  if (inst.hRe && inst.hIm) {
    out.hRe = links(inst.hRe, Nt);
    out.hIm = links(inst.hIm, Nt);
  }
  if (inst.tx && inst.rx) {
    out.tx = pairs(inst.tx, 2);
    out.rx = pairs(inst.rx, 2);
  }
  if (inst.csi) out.csi = links(inst.csi);
  if (inst.largeScale) out.largeScale = links(inst.largeScale);
  return out;
}
