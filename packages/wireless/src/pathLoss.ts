/**
 * Path-loss formulas of the D2D model (channel-models.md section 2 and the robustness tests of
 * gnn-wireless-theory-to-practice-dmp.md, section VI-A, Tables II-III), in dB, at the 2.4 GHz
 * carrier, for a distance d in metres between a transmitter at height h1 and a receiver at h2.
 */
export const CARRIER_HZ = 2.4e9;
export const LAMBDA = 2.998e8 / CARRIER_HZ;
/** Antenna heights of the papers' code (transmitter and receiver), metres. */
export const DEFAULT_ANTENNA_HEIGHT = 1.5;

/** Breakpoint distance and loss of ITU-R P.1411's two-slope LoS model: Rbp = 4 h1 h2 / lambda, Lbp = |20 log10(lambda^2 / (8 pi h1 h2))|. */
export function itu1411Breakpoint(h1: number, h2: number): { Rbp: number; Lbp: number } {
  return { Rbp: (4 * h1 * h2) / LAMBDA, Lbp: Math.abs(20 * Math.log10((LAMBDA * LAMBDA) / (8 * Math.PI * h1 * h2))) };
}

/**
 * ITU-R P.1411 LoS within street canyons (lower bound; the papers' code):
 * PL = Lbp + 6 + 20 log10(d / Rbp), plus another 20 log10(d / Rbp) beyond the breakpoint.
 */
export function itu1411LosDb(d: number, h1 = DEFAULT_ANTENNA_HEIGHT, h2 = DEFAULT_ANTENNA_HEIGHT): number {
  const { Rbp, Lbp } = itu1411Breakpoint(h1, h2);
  const r = 20 * Math.log10(d / Rbp);
  return Lbp + 6 + r + (d > Rbp ? r : 0);
}

/**
 * ITU-R P.1411-11 section 4.1.1, site-general below-rooftop NLoS (urban high-rise, Table 4:
 * alpha 4.00, beta 10.2, gamma 2.36): PL = 10 alpha log10(d) + beta + 10 gamma log10(f_GHz), floored
 * at the LoS loss of the same link (the fit holds from 30 m; below ~11 m it would undercut LoS).
 */
export function itu1411NlosDb(d: number, h1 = DEFAULT_ANTENNA_HEIGHT, h2 = DEFAULT_ANTENNA_HEIGHT): number {
  const nlos = 40 * Math.log10(d) + 10.2 + 23.6 * Math.log10(CARRIER_HZ / 1e9);
  return Math.max(nlos, itu1411LosDb(d, h1, h2));
}

/**
 * ITU-R P.1411-11 section 4.3.1, the LoS fraction at distance d: the location percentage p/100 whose
 * d_LoS(p) = 212 log10(p/100)^2 - 64 log10(p/100) (p < 45) or 79.2 - 70 p/100 (p >= 45) equals d;
 * 1 below d_LoS(100) = 9.2 m.
 */
export function itu1411LosProbability(d: number): number {
  if (d <= 9.2) return 1;
  if (d <= 79.2 - 70 * 0.45) return (79.2 - d) / 70;
  return 10 ** ((64 - Math.sqrt(64 * 64 + 4 * 212 * d)) / (2 * 212)); // the negative root x = log10(p/100) of 212 x^2 - 64 x - d = 0
}

/** The LTE path loss of 3GPP TR 36.814, annex A.2.1.1 (macro cell, 2 GHz): PL = 128.1 + 37.6 log10(d / 1 km). */
export function lteMacroPathLossDb(d: number): number {
  return 128.1 + 37.6 * Math.log10(d / 1000);
}
