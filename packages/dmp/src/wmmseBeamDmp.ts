import { beamUpdate, HermitianSolver, type LocalView } from '@dmpemu/wireless';
import type { DmpAlgorithm } from './contract.ts';

/** State of node k: beam v_k, receiver u_k (complex), MSE weight a_k, and its scratch. */
export interface WmmseBeamState {
  view: LocalView;
  Nt: number;
  vRe: Float64Array;
  vIm: Float64Array;
  uRe: number;
  uIm: number;
  a: number;
  solver: HermitianSolver;
  bRe: Float64Array;
  bIm: Float64Array;
  xRe: Float64Array;
  xIm: Float64Array;
}

/**
 * WMMSE beamforming (wmmseBeamforming.ts; Shi et al. 2011) as a DMP algorithm: T iterations = 2T
 * rounds. Even rounds carry v_j (2 Nt numbers); receiver k turns them into |h_jk^H v_j|^2 with its
 * incoming channels and updates u_k and a_k. Odd rounds carry c_j = w_j a_j |u_j|^2; node k turns
 * them into c_j h_kj h_kj^H with its outgoing channels, sums them into A_k (Nt x Nt, as 2 Nt^2
 * numbers) and updates v_k = (A_k + mu I)^{-1} w_k a_k u_k h_kk with ||v_k||^2 <= Pmax (beamUpdate,
 * the same function the centralized algorithm uses). Output [Re v_k, Im v_k]. With a partial view
 * the node sums only over its known neighbours, as in the power-control DMP.
 */
export function wmmseBeamDmp(iterations: number, Nt: number): DmpAlgorithm<WmmseBeamState> {
  if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`wmmse-dmp: iterations must be a positive integer, got ${iterations}`);
  return {
    name: 'wmmse-dmp',
    rounds: 2 * iterations,
    period: 2,
    init(view) {
      if (!view.directRe || !view.directIm || !view.hInRe || !view.hInIm || !view.hOutRe || !view.hOutIm || view.Nt !== Nt)
        throw new Error(`wmmse-dmp (beamforming, Nt=${Nt}): local view of agent ${view.k} lacks complex channels for Nt=${Nt}`);
      return {
        view,
        Nt,
        vRe: new Float64Array(Nt).fill(Math.sqrt(view.pmax / Nt)),
        vIm: new Float64Array(Nt),
        uRe: 0,
        uIm: 0,
        a: 0,
        solver: new HermitianSolver(Nt),
        bRe: new Float64Array(Nt),
        bIm: new Float64Array(Nt),
        xRe: new Float64Array(Nt),
        xIm: new Float64Array(Nt),
      };
    },
    broadcastSize: (t) => (t % 2 === 0 ? 2 * Nt : 1),
    messageSize: (t) => (t % 2 === 0 ? 1 : 2 * Nt * Nt),
    aggregation: () => 'sum',
    broadcast(s, t, out) {
      if (t % 2 === 0) {
        out.set(s.vRe, 0);
        out.set(s.vIm, Nt);
      } else out[0] = s.view.weight * s.a * (s.uRe * s.uRe + s.uIm * s.uIm);
    },
    message(s, t, i, b, out) {
      if (t % 2 === 0) {
        // |h_jk^H v_j|^2, h_jk incoming
        const [re, im] = hv(s.view.hInRe!, s.view.hInIm!, i * Nt, b, 0, b, Nt, Nt);
        out[0] = re * re + im * im;
      } else {
        out.fill(0);
        addOuter(out, b[0], s.view.hOutRe!, s.view.hOutIm!, i * Nt, Nt);
      }
    },
    update(s, t, y) {
      const { view } = s;
      const [zRe, zIm] = hv(view.directRe!, view.directIm!, 0, s.vRe, 0, s.vIm, 0, Nt);
      if (t % 2 === 0) {
        const interference = y[0] + view.noise;
        const total = interference + zRe * zRe + zIm * zIm;
        s.uRe = zRe / total;
        s.uIm = zIm / total;
        s.a = total / interference;
      } else {
        const A = Float64Array.from(y);
        addOuter(A, view.weight * s.a * (s.uRe * s.uRe + s.uIm * s.uIm), view.directRe!, view.directIm!, 0, Nt);
        const sRe = view.weight * s.a * s.uRe, sIm = view.weight * s.a * s.uIm;
        let b2 = 0;
        for (let n = 0; n < Nt; n++) {
          s.bRe[n] = sRe * view.directRe![n] - sIm * view.directIm![n];
          s.bIm[n] = sRe * view.directIm![n] + sIm * view.directRe![n];
          b2 += s.bRe[n] ** 2 + s.bIm[n] ** 2;
        }
        beamUpdate(s.solver, A.subarray(0, Nt * Nt), A.subarray(Nt * Nt), s.bRe, s.bIm, b2, view.pmax, s.xRe, s.xIm);
        s.vRe.set(s.xRe);
        s.vIm.set(s.xIm);
      }
    },
    output(s) {
      const out = new Float64Array(2 * Nt);
      out.set(s.vRe, 0);
      out.set(s.vIm, Nt);
      return out;
    },
  };
}

/** h^H v for h at offset ho and v (re at vre[vo..], im at vim[vio..]). */
function hv(hRe: Float64Array, hIm: Float64Array, ho: number, vre: Float64Array, vo: number, vim: Float64Array, vio: number, Nt: number): [number, number] {
  let re = 0, im = 0;
  for (let n = 0; n < Nt; n++) {
    const hr = hRe[ho + n], hi = hIm[ho + n], vr = vre[vo + n], vi = vim[vio + n];
    re += hr * vr + hi * vi;
    im += hr * vi - hi * vr;
  }
  return [re, im];
}

/** A += c h h^H on the lower triangle; A is [re (Nt^2), im (Nt^2)]. */
function addOuter(A: Float64Array, c: number, hRe: Float64Array, hIm: Float64Array, ho: number, Nt: number): void {
  if (c === 0) return;
  const im0 = Nt * Nt;
  for (let r = 0; r < Nt; r++) {
    const pr = hRe[ho + r], pi = hIm[ho + r];
    for (let q = 0; q <= r; q++) {
      const qr = hRe[ho + q], qi = hIm[ho + q];
      A[r * Nt + q] += c * (pr * qr + pi * qi);
      A[im0 + r * Nt + q] += c * (pi * qr - pr * qi);
    }
  }
}
