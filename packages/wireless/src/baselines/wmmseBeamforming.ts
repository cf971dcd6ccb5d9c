import type { Instance } from '../instance.ts';
import { HermitianSolver } from './hermitianSolve.ts';

/** Per-iteration callback: iteration t (1-based) and the current beams (reused arrays: copy to keep). */
export type BeamIterationHook = (t: number, vRe: Float64Array, vIm: Float64Array) => void;

export interface WmmseBeamOptions {
  iterations: number;
  /** Initial beams v_k at offset k * Nt; default v_k = sqrt(Pmax / Nt) * 1 (channel-models.md section 3). */
  v0?: { vRe: Float64Array; vIm: Float64Array };
  onIteration?: BeamIterationHook;
}

/** Uniform beams v_k = sqrt(Pmax / Nt) * 1 (||v_k||^2 = Pmax): full power, and the WMMSE start. */
export function uniformBeams(inst: Instance, pmax = inst.pmax): { vRe: Float64Array; vIm: Float64Array } {
  return { vRe: new Float64Array(inst.K * inst.Nt).fill(Math.sqrt(pmax / inst.Nt)), vIm: new Float64Array(inst.K * inst.Nt) };
}

/**
 * WMMSE beamforming for the weighted sum rate in the MISO interference channel (Shi et al. 2011,
 * Algorithm 1 with single-antenna receivers; Algorithm 2 of mpgnn-wcgcn-scalable-rrm.md), with
 * h_ij in C^Nt from transmitter i to receiver j and SINR_k = |h_kk^H v_k|^2 / (sum_{j != k}
 * |h_jk^H v_j|^2 + sigma^2) as in objectives.ts. Receiver k estimates s_k as conj(u_k) y_k:
 *   u_k = h_kk^H v_k / (sum_j |h_jk^H v_j|^2 + sigma^2)                    (MMSE receiver)
 *   a_k = 1 / (1 - conj(u_k) h_kk^H v_k) = 1 + SINR_k                      (MSE weight, real)
 *   v_k = w_k a_k u_k (A_k + mu_k I)^{-1} h_kk,  A_k = sum_j w_j a_j |u_j|^2 h_kj h_kj^H
 * with mu_k = 0 when that beam has ||v_k||^2 <= Pmax, else found by bisection so ||v_k||^2 = Pmax.
 * Starts from v0 (default uniform beams). With Nt = 1 the magnitudes follow the power-control
 * WMMSE (wmmse.ts) exactly. Typed arrays only and no allocation inside the iteration loop.
 */
export function wmmseBeamforming(inst: Instance, o: WmmseBeamOptions): { vRe: Float64Array; vIm: Float64Array } {
  const { K, Nt, noise, pmax, weights: w, hRe, hIm } = inst;
  if (!hRe || !hIm) throw new Error('wmmseBeamforming: instance has no complex channels (hRe, hIm)');
  if (hRe.length !== K * K * Nt || hIm.length !== K * K * Nt) throw new Error(`wmmseBeamforming: hRe and hIm must hold K * K * Nt = ${K * K * Nt} numbers, got ${hRe.length} and ${hIm.length}`);
  const init = o.v0 ?? uniformBeams(inst);
  if (init.vRe.length !== K * Nt || init.vIm.length !== K * Nt) throw new Error(`wmmseBeamforming: v0 must hold K * Nt = ${K * Nt} numbers`);
  const vRe = Float64Array.from(init.vRe);
  const vIm = Float64Array.from(init.vIm);
  const uRe = new Float64Array(K);
  const uIm = new Float64Array(K);
  const a = new Float64Array(K);
  const c = new Float64Array(K); // w_j a_j |u_j|^2
  const ARe = new Float64Array(Nt * Nt);
  const AIm = new Float64Array(Nt * Nt);
  const bRe = new Float64Array(Nt);
  const bIm = new Float64Array(Nt);
  const xRe = new Float64Array(Nt);
  const xIm = new Float64Array(Nt);
  const solver = new HermitianSolver(Nt);

  const updateUA = (): void => {
    for (let k = 0; k < K; k++) {
      let interference = noise;
      let zRe = 0, zIm = 0; // h_kk^H v_k
      for (let j = 0; j < K; j++) {
        const ho = (j * K + k) * Nt, vo = j * Nt;
        let re = 0, im = 0;
        for (let n = 0; n < Nt; n++) {
          const hr = hRe[ho + n], hi = hIm[ho + n], vr = vRe[vo + n], vi = vIm[vo + n];
          re += hr * vr + hi * vi;
          im += hr * vi - hi * vr;
        }
        if (j === k) {
          zRe = re;
          zIm = im;
        } else interference += re * re + im * im;
      }
      const signal = zRe * zRe + zIm * zIm;
      const total = interference + signal;
      uRe[k] = zRe / total;
      uIm[k] = zIm / total;
      a[k] = total / interference;
      c[k] = w[k] * a[k] * (uRe[k] * uRe[k] + uIm[k] * uIm[k]);
    }
  };

  const updateV = (k: number): void => {
    ARe.fill(0);
    AIm.fill(0);
    for (let j = 0; j < K; j++) {
      const cj = c[j];
      if (cj === 0) continue;
      const ho = (k * K + j) * Nt;
      for (let r = 0; r < Nt; r++) {
        const pr = hRe[ho + r], pi = hIm[ho + r];
        for (let s = 0; s <= r; s++) {
          const qr = hRe[ho + s], qi = hIm[ho + s];
          ARe[r * Nt + s] += cj * (pr * qr + pi * qi);
          AIm[r * Nt + s] += cj * (pi * qr - pr * qi);
        }
      }
    }
    const ho = (k * K + k) * Nt;
    const sRe = w[k] * a[k] * uRe[k], sIm = w[k] * a[k] * uIm[k];
    let b2 = 0;
    for (let n = 0; n < Nt; n++) {
      bRe[n] = sRe * hRe[ho + n] - sIm * hIm[ho + n];
      bIm[n] = sRe * hIm[ho + n] + sIm * hRe[ho + n];
      b2 += bRe[n] * bRe[n] + bIm[n] * bIm[n];
    }
    const vo = k * Nt;
    beamUpdate(solver, ARe, AIm, bRe, bIm, b2, pmax, xRe, xIm);
    for (let n = 0; n < Nt; n++) {
      vRe[vo + n] = xRe[n];
      vIm[vo + n] = xIm[n];
    }
  };

  updateUA();
  for (let t = 1; t <= o.iterations; t++) {
    for (let k = 0; k < K; k++) updateV(k);
    o.onIteration?.(t, vRe, vIm);
    if (t < o.iterations) updateUA();
  }
  return { vRe, vIm };
}

/**
 * The beam update of WMMSE, shared by the centralized algorithm and its DMP form: x = (A + mu I)^{-1} b
 * with mu = 0 when ||x||^2 <= Pmax, else the mu found by bisection with ||x||^2 = Pmax (||x(mu)||
 * decreases in mu). `b2` = ||b||^2 (x = 0 when it is 0). A is Hermitian PSD, lower triangle read.
 */
export function beamUpdate(solver: HermitianSolver, ARe: Float64Array, AIm: Float64Array, bRe: Float64Array, bIm: Float64Array, b2: number, pmax: number, xRe: Float64Array, xIm: Float64Array): void {
  if (b2 === 0) {
    xRe.fill(0);
    xIm.fill(0);
    return;
  }
  const norm2 = (mu: number): number => shiftedSolveNorm2(solver, ARe, AIm, mu, bRe, bIm, xRe, xIm);
  if (norm2(0) <= pmax) return;
  let lo = 0;
  let hi = Math.sqrt(b2 / pmax);
  while (norm2(hi) > pmax) {
    lo = hi;
    hi *= 2;
  }
  for (let step = 0; step < 200 && hi - lo > 1e-15 * hi; step++) {
    const mid = 0.5 * (lo + hi);
    if (norm2(mid) > pmax) lo = mid;
    else hi = mid;
  }
  norm2(hi);
}

/** Writes (A + mu I)^{-1} b into x; returns ||x||^2, or Infinity when the matrix is singular. */
function shiftedSolveNorm2(solver: HermitianSolver, ARe: Float64Array, AIm: Float64Array, mu: number, bRe: Float64Array, bIm: Float64Array, xRe: Float64Array, xIm: Float64Array): number {
  if (!solver.solve(ARe, AIm, mu, bRe, bIm, xRe, xIm)) return Infinity;
  let s = 0;
  for (let n = 0; n < solver.n; n++) s += xRe[n] * xRe[n] + xIm[n] * xIm[n];
  return s;
}
