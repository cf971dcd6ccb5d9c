import type { LocalView } from './localView.ts';
import type { Rng } from './rng.ts';

/**
 * Cell-free massive MIMO, uplink power control (gnn-wireless-theory-to-practice-dmp.md, section
 * II-C, eqs. 5-6; the system of Ngo et al., "Cell-free massive MIMO versus small cells", IEEE TWC
 * 2017, which the paper keeps): M single-antenna access points and K single-antenna users on a
 * bipartite graph, every AP serving every user. Node types: `ap` (no node feature, no decision)
 * and `ue` (its transmit power 0 <= p_k <= 1 of the maximum).
 */
export interface CellFreeInstance {
  model: 'cell-free';
  M: number;
  K: number;
  /** Large-scale fading u_mk (path loss and shadowing, a power gain), row-major M x K: AP m, user k at m * K + k. */
  u: Float64Array;
  /** Normalised SNR rho: the maximum transmit power over the noise power (pilots and data alike). */
  rho: number;
  /** Pilot length tau and each user's pilot, an index into tau orthogonal sequences: |phi_k^H phi_k'|^2 is 1 when they share it, else 0. */
  tau: number;
  pilot: Int32Array;
  /** How eq. (5)'s v_mk is read (cellFreeV): as the paper writes it (default), or Ngo et al.'s gamma_mk. */
  v: 'paper' | 'gamma';
  /** AP and user positions in metres, interleaved x, y. */
  ap?: Float64Array;
  ue?: Float64Array;
}

/** The constants of Ngo et al. (section VI) and of the paper (area 0.5 km x 0.5 km): each where it comes from. */
export const CELL_FREE = {
  /** Side of the square area, metres (the paper, section VI-B). */
  side: 500,
  /** Carrier frequency, MHz; AP and user antenna heights, metres (Ngo et al., Hata-COST231). */
  fMHz: 1900,
  hAp: 15,
  hUe: 1.65,
  /** Three-slope path loss break points, km (Ngo et al., eq. 52). */
  d0: 0.01,
  d1: 0.05,
  /** Shadowing standard deviation, dB, applied beyond d1 (Ngo et al.). */
  shadowDb: 8,
  /** Bandwidth 20 MHz, noise figure 9 dB, T0 = 290 K; pilot and data power 100 mW (Ngo et al.). */
  bandwidthHz: 20e6,
  noiseFigureDb: 9,
  powerW: 0.1,
} as const;

/** Hata-COST231's constant L (dB) of the three-slope model: 46.3 + 33.9 log10 f - 13.82 log10 h_AP - (1.1 log10 f - 0.7) h_u + (1.56 log10 f - 0.8). */
export function hataL(fMHz: number = CELL_FREE.fMHz, hAp: number = CELL_FREE.hAp, hUe: number = CELL_FREE.hUe): number {
  const lf = Math.log10(fMHz);
  return 46.3 + 33.9 * lf - 13.82 * Math.log10(hAp) - (1.1 * lf - 0.7) * hUe + (1.56 * lf - 0.8);
}

/** Three-slope path loss in dB (negative: a gain) at d km (Ngo et al., eq. 52): -L - 35 log10 d beyond d1, -L - 15 log10 d1 - 20 log10 d from d0 to d1, flat below d0. */
export function threeSlopeDb(dKm: number, L = hataL()): number {
  const { d0, d1 } = CELL_FREE;
  if (dKm > d1) return -L - 35 * Math.log10(dKm);
  if (dKm > d0) return -L - 15 * Math.log10(d1) - 20 * Math.log10(dKm);
  return -L - 15 * Math.log10(d1) - 20 * Math.log10(d0);
}

/** Noise power, watts: k_B T0 B NF. */
export function cellFreeNoiseW(): number {
  return 1.380649e-23 * 290 * CELL_FREE.bandwidthHz * 10 ** (CELL_FREE.noiseFigureDb / 10);
}

export interface CellFreeOptions {
  M: number;
  K: number;
  /**
   * Pilot length (default 3, the length under which maximum power's share of the optimum is Table
   * IV's at M = 50; README). With tau >= K the pilots are orthogonal; with tau < K each user draws
   * one of tau orthogonal pilots uniformly (pilot contamination).
   */
  tau?: number;
  /** v_mk as the paper writes it (default) or Ngo et al.'s gamma_mk (cellFreeV). */
  v?: 'paper' | 'gamma';
}

/**
 * Draw an instance: APs and users uniform in the 0.5 km square, distances with wrap-around (Ngo
 * et al.: no boundary effects), u_mk = 10^((PL(d_mk) + 8 z_mk [d_mk > d1]) / 10) with z ~ N(0, 1)
 * uncorrelated; pilots as CellFreeOptions.tau says. Draw order: AP positions, user positions, per
 * (m, k) row-major the shadowing, then the pilots.
 */
export function cellFreeInstance(rng: Rng, o: CellFreeOptions): CellFreeInstance {
  const { M, K } = o;
  const tau = o.tau ?? 3;
  const side = CELL_FREE.side;
  const ap = Float64Array.from({ length: 2 * M }, () => rng.range(0, side));
  const ue = Float64Array.from({ length: 2 * K }, () => rng.range(0, side));
  const L = hataL();
  const u = new Float64Array(M * K);
  const wrap = (d: number): number => Math.min(Math.abs(d), side - Math.abs(d));
  for (let m = 0; m < M; m++)
    for (let k = 0; k < K; k++) {
      const dKm = Math.hypot(wrap(ap[2 * m] - ue[2 * k]), wrap(ap[2 * m + 1] - ue[2 * k + 1])) / 1000;
      const z = rng.normal();
      u[m * K + k] = 10 ** ((threeSlopeDb(dKm, L) + (dKm > CELL_FREE.d1 ? CELL_FREE.shadowDb * z : 0)) / 10);
    }
  const pilot = tau >= K ? Int32Array.from({ length: K }, (_, k) => k) : Int32Array.from({ length: K }, () => rng.int(tau));
  return { model: 'cell-free', M, K, u, rho: CELL_FREE.powerW / cellFreeNoiseW(), tau, pilot, v: o.v ?? 'paper', ap, ue };
}

/** |phi_k^H phi_k'|^2 for orthogonal pilot sequences: 1 when users k and k' share a pilot. */
export function pilotOverlap(inst: CellFreeInstance, k: number, k2: number): number {
  return inst.pilot[k] === inst.pilot[k2] ? 1 : 0;
}

/**
 * v_mk of eq. (5). The paper writes v_mk = sqrt(tau rho) u_mk / (tau rho sum_k' u_mk' |phi_k^H phi_k'|^2 + 1),
 * which is Ngo et al.'s MMSE estimation coefficient c_mk; their uplink SINR (eq. 27), which (5)
 * restates with rho_u factored out, uses gamma_mk = sqrt(tau rho) u_mk c_mk (the mean square of the
 * channel estimate), the only choice under which the terms of (5) scale alike. The instance says
 * which (`v`; the paper's by default: with it maximum power's share of the optimum is Table IV's,
 * with gamma it is 15-20 points higher; README, Cell-free massive MIMO).
 */
export function cellFreeV(inst: CellFreeInstance, convention: 'gamma' | 'paper' = inst.v): Float64Array {
  const { M, K, u, rho, tau } = inst;
  const v = new Float64Array(M * K);
  for (let m = 0; m < M; m++)
    for (let k = 0; k < K; k++) {
      let contamination = 0;
      for (let k2 = 0; k2 < K; k2++) contamination += u[m * K + k2] * pilotOverlap(inst, k, k2);
      const c = (Math.sqrt(tau * rho) * u[m * K + k]) / (tau * rho * contamination + 1);
      v[m * K + k] = convention === 'gamma' ? Math.sqrt(tau * rho) * u[m * K + k] * c : c;
    }
  return v;
}

/**
 * The terms of eq. (5) as SINR_k = p_k a_k / (sum_k' F_kk' p_k' + n_k): a_k = (sum_m v_mk)^2;
 * F_kk' = (sum_m v_mk u_mk' / u_mk)^2 |phi_k^H phi_k'|^2 [k' != k] + sum_m v_mk u_mk'; n_k = (1/rho) sum_m v_mk.
 * F is row-major K x K (user k's row).
 */
export function cellFreeTerms(inst: CellFreeInstance, v = cellFreeV(inst)): { a: Float64Array; F: Float64Array; n: Float64Array } {
  const { M, K, u, rho } = inst;
  const a = new Float64Array(K), n = new Float64Array(K), F = new Float64Array(K * K);
  for (let k = 0; k < K; k++) {
    let s = 0;
    for (let m = 0; m < M; m++) s += v[m * K + k];
    a[k] = s * s;
    n[k] = s / rho;
    for (let k2 = 0; k2 < K; k2++) {
      let coherent = 0, plain = 0;
      for (let m = 0; m < M; m++) {
        const vm = v[m * K + k];
        coherent += (vm * u[m * K + k2]) / u[m * K + k];
        plain += vm * u[m * K + k2];
      }
      F[k * K + k2] = (k2 !== k ? coherent * coherent * pilotOverlap(inst, k, k2) : 0) + plain;
    }
  }
  return { a, F, n };
}

/** SINR_k of eq. (5) for powers p (0 <= p_k <= 1). */
export function cellFreeSinr(inst: CellFreeInstance, p: ArrayLike<number>, terms = cellFreeTerms(inst)): Float64Array {
  const { K } = inst;
  const { a, F, n } = terms;
  return Float64Array.from({ length: K }, (_, k) => {
    let den = n[k];
    for (let k2 = 0; k2 < K; k2++) den += F[k * K + k2] * p[k2];
    return (p[k] * a[k]) / den;
  });
}

/** The objective of eq. (6): min_k log2(1 + SINR_k). */
export function cellFreeMinRate(inst: CellFreeInstance, p: ArrayLike<number>, terms = cellFreeTerms(inst)): number {
  return Math.min(...Array.from(cellFreeSinr(inst, p, terms), (s) => Math.log2(1 + s)));
}

/**
 * The optimal algorithm of Table IV: bisection on the common SINR target g. A target is feasible
 * iff the smallest powers meeting it, the solution of p_k (a_k - g F_kk) = g (sum_{k' != k} F_kk' p_k' + n_k),
 * exist, are positive and at most 1 (I - g D^-1 F_off is then a nonsingular M-matrix). Knows v, u,
 * rho and the pilots (through a, F, n). Returns the powers at the largest feasible target, scaled
 * so the largest is 1 (every SINR grows with the scale), and that target.
 */
export function cellFreeOptimal(inst: CellFreeInstance, o: { tolerance?: number; terms?: ReturnType<typeof cellFreeTerms> } = {}): { p: Float64Array; sinr: number } {
  const { K } = inst;
  const terms = o.terms ?? cellFreeTerms(inst);
  const { a, F, n } = terms;
  let lo = 0, hi = Infinity;
  for (let k = 0; k < K; k++) hi = Math.min(hi, a[k] / F[k * K + k]);
  let best: Float64Array = new Float64Array(K).fill(1);
  const tol = o.tolerance ?? 1e-10;
  for (let it = 0; it < 200 && hi - lo > tol * hi; it++) {
    const g = (lo + hi) / 2;
    const p = powersFor(g, a, F, n, K);
    if (p) {
      lo = g;
      best = p;
    } else hi = g;
  }
  const top = Math.max(...best);
  const p = best.map((x) => x / top);
  return { p, sinr: Math.min(...cellFreeSinr(inst, p, terms)) };
}

/** The smallest powers meeting SINR target g for every user, or undefined when there are none within [0, 1]. */
function powersFor(g: number, a: Float64Array, F: Float64Array, n: Float64Array, K: number): Float64Array | undefined {
  // (D - g F_off) p = g n with D = diag(a_k - g F_kk): Gaussian elimination with partial pivoting
  const A = new Float64Array(K * K), b = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    const d = a[k] - g * F[k * K + k];
    if (!(d > 0)) return undefined;
    for (let k2 = 0; k2 < K; k2++) A[k * K + k2] = k2 === k ? d : -g * F[k * K + k2];
    b[k] = g * n[k];
  }
  for (let c = 0; c < K; c++) {
    let piv = c;
    for (let r = c + 1; r < K; r++) if (Math.abs(A[r * K + c]) > Math.abs(A[piv * K + c])) piv = r;
    if (A[piv * K + c] === 0) return undefined;
    if (piv !== c) {
      for (let j = 0; j < K; j++) [A[c * K + j], A[piv * K + j]] = [A[piv * K + j], A[c * K + j]];
      [b[c], b[piv]] = [b[piv], b[c]];
    }
    for (let r = c + 1; r < K; r++) {
      const f = A[r * K + c] / A[c * K + c];
      if (f === 0) continue;
      for (let j = c; j < K; j++) A[r * K + j] -= f * A[c * K + j];
      b[r] -= f * b[c];
    }
  }
  const p = new Float64Array(K);
  for (let r = K - 1; r >= 0; r--) {
    let s = b[r];
    for (let j = r + 1; j < K; j++) s -= A[r * K + j] * p[j];
    p[r] = s / A[r * K + r];
  }
  return p.every((x) => x > 0 && x <= 1) ? p : undefined;
}

/** Node ids of a cell-free network: APs 0..M-1, then users M..M+K-1 (the paper's indexing). */
export function cellFreeUser(inst: CellFreeInstance, k: number): number {
  return inst.M + k;
}

/**
 * The local views of the bipartite graph. The edge feature of (m, k) is v_mk of eq. (5), what the
 * paper's learned methods take as input (section VI-B): AP m computes it from the u_mk' it measures
 * and the pilots, and knows it for every user; user k knows it for every AP and has the other
 * users as neighbours too (the user-to-user messages of CF-PCGNN, relayed by the fronthaul in a
 * deployment). It sits in gIn = gOut as an amplitude, like every view's: sqrt(v_mk) (0 between
 * users); no node feature beyond the SNR (noise = 1 / rho).
 */
export function cellFreeViews(inst: CellFreeInstance): LocalView[] {
  const { M, K } = inst;
  const u = cellFreeV(inst);
  const users = Int32Array.from({ length: K }, (_, k) => M + k);
  const base = { weight: 1, noise: 1 / inst.rho, pmax: 1, Nt: 1, direct: 0 };
  const aps: LocalView[] = Array.from({ length: M }, (_, m) => {
    const g = Float64Array.from({ length: K }, (_, k) => Math.sqrt(u[m * K + k]));
    return { ...base, k: m, type: 'ap', neighbours: users.slice(), neighbourTypes: new Array<string>(K).fill('ue'), gIn: g, gOut: g.slice() };
  });
  const ues: LocalView[] = Array.from({ length: K }, (_, k) => {
    const nb = [...Array.from({ length: M }, (_, m) => m), ...Array.from({ length: K }, (_, j) => M + j).filter((j) => j !== M + k)];
    const g = Float64Array.from(nb, (j) => (j < M ? Math.sqrt(u[j * K + k]) : 0));
    return { ...base, k: M + k, type: 'ue', neighbours: Int32Array.from(nb), neighbourTypes: nb.map((j) => (j < M ? 'ap' : 'ue')), gIn: g, gOut: g.slice() };
  });
  return [...aps, ...ues];
}
