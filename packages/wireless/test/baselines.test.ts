import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BEST_FPLINQ_STARTS, bestFplinqPower, d2dInstance, fplinqPower, generateInstance, HermitianSolver, objective, parseInstanceFile, rayleighInstance, Rng, runCentralized, wmmsePower, type Decision, type Instance } from '../src/index.ts';
import { REFERENCE_DIR } from '../../../test/referenceDir.ts';

const refDir = new URL(`file://${REFERENCE_DIR}/`);
const refs = readdirSync(refDir).filter((f) => f.endsWith('.json')).map((f) => parseInstanceFile(JSON.parse(readFileSync(new URL(f, refDir), 'utf8')), f));

function historyOf(inst: Instance, name: 'wmmse' | 'fplinq', iterations: number): number[] {
  const h: number[] = [];
  runCentralized(name, inst, { iterations, onIteration: (_t: number, d: Decision) => h.push(objective(inst, d)) });
  return h;
}

describe('centralized baselines', () => {
  it('WMMSE and FPLinQ objectives never decrease over iterations (20 Rayleigh instances K = 10, 20, weighted and not; D2D)', () => {
    const insts = [
      ...Array.from({ length: 20 }, (_, s) => rayleighInstance(new Rng(s), { K: s % 2 ? 20 : 10, snrDb: s % 4 < 2 ? 10 : 0, weighted: s >= 10 })),
      ...Array.from({ length: 4 }, (_, s) => d2dInstance(new Rng(50 + s), { K: 20 })),
    ];
    for (const inst of insts)
      for (const name of ['wmmse', 'fplinq'] as const) {
        const h = historyOf(inst, name, 60);
        expect(h).toHaveLength(60);
        for (let t = 1; t < h.length; t++) expect(h[t], `${name} K=${inst.K} t=${t}`).toBeGreaterThanOrEqual(h[t - 1] * (1 - 1e-12));
      }
  });

  it('FPLinQ power control takes the same iterates as WMMSE (y_k^2 = w_k a_k u_k^2: the two are one algorithm for SISO)', () => {
    const inst = rayleighInstance(new Rng(3), { K: 15, snrDb: 10, weighted: true });
    const a = wmmsePower(inst, { iterations: 30 });
    const b = fplinqPower(inst, { iterations: 30 });
    a.forEach((p, k) => expect(b[k]).toBeCloseTo(p, 12));
  });

  it('WMMSE gives power 0 to a pair of weight 0 that no weighted receiver hears (eq. 16a is 0 / 0 there: it was NaN), and the others the powers of the network without it', () => {
    const sub = rayleighInstance(new Rng(4), { K: 2, snrDb: 10 });
    const gain = new Float64Array(9); // pair 0 alone: no cross gain to or from it
    gain[0] = 0.8;
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) gain[(i + 1) * 3 + j + 1] = sub.gain[i * 2 + j];
    const inst: Instance = { ...sub, K: 3, gain, weights: Float64Array.of(0, 1, 1) };
    const p = wmmsePower(inst, { iterations: 50 });
    const q = wmmsePower(sub, { iterations: 50 });
    expect(p[0]).toBe(0);
    expect(p[1]).toBeCloseTo(q[0], 12);
    expect(p[2]).toBeCloseTo(q[1], 12);
    expect(objective(inst, { kind: 'power', p })).toBeCloseTo(objective(sub, { kind: 'power', p: q }), 12);
    expect(fplinqPower(inst, { iterations: 50 })[0]).toBe(0); // as FPLinQ, the same algorithm for SISO
  });

  it('WMMSE and FPLinQ beat full power on every reference instance', () => {
    for (const f of refs)
      for (const inst of f.instances) {
        const full = objective(inst, runCentralized('full', inst));
        expect(objective(inst, runCentralized('wmmse', inst))).toBeGreaterThan(full);
        expect(objective(inst, runCentralized('fplinq', inst))).toBeGreaterThan(full);
      }
  });

  it('Best FPLinQ is at least FPLinQ from full power on every instance and is the best of the 101 runs (full power, then 100 random starts)', () => {
    const insts = [
      ...Array.from({ length: 6 }, (_, s) => rayleighInstance(new Rng(`best/${s}`), { K: 10, snrDb: 10, weighted: s % 2 === 1 })),
      ...Array.from({ length: 6 }, (_, s) => d2dInstance(new Rng(`best-d2d/${s}`), { K: 10, field: 250, dmin: 10, dmax: 50, weighted: false })),
    ];
    let strictlyBetter = 0;
    insts.forEach((inst, n) => {
      const d = runCentralized('best-fplinq', inst, { rng: Rng.derive('best', n) });
      const best = objective(inst, d);
      const fromFull = objective(inst, runCentralized('fplinq', inst));
      expect(best).toBeGreaterThanOrEqual(fromFull);
      // the 101 runs again, written out: the same starts from a copy of the stream
      const rng = Rng.derive('best', n);
      const runs = [fromFull];
      for (let s = 0; s < BEST_FPLINQ_STARTS; s++) {
        const p0 = Float64Array.from({ length: inst.K }, () => rng.uniform() * inst.pmax);
        runs.push(objective(inst, { kind: 'power', p: fplinqPower(inst, { iterations: 100, p0 }) }));
      }
      expect(runs).toHaveLength(101);
      expect(best).toBe(Math.max(...runs));
      expect(bestFplinqPower(inst, { rng: Rng.derive('best', n), iterations: 100 }).runs).toEqual(runs);
      if (best > fromFull * (1 + 1e-6)) strictlyBetter++;
    });
    expect(strictlyBetter).toBeGreaterThan(0); // the random starts find better local optima on some instances
    expect(() => runCentralized('best-fplinq', insts[0])).toThrow('runCentralized: best-fplinq needs an rng (its random starts)');
  });

  it('strongest with fraction 1 is full power; with 0.2 it switches on the 20% largest w_k g_kk^2', () => {
    const inst = rayleighInstance(new Rng(4), { K: 10, snrDb: 10, weighted: true });
    expect(runCentralized('strongest', inst, { fraction: 1 })).toEqual(runCentralized('full', inst));
    const d = runCentralized('strongest', inst, { fraction: 0.2 });
    const score = Array.from({ length: 10 }, (_, k) => inst.weights[k] * inst.gain[k * 11] ** 2);
    const top = [...score.keys()].sort((a, b) => score[b] - score[a]).slice(0, 2);
    expect(d.kind === 'power' && Array.from(d.p).map((p, k) => (p > 0 ? k : -1)).filter((k) => k >= 0).sort()).toEqual(top.sort());
    expect(() => runCentralized('strongest', inst, { fraction: 0 })).toThrow('strongest: fraction must be in (0, 1], got 0');
  });

  it('equal power is never worse than full power; random is reproducible from its seed and needs one', () => {
    const inst = rayleighInstance(new Rng(5), { K: 10, snrDb: 0 });
    expect(objective(inst, runCentralized('equal', inst))).toBeGreaterThanOrEqual(objective(inst, runCentralized('full', inst)));
    expect(runCentralized('random', inst, { rng: new Rng(1) })).toEqual(runCentralized('random', inst, { rng: new Rng(1) }));
    expect(() => runCentralized('random', inst)).toThrow('runCentralized: random needs an rng');
    expect(() => runCentralized('nope' as never, inst)).toThrow('runCentralized: unknown algorithm "nope": expected one of wmmse, fplinq, best-fplinq, strongest, full, random, equal');
  });
});

/** A MISO instance by hand: h_ij ~ CN(0, I) in C^Nt (transmitter i to receiver j), gain = ||h_ij||. */
function misoByHand(seed: number, o: { K: number; Nt: number; noise: number; weighted?: boolean; pmax?: number }): Instance {
  const rng = new Rng(`miso-by-hand/${seed}`);
  const { K, Nt } = o;
  const hRe = new Float64Array(K * K * Nt);
  const hIm = new Float64Array(K * K * Nt);
  const gain = new Float64Array(K * K);
  for (let e = 0; e < K * K; e++) {
    let n2 = 0;
    for (let n = 0; n < Nt; n++) {
      [hRe[e * Nt + n], hIm[e * Nt + n]] = rng.complexNormal();
      n2 += hRe[e * Nt + n] ** 2 + hIm[e * Nt + n] ** 2;
    }
    gain[e] = Math.sqrt(n2);
  }
  const weights = Float64Array.from({ length: K }, () => (o.weighted ? rng.uniform() : 1));
  return { model: 'miso', K, Nt, noise: o.noise, pmax: o.pmax ?? 1, weights, gain, hRe, hIm };
}

function beamHistory(inst: Instance, iterations: number): { objective: number; maxNorm2: number }[] {
  const h: { objective: number; maxNorm2: number }[] = [];
  runCentralized('wmmse', inst, {
    iterations,
    onIteration: (_t, d) => {
      if (d.kind !== 'beam') throw new Error('expected beams');
      let maxNorm2 = 0;
      for (let k = 0; k < inst.K; k++) {
        let s = 0;
        for (let n = 0; n < inst.Nt; n++) s += d.vRe[k * inst.Nt + n] ** 2 + d.vIm[k * inst.Nt + n] ** 2;
        maxNorm2 = Math.max(maxNorm2, s);
      }
      h.push({ objective: objective(inst, d), maxNorm2 });
    },
  });
  return h;
}

describe('WMMSE beamforming (MISO)', () => {
  const cases = Array.from({ length: 12 }, (_, s) => ({ seed: s, K: 6, Nt: s % 3 === 2 ? 4 : 2, noise: [1, 0.1, 0.01][s % 3], weighted: s % 2 === 1, pmax: s === 5 ? 2.5 : 1 }));

  it('objective never decreases and every beam keeps ||v_k||^2 <= Pmax (K = 6, Nt = 2 and 4, three SNRs, weighted and not)', () => {
    for (const c of cases) {
      const inst = misoByHand(c.seed, c);
      const h = beamHistory(inst, 100);
      expect(h).toHaveLength(100);
      const full = objective(inst, runCentralized('full', inst));
      expect(h[0].objective, `seed ${c.seed}`).toBeGreaterThanOrEqual(full * (1 - 1e-12));
      for (let t = 0; t < h.length; t++) {
        expect(h[t].maxNorm2, `seed ${c.seed} t=${t + 1}`).toBeLessThanOrEqual(inst.pmax + 1e-9);
        if (t > 0) expect(h[t].objective, `seed ${c.seed} t=${t + 1}`).toBeGreaterThanOrEqual(h[t - 1].objective * (1 - 1e-12));
      }
      expect(h[99].objective).toBeGreaterThan(full);
    }
  });

  it('with Nt = 1 it is power-control WMMSE on the SISO instance with gains |h_ij| (complex phases and all)', () => {
    for (let s = 0; s < 6; s++) {
      const miso = misoByHand(100 + s, { K: 8, Nt: 1, noise: s % 2 ? 1 : 0.1, weighted: s >= 3 });
      const siso: Instance = { ...miso, model: 'rayleigh-ic', hRe: undefined, hIm: undefined };
      const beams = runCentralized('wmmse', miso);
      const powers = runCentralized('wmmse', siso);
      expect(beams.kind).toBe('beam');
      expect(powers.kind).toBe('power');
      const a = objective(miso, beams), b = objective(siso, powers);
      expect(Math.abs(a - b) / b, `${a} vs ${b}`).toBeLessThan(1e-9);
      if (beams.kind === 'beam' && powers.kind === 'power')
        for (let k = 0; k < 8; k++) expect(beams.vRe[k] ** 2 + beams.vIm[k] ** 2).toBeCloseTo(powers.p[k], 9);
    }
  });

  it('a single pair converges to maximum-ratio transmission: rate log2(1 + Pmax ||h||^2 / sigma^2)', () => {
    for (const Nt of [1, 2, 4]) {
      const inst = misoByHand(200 + Nt, { K: 1, Nt, noise: 0.5, pmax: 2 });
      const best = Math.log2(1 + (inst.pmax * inst.gain[0] ** 2) / inst.noise);
      expect(objective(inst, runCentralized('wmmse', inst, { iterations: 200 }))).toBeCloseTo(best, 9);
    }
  });

  it('MISO dispatch: full and equal are uniform beams, fplinq, strongest and random say they are SISO-only', () => {
    const inst = misoByHand(7, { K: 6, Nt: 2, noise: 0.1 });
    const full = runCentralized('full', inst);
    expect(full.kind === 'beam' && Array.from(full.vRe)).toEqual(Array(12).fill(Math.SQRT1_2));
    expect(full.kind === 'beam' && Array.from(full.vIm)).toEqual(Array(12).fill(0));
    expect(objective(inst, runCentralized('equal', inst))).toBeGreaterThanOrEqual(objective(inst, full));
    for (const name of ['fplinq', 'strongest', 'random'] as const)
      expect(() => runCentralized(name, inst, { rng: new Rng(1) })).toThrow(`runCentralized: ${name} is SISO-only (power control); this miso instance has Nt = 2 transmit antennas: use wmmse, full or equal`);
  });

  it('the Hermitian solver solves (A + mu I) x = b for n = 1, 2, 4 and reports a singular matrix', () => {
    const rng = new Rng(9);
    for (const n of [1, 2, 4]) {
      // A = B B^H with B n x n complex: Hermitian positive semidefinite
      const B = Array.from({ length: n * n }, () => rng.complexNormal());
      const aRe = new Float64Array(n * n), aIm = new Float64Array(n * n);
      for (let r = 0; r < n; r++)
        for (let c = 0; c < n; c++)
          for (let m = 0; m < n; m++) {
            const [pr, pi] = B[r * n + m], [qr, qi] = B[c * n + m];
            aRe[r * n + c] += pr * qr + pi * qi;
            aIm[r * n + c] += pi * qr - pr * qi;
          }
      const bRe = Float64Array.from({ length: n }, () => rng.normal()), bIm = Float64Array.from({ length: n }, () => rng.normal());
      const xRe = new Float64Array(n), xIm = new Float64Array(n);
      for (const mu of [0, 0.3]) {
        expect(new HermitianSolver(n).solve(aRe, aIm, mu, bRe, bIm, xRe, xIm)).toBe(true);
        for (let r = 0; r < n; r++) {
          let re = mu * xRe[r], im = mu * xIm[r];
          for (let c = 0; c < n; c++) {
            re += aRe[r * n + c] * xRe[c] - aIm[r * n + c] * xIm[c];
            im += aRe[r * n + c] * xIm[c] + aIm[r * n + c] * xRe[c];
          }
          expect(re).toBeCloseTo(bRe[r], 9);
          expect(im).toBeCloseTo(bIm[r], 9);
        }
      }
    }
    // rank one 2 x 2: h h^H with h = (1, i)
    const ok = new HermitianSolver(2).solve(Float64Array.of(1, 0, 0, 1), Float64Array.of(0, -1, 1, 0), 0, Float64Array.of(1, 0), Float64Array.of(0, 0), new Float64Array(2), new Float64Array(2));
    expect(ok).toBe(false);
  });
});

describe('WMMSE beamforming on generated MISO instances (channel-models.md section 3)', () => {
  it('never decreases, keeps ||v_k||^2 <= Pmax and beats full power (K = 20, Nt = 2, weighted and not)', () => {
    for (let s = 0; s < 4; s++) {
      const inst = generateInstance('miso', new Rng(300 + s), { K: 20, Nt: 2, weighted: s % 2 === 1 });
      const h = beamHistory(inst, 100);
      for (let t = 0; t < h.length; t++) {
        expect(h[t].maxNorm2, `seed ${300 + s} t=${t + 1}`).toBeLessThanOrEqual(inst.pmax + 1e-9);
        if (t > 0) expect(h[t].objective, `seed ${300 + s} t=${t + 1}`).toBeGreaterThanOrEqual(h[t - 1].objective * (1 - 1e-12));
      }
      expect(h[99].objective).toBeGreaterThan(objective(inst, runCentralized('full', inst)));
    }
  });
});
