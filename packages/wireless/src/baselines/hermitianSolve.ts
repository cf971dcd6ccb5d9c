/**
 * Solves (A + mu I) x = b for a Hermitian positive semidefinite n x n matrix A and mu >= 0 by a
 * complex Cholesky factorisation A + mu I = L L^H (Gaussian elimination specialised to Hermitian
 * matrices: half the work, no pivoting needed for positive definite matrices). All storage is
 * allocated once for a given n, so `solve` can run inside an iteration loop.
 * Matrices are row-major: entry (r, c) at r * n + c, real and imaginary parts in separate arrays.
 */
export class HermitianSolver {
  private readonly lRe: Float64Array;
  private readonly lIm: Float64Array;
  private readonly yRe: Float64Array;
  private readonly yIm: Float64Array;

  constructor(readonly n: number) {
    this.lRe = new Float64Array(n * n);
    this.lIm = new Float64Array(n * n);
    this.yRe = new Float64Array(n);
    this.yIm = new Float64Array(n);
  }

  /**
   * Writes x = (A + mu I)^{-1} b into xRe, xIm (length n) and returns true, or returns false when
   * A + mu I is not numerically positive definite (a pivot <= `tol` times the largest diagonal entry;
   * tol defaults to 1e-13). Only the lower triangle of A is read.
   */
  solve(aRe: Float64Array, aIm: Float64Array, mu: number, bRe: Float64Array, bIm: Float64Array, xRe: Float64Array, xIm: Float64Array, tol = 1e-13): boolean {
    const { n, lRe, lIm, yRe, yIm } = this;
    let scale = 0;
    for (let i = 0; i < n; i++) scale = Math.max(scale, aRe[i * n + i] + mu);
    const minPivot = tol * scale;
    // Cholesky: L_ii = sqrt(M_ii - sum_{m<i} |L_im|^2), L_ri = (M_ri - sum_{m<i} L_rm conj(L_im)) / L_ii
    for (let i = 0; i < n; i++) {
      let d = aRe[i * n + i] + mu;
      for (let m = 0; m < i; m++) d -= lRe[i * n + m] ** 2 + lIm[i * n + m] ** 2;
      if (!(d > minPivot)) return false;
      const lii = Math.sqrt(d);
      lRe[i * n + i] = lii;
      lIm[i * n + i] = 0;
      for (let r = i + 1; r < n; r++) {
        let sRe = aRe[r * n + i];
        let sIm = aIm[r * n + i];
        for (let m = 0; m < i; m++) {
          const pr = lRe[r * n + m], pi = lIm[r * n + m], qr = lRe[i * n + m], qi = -lIm[i * n + m];
          sRe -= pr * qr - pi * qi;
          sIm -= pr * qi + pi * qr;
        }
        lRe[r * n + i] = sRe / lii;
        lIm[r * n + i] = sIm / lii;
      }
    }
    // forward substitution L y = b
    for (let r = 0; r < n; r++) {
      let sRe = bRe[r];
      let sIm = bIm[r];
      for (let m = 0; m < r; m++) {
        const pr = lRe[r * n + m], pi = lIm[r * n + m];
        sRe -= pr * yRe[m] - pi * yIm[m];
        sIm -= pr * yIm[m] + pi * yRe[m];
      }
      yRe[r] = sRe / lRe[r * n + r];
      yIm[r] = sIm / lRe[r * n + r];
    }
    // back substitution L^H x = y, (L^H)_{rm} = conj(L_mr)
    for (let r = n - 1; r >= 0; r--) {
      let sRe = yRe[r];
      let sIm = yIm[r];
      for (let m = r + 1; m < n; m++) {
        const pr = lRe[m * n + r], pi = -lIm[m * n + r];
        sRe -= pr * xRe[m] - pi * xIm[m];
        sIm -= pr * xIm[m] + pi * xRe[m];
      }
      xRe[r] = sRe / lRe[r * n + r];
      xIm[r] = sIm / lRe[r * n + r];
    }
    return true;
  }
}
