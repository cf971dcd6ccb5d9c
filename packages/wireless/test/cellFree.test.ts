import { describe, expect, it } from 'vitest';
import { cellFreeInstance, cellFreeMinRate, cellFreeNoiseW, cellFreeOptimal, cellFreeSinr, cellFreeTerms, cellFreeV, hataL, Rng, threeSlopeDb, type CellFreeInstance } from '../src/index.ts';

/** 2 APs x 2 users sharing one pilot (tau = 1), rho = 1: the numbers of the hand computation below. */
const tiny = (v: 'paper' | 'gamma' = 'paper'): CellFreeInstance => ({ model: 'cell-free', M: 2, K: 2, u: Float64Array.of(1, 2, 3, 4), rho: 1, tau: 1, pilot: Int32Array.of(0, 0), v });

describe('cell-free massive MIMO (eqs. 5-6; Ngo et al.)', () => {
  it('Hata-COST231 L, the three slopes and the noise power, by hand', () => {
    // 46.3 + 33.9 log10 1900 - 13.82 log10 15 - (1.1 log10 1900 - 0.7) 1.65 + (1.56 log10 1900 - 0.8)
    expect(hataL()).toBeCloseTo(140.71508370390842, 10);
    const L = hataL();
    expect(threeSlopeDb(0.1)).toBeCloseTo(-L + 35, 10); // beyond d1: -L - 35 log10 d
    expect(threeSlopeDb(0.03)).toBeCloseTo(-L - 15 * Math.log10(0.05) - 20 * Math.log10(0.03), 10);
    expect(threeSlopeDb(0.005)).toBeCloseTo(-L - 15 * Math.log10(0.05) - 20 * Math.log10(0.01), 10); // flat below d0
    expect(cellFreeNoiseW()).toBeCloseTo(6.360793201074298e-13, 22); // k_B 290 K x 20 MHz x 9 dB
  });

  it('SINR of eq. (5) on 2 APs x 2 users, against a hand computation', () => {
    const inst = tiny();
    // v_mk = sqrt(tau rho) u_mk / (tau rho sum_k' u_mk' |phi|^2 + 1): AP 0 1/4, 2/4; AP 1 3/8, 4/8
    expect(Array.from(cellFreeV(inst))).toEqual([0.25, 0.5, 0.375, 0.5]);
    const { a, F, n } = cellFreeTerms(inst);
    // user 0: (sum v)^2 = (5/8)^2; F_00 = sum v u_m0 = 1.375; F_01 = (sum v u_m1 / u_m0)^2 + sum v u_m1 = 1 + 2; n_0 = 5/8
    expect(Array.from(a)).toEqual([25 / 64, 1]);
    expect(Array.from(F)).toEqual([1.375, 3, 0.390625 + 2, 3]);
    expect(Array.from(n)).toEqual([0.625, 1]);
    const sinr = cellFreeSinr(inst, [1, 0.5]);
    expect(sinr[0]).toBeCloseTo(25 / 64 / (1.375 + 1.5 + 0.625), 15);
    expect(sinr[1]).toBeCloseTo(0.5 / (2.390625 + 1.5 + 1), 15);
    expect(cellFreeMinRate(inst, [1, 0.5])).toBeCloseTo(Math.log2(1 + 0.5 / 4.890625), 15);
    // Ngo et al.'s gamma_mk = sqrt(tau rho) u_mk c_mk: 1/4, 1, 9/8, 2
    expect(Array.from(cellFreeV(tiny('gamma')))).toEqual([0.25, 1, 1.125, 2]);
  });

  it('the optimal algorithm (bisection on the common SINR) beats every point of a grid, and balances the users', () => {
    for (let n = 0; n < 3; n++) {
      const inst = cellFreeInstance(Rng.derive(9, n), { M: 8, K: 3, tau: 2 });
      const terms = cellFreeTerms(inst);
      const opt = cellFreeOptimal(inst, { terms });
      const best = cellFreeMinRate(inst, opt.p, terms);
      let grid = 0;
      // 60 levels from 1e-4 to 1, geometric: a max-min optimum may give a user very little
      const levels = Array.from({ length: 60 }, (_, i) => 10 ** (-4 + (4 * i) / 59));
      for (const x of levels) for (const y of levels) for (const z of levels) grid = Math.max(grid, cellFreeMinRate(inst, [x, y, z], terms));
      expect(best).toBeGreaterThanOrEqual(grid);
      expect(best).toBeLessThan(grid * 1.05);
      expect(Math.max(...opt.p)).toBe(1);
      const s = cellFreeSinr(inst, opt.p, terms);
      expect(Math.max(...s) / Math.min(...s)).toBeLessThan(1 + 1e-5); // max-min: every user at the common target
      expect(best).toBeGreaterThan(cellFreeMinRate(inst, [1, 1, 1], terms));
    }
  });

  it('draws APs and users in the 0.5 km square, u_mk from the three slopes and 8 dB shadowing, pilots from tau', () => {
    const inst = cellFreeInstance(new Rng(4), { M: 30, K: 6 });
    expect(inst.tau).toBe(3);
    expect(Array.from(inst.pilot).every((x) => x >= 0 && x < 3)).toBe(true);
    expect(cellFreeInstance(new Rng(4), { M: 30, K: 6 }).u).toEqual(inst.u); // seeded
    expect(Array.from(cellFreeInstance(new Rng(4), { M: 30, K: 6, tau: 6 }).pilot)).toEqual([0, 1, 2, 3, 4, 5]); // orthogonal
    expect(Array.from(inst.ap!).every((x) => x >= 0 && x <= 500)).toBe(true);
    // no u above the flat part's gain, and the median link some 100-300 m away: -L - 35 log10 d
    const max = 10 ** (threeSlopeDb(0.001) / 10);
    expect(Array.from(inst.u).every((x) => x > 0 && x <= max * 10 ** 0.0001)).toBe(true);
    const db = Array.from(inst.u, (x) => 10 * Math.log10(x)).sort((x, y) => x - y);
    expect(db[db.length >> 1]).toBeGreaterThan(threeSlopeDb(0.35) - 4);
    expect(db[db.length >> 1]).toBeLessThan(threeSlopeDb(0.1) + 4);
  });
});
