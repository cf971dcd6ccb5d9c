import type { Instance } from './instance.ts';
import { DEFAULT_ANTENNA_HEIGHT, itu1411Breakpoint, itu1411LosProbability, itu1411NlosDb, lteMacroPathLossDb } from './pathLoss.ts';
import type { Rng } from './rng.ts';

/** ITU-R P.1411 short-range LoS constants of channel-models.md section 2 (antenna heights 1.5 m). */
const { Rbp: RBP_DEFAULT, Lbp: LBP_DEFAULT } = itu1411Breakpoint(DEFAULT_ANTENNA_HEIGHT, DEFAULT_ANTENNA_HEIGHT);
export const R_BP = RBP_DEFAULT;
export const L_BP = LBP_DEFAULT;
/** Noise -169 dBm/Hz over 5 MHz, in watts. */
export const D2D_NOISE_W = 10 ** ((-169 + 10 * Math.log10(5e6) - 30) / 10);
/** Transmit power (dBm) when a network does not say: 40 dBm = 10 W. */
export const D2D_TX_POWER_DBM = 40;
/** The noise relative to the transmit power of 40 dBm = 10 W (p normalised to [0, 1]). */
export const D2D_NOISE = D2D_NOISE_W / 10;

/** Path loss in dB at distance d metres (channel-models.md section 2). */
export function itu1411PathLossDb(d: number): number {
  const r = 20 * Math.log10(d / R_BP);
  return L_BP + 6 + r + (d > R_BP ? r : 0);
}

export interface LayoutOptions {
  K: number;
  /** Side of the square field in metres (default 1000). */
  field?: number;
  /** Direct-link distance range in metres (default 2, 65). */
  dmin?: number;
  dmax?: number;
}

/** The layout's defaults (channel-models.md section 2: 1000 m x 1000 m, direct links of 2-65 m). */
export const D2D_LAYOUT_DEFAULTS = { field: 1000, dmin: 2, dmax: 65 } as const;
/** Receiver positions drawn per pair before the layout is given up (the receiver must land inside the field). */
export const RECEIVER_DRAWS = 1000;
/** Whole layouts drawn before giving up (one is redrawn when a transmitter-receiver distance is below 1 m). */
export const LAYOUT_DRAWS = 100;

export interface Layout {
  tx: Float64Array;
  rx: Float64Array;
  /** dist[i * K + j]: transmitter i to receiver j, metres. */
  dist: Float64Array;
}

/** Why these layout parameters can never give a layout (checked before drawing), and the parameter to blame; undefined when they can. */
export function impossibleLayout(o: LayoutOptions): { key: 'dmin' | 'dmax' | 'field'; why: string } | undefined {
  const L = o.field ?? D2D_LAYOUT_DEFAULTS.field, dmin = o.dmin ?? D2D_LAYOUT_DEFAULTS.dmin, dmax = o.dmax ?? D2D_LAYOUT_DEFAULTS.dmax;
  if (dmin > dmax) return { key: 'dmin', why: `dmin (${dmin} m) exceeds dmax (${dmax} m)` };
  if (dmax < 1) return { key: 'dmax', why: `dmax (${dmax} m) is below 1 m, the closest a receiver may be to a transmitter` };
  if (L < dmin) return { key: o.field === undefined ? 'dmin' : 'field', why: `the field (${L} m) is smaller than dmin (${dmin} m)` };
  return undefined;
}

/**
 * The D2D layout (channel-models.md section 2): transmitters uniform in the field, receiver k at
 * U[dmin, dmax] and a uniform angle from transmitter k, redrawn until inside the field; the whole
 * layout redrawn if any transmitter-receiver distance is below 1 m. Both redraws are bounded
 * (RECEIVER_DRAWS per receiver, LAYOUT_DRAWS layouts): past them, and for parameters that can
 * never give a layout (impossibleLayout), it throws one line naming K, field, dmin, dmax and why.
 */
export function d2dLayout(rng: Rng, o: LayoutOptions): Layout {
  const layout = drawLayout(rng, o, true);
  return { ...layout, dist: layout.dist! };
}

/** Throws exactly when d2dLayout(rng, o) would, drawing the same numbers but keeping no K x K matrix. */
export function checkD2dLayout(rng: Rng, o: LayoutOptions): void {
  drawLayout(rng, o, false);
}

function drawLayout(rng: Rng, o: LayoutOptions, keepDist: boolean): { tx: Float64Array; rx: Float64Array; dist?: Float64Array } {
  const { K } = o;
  const L = o.field ?? D2D_LAYOUT_DEFAULTS.field, dmin = o.dmin ?? D2D_LAYOUT_DEFAULTS.dmin, dmax = o.dmax ?? D2D_LAYOUT_DEFAULTS.dmax;
  const fail = (why: string): Error => new Error(`d2d layout (K=${K}, field=${L}, dmin=${dmin}, dmax=${dmax}): ${why}`);
  const impossible = impossibleLayout(o);
  if (impossible) throw fail(impossible.why);
  for (let attempt = 0; attempt < LAYOUT_DRAWS; attempt++) {
    const tx = new Float64Array(2 * K), rx = new Float64Array(2 * K);
    for (let k = 0; k < K; k++) {
      tx[2 * k] = rng.range(0, L);
      tx[2 * k + 1] = rng.range(0, L);
      let x: number, y: number, draws = 0;
      do {
        if (draws++ === RECEIVER_DRAWS) throw fail(`no receiver position inside the field for pair ${k} in ${RECEIVER_DRAWS} draws (the field is too small for the link distances)`);
        const d = rng.range(dmin, dmax), a = rng.range(0, 2 * Math.PI);
        x = tx[2 * k] + d * Math.cos(a);
        y = tx[2 * k + 1] + d * Math.sin(a);
      } while (x < 0 || x > L || y < 0 || y > L);
      rx[2 * k] = x;
      rx[2 * k + 1] = y;
    }
    // no draws below: stopping at the first pair closer than 1 m leaves the random stream as it was
    if (!keepDist) {
      if (!anyCloserThan1m(tx, rx, K)) return { tx, rx };
      continue;
    }
    const dist = new Float64Array(K * K);
    let tooClose = false;
    for (let i = 0; i < K && !tooClose; i++)
      for (let j = 0; j < K; j++) {
        const d = Math.hypot(tx[2 * i] - rx[2 * j], tx[2 * i + 1] - rx[2 * j + 1]);
        dist[i * K + j] = d;
        if (d < 1) {
          tooClose = true;
          break;
        }
      }
    if (!tooClose) return { tx, rx, dist };
  }
  throw fail(`each of ${LAYOUT_DRAWS} layouts had a transmitter closer than 1 m to a receiver (too dense: enlarge the field or lower K)`);
}

/**
 * Whether some transmitter is closer than 1 m to some receiver (direct or cross): the same test as
 * the K x K scan, in O(K log K) with the receivers sorted by x (at K = 10^4 the layout is redrawn
 * about five times on average, each scan 10^8 distances).
 */
function anyCloserThan1m(tx: Float64Array, rx: Float64Array, K: number): boolean {
  const order = Array.from({ length: K }, (_, j) => j).sort((a, b) => rx[2 * a] - rx[2 * b]);
  const xs = Float64Array.from(order, (j) => rx[2 * j]);
  for (let i = 0; i < K; i++) {
    const x = tx[2 * i], y = tx[2 * i + 1];
    let lo = 0, hi = K;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid] < x - 1) lo = mid + 1;
      else hi = mid;
    }
    for (let m = lo; m < K && xs[m] <= x + 1; m++) {
      const j = order[m];
      if (Math.hypot(x - rx[2 * j], y - rx[2 * j + 1]) < 1) return true;
    }
  }
  return false;
}

/** csi[j * K + k] = 1 when transmitter j is within `range` metres of receiver k (channel-models.md section 2). */
export function csiWithinRange(dist: Float64Array, K: number, range: number): Uint8Array {
  const csi = new Uint8Array(K * K);
  for (let j = 0; j < K; j++) for (let k = 0; k < K; k++) if (j !== k && dist[j * K + k] <= range) csi[j * K + k] = 1;
  return csi;
}

/** A value or a range [min, max] drawn uniformly (per node for heights, per instance for the transmit power). */
export type Drawn = number | readonly [number, number];

export interface D2dOptions extends LayoutOptions {
  /** CSI range D in metres (absent: full CSI). */
  csiRange?: number;
  /** Weighted sum rate with w_k ~ U[0, 1] (default true: Tables II-IV are weighted). */
  weighted?: boolean;
  /** `itu1411` (default: ITU-R P.1411, channel-models.md section 2) or `lte` (3GPP TR 36.814 macro: lteMacroPathLossDb). */
  pathLoss?: 'itu1411' | 'lte';
  /** itu1411: every link line of sight (`los`, default), none (`nlos`), or each link LoS with P.1411's LoS probability (`mixed`). */
  los?: 'los' | 'nlos' | 'mixed';
  /** Antenna heights in metres (default 1.5): a range draws one per transmitter / receiver. */
  txHeight?: Drawn;
  rxHeight?: Drawn;
  /** Transmit power in dBm (default 40); a range draws one per instance. p stays normalised to [0, 1], sigma^2 = noise / power. */
  txPower?: Drawn;
  /** Keep the large-scale amplitudes (path loss and shadowing) in `largeScale` (faults.channel). */
  largeScale?: boolean;
}

/** `K` heights: a number repeated, or one U[min, max] draw per node. */
function heights(rng: Rng, K: number, h: Drawn): Float64Array {
  return typeof h === 'number' ? new Float64Array(K).fill(h) : Float64Array.from({ length: K }, () => rng.range(h[0], h[1]));
}

/**
 * Geometric D2D network (channel-models.md section 2): power gain 10^(-PL_dB/10) (+2.5 dB on direct
 * links) x log-normal shadowing (8 dB) x Rayleigh fading (X^2 + Y^2)/2; `gain` holds amplitudes.
 * PL is P.1411's LoS formula with the antenna heights (default), its NLoS formula, a per-link
 * choice between them with P.1411's LoS probability (`los: mixed`), or the LTE formula; the
 * distance is between the antennas (3-D when their heights differ, so the default is unchanged).
 * Draw order: layout; transmitter then receiver heights when ranges; the transmit power when a
 * range; per link (i, j) row-major shadowing, fading, then (mixed) the LoS draw; then weights.
 */
export function d2dInstance(rng: Rng, o: D2dOptions): Instance {
  const { K } = o;
  // the distances are computed again per link, never kept: a K x K matrix is 800 MB at K = 10^4
  const { tx, rx } = drawLayout(rng, o, false);
  const h1 = heights(rng, K, o.txHeight ?? DEFAULT_ANTENNA_HEIGHT);
  const h2 = heights(rng, K, o.rxHeight ?? DEFAULT_ANTENNA_HEIGHT);
  const p = o.txPower ?? D2D_TX_POWER_DBM;
  const txPower = typeof p === 'number' ? p : rng.range(p[0], p[1]);
  const los = o.los ?? 'los';
  const lte = o.pathLoss === 'lte';
  const gain = new Float64Array(K * K);
  const large = o.largeScale ? new Float64Array(K * K) : undefined;
  const csi = o.csiRange !== undefined ? new Uint8Array(K * K) : undefined;
  const range = o.csiRange ?? 0;
  for (let i = 0; i < K; i++) {
    const xi = tx[2 * i], yi = tx[2 * i + 1];
    for (let j = 0; j < K; j++) {
      const dh = h1[i] - h2[j];
      const d = dh === 0 ? Math.hypot(xi - rx[2 * j], yi - rx[2 * j + 1]) : Math.hypot(xi - rx[2 * j], yi - rx[2 * j + 1], dh);
      if (csi && i !== j && d <= range) csi[i * K + j] = 1;
      // -PL_dB(d) (+2.5 dB direct), 8 dB shadowing and Rayleigh fading in one power of ten: amplitude = 10^(dB / 20) sqrt(f)
      const shadow = rng.normal(), x = rng.normal(), y = rng.normal();
      const lineOfSight = los === 'los' || (los === 'mixed' && rng.uniform() < itu1411LosProbability(d));
      const pl = lte ? lteMacroPathLossDb(d) : lineOfSight ? itu1411LosAt(d, h1[i], h2[j]) : itu1411NlosDb(d, h1[i], h2[j]);
      const db = -pl + (i === j ? 2.5 : 0) + 8 * shadow;
      gain[i * K + j] = 10 ** (db / 20) * Math.sqrt((x * x + y * y) / 2);
      if (large) large[i * K + j] = 10 ** (db / 20);
    }
  }
  const weights = new Float64Array(K).fill(1);
  if (o.weighted ?? true) for (let k = 0; k < K; k++) weights[k] = rng.uniform();
  const noise = txPower === D2D_TX_POWER_DBM ? D2D_NOISE : D2D_NOISE_W / 10 ** ((txPower - 30) / 10);
  const inst: Instance = { model: 'd2d', K, Nt: 1, noise, pmax: 1, weights, gain, tx, rx };
  if (csi) inst.csi = csi;
  if (large) inst.largeScale = large;
  return inst;
}

const LOG_RBP_DEFAULT = Math.log10(R_BP);

/** itu1411LosDb, with the default heights' constants taken once (the arithmetic of the default instances, kept exactly). */
function itu1411LosAt(d: number, h1: number, h2: number): number {
  if (h1 === DEFAULT_ANTENNA_HEIGHT && h2 === DEFAULT_ANTENNA_HEIGHT) {
    const r = 20 * (Math.log10(d) - LOG_RBP_DEFAULT);
    return L_BP + 6 + r + (d > R_BP ? r : 0);
  }
  const { Rbp, Lbp } = itu1411Breakpoint(h1, h2);
  const r = 20 * (Math.log10(d) - Math.log10(Rbp));
  return Lbp + 6 + r + (d > Rbp ? r : 0);
}
