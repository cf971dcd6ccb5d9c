import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  D2D_NOISE,
  D2D_NOISE_W,
  d2dInstance,
  d2dLayout,
  generateInstance,
  instanceFileToJson,
  itu1411Breakpoint,
  itu1411LosDb,
  itu1411LosProbability,
  itu1411NlosDb,
  itu1411PathLossDb,
  lteMacroPathLossDb,
  Rng,
  type D2dOptions,
} from '../src/index.ts';

describe('path-loss formulas against numbers computed by hand (python3, math module)', () => {
  it('ITU-R P.1411 LoS with antenna heights: the breakpoint moves with h1 h2', () => {
    // lam = 2.998e8/2.4e9; Rbp = 4*40*2/lam; Lbp = abs(20*log10(lam**2/(8*pi*40*2)))
    const { Rbp, Lbp } = itu1411Breakpoint(40, 2);
    expect(Rbp).toBeCloseTo(2561.707805203469, 9);
    expect(Lbp).toBeCloseTo(102.20178146153424, 10);
    // Lbp + 6 + 20 log10(30 / Rbp): below the breakpoint, free space + 6 dB whatever the heights
    expect(itu1411LosDb(30, 40, 2)).toBeCloseTo(69.57361472554246, 10);
    expect(itu1411LosDb(3000, 40, 2)).toBeCloseTo(110.94544798955067, 10); // beyond: 40 dB/decade
    expect(itu1411LosDb(100)).toBeCloseTo(82.87874717837582, 10); // h1 = h2 = 1.5 m: Rbp = 72 m
    for (const d of [3, 50, 100, 700]) expect(itu1411LosDb(d)).toBe(itu1411PathLossDb(d));
  });

  it('ITU-R P.1411 NLoS (section 4.1.1, urban high-rise), floored at LoS below ~11 m', () => {
    // 40*log10(30) + 10.2 + 23.6*log10(2.4)
    expect(itu1411NlosDb(30)).toBeCloseTo(78.2578354931804, 10);
    // at 5 m the fit (47.1 dB) is below LoS (54.01 dB): the floor
    expect(itu1411NlosDb(5)).toBeCloseTo(54.01058971786959, 10);
  });

  it('P.1411 section 4.3.1 LoS probability: d_LoS(p) inverted', () => {
    expect(itu1411LosProbability(5)).toBe(1);
    expect(itu1411LosProbability(9.2)).toBe(1);
    expect(itu1411LosProbability(20)).toBeCloseTo(0.8457142857142858, 12); // (79.2 - 20) / 70
    expect(itu1411LosProbability(47.7)).toBeCloseTo(0.45, 12); // the branches meet at p = 45 %
    // x = (64 - sqrt(64^2 + 848 d)) / 424, p = 10^x; 212 x^2 - 64 x gives back d
    expect(itu1411LosProbability(100)).toBeCloseTo(0.28038142553707324, 12);
    expect(itu1411LosProbability(300)).toBeCloseTo(0.08950097887828629, 12);
  });

  it('LTE (3GPP TR 36.814 macro): 128.1 + 37.6 log10(d / km)', () => {
    expect(lteMacroPathLossDb(30)).toBeCloseTo(70.8397591774593, 10);
    expect(lteMacroPathLossDb(200)).toBeCloseTo(101.81872783696569, 10);
  });
});

/** Large-scale gain (dB) of every link of an instance: 20 log10(amplitude) minus shadowing and fading is not separable, so tests compare means over many links. */
function linkDb(inst: ReturnType<typeof d2dInstance>): number[] {
  return Array.from(inst.gain, (g) => 20 * Math.log10(g));
}

describe('d2d network parameters of Tables II-III', () => {
  it('the defaults draw the instances they drew before these parameters existed, byte for byte', () => {
    const h = createHash('sha256');
    for (const o of [{ K: 20 }, { K: 10, field: 250, dmin: 10, dmax: 50, weighted: false, csiRange: 100 }])
      for (let s = 0; s < 5; s++) h.update(JSON.stringify(instanceFileToJson({ model: 'd2d', instances: [generateInstance('d2d', Rng.derive(2026, s), o)] })));
    expect(h.digest('hex')).toBe('035daabc7ea5c29ee917927aa777bed28e1f0b8d03c02f751692e31f3c3292cf'); // computed at b6d5cb0, before
    const o: D2dOptions = { K: 10, field: 250, dmin: 10, dmax: 50 };
    expect(d2dInstance(new Rng(1), { ...o, pathLoss: 'itu1411', los: 'los', txHeight: 1.5, rxHeight: 1.5, txPower: 40 })).toEqual(d2dInstance(new Rng(1), o));
  });

  it('txPower sets sigma^2 = noise / power; a range draws one power per instance', () => {
    expect(d2dInstance(new Rng(1), { K: 5, txPower: 40 }).noise).toBe(D2D_NOISE);
    expect(d2dInstance(new Rng(1), { K: 5, txPower: 0 }).noise).toBeCloseTo(D2D_NOISE_W / 1e-3, 25);
    expect(d2dInstance(new Rng(1), { K: 5, txPower: 20 }).noise / D2D_NOISE).toBeCloseTo(100, 9);
    const noises = Array.from({ length: 200 }, (_, s) => d2dInstance(new Rng(s), { K: 5, txPower: [10, 30] }).noise);
    const dbm = noises.map((n) => 10 * Math.log10(D2D_NOISE_W / n) + 30);
    expect(Math.min(...dbm)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...dbm)).toBeLessThanOrEqual(30);
    expect(Math.abs(dbm.reduce((s, x) => s + x, 0) / 200 - 20)).toBeLessThan(1); // U[10, 30]: mean 20, std 5.8 / sqrt(200)
    // the same layout and fading: only sigma^2 moves
    expect(d2dInstance(new Rng(3), { K: 5, txPower: 0 }).gain).toEqual(d2dInstance(new Rng(3), { K: 5 }).gain);
  });

  it('NLoS links lose on average what the NLoS formula says more than LoS links, on the same layout and draws', () => {
    const o: D2dOptions = { K: 30, field: 250, dmin: 10, dmax: 50 };
    let diff = 0, n = 0;
    for (let s = 0; s < 5; s++) {
      const a = d2dInstance(new Rng(s), o), b = d2dInstance(new Rng(s), { ...o, los: 'nlos' });
      const { tx, rx } = a as Required<typeof a>;
      const da = linkDb(a), db = linkDb(b);
      for (let i = 0; i < 30; i++)
        for (let j = 0; j < 30; j++) {
          const d = Math.hypot(tx[2 * i] - rx[2 * j], tx[2 * i + 1] - rx[2 * j + 1]);
          expect(da[i * 30 + j] - db[i * 30 + j]).toBeCloseTo(itu1411NlosDb(d) - itu1411LosDb(d), 9);
          diff += da[i * 30 + j] - db[i * 30 + j];
          n++;
        }
    }
    expect(diff / n).toBeGreaterThan(5);
  });

  it('mixed: each link is LoS with P.1411 probability, one uniform per link after its fading (replayed draw by draw)', () => {
    const o: D2dOptions = { K: 40, field: 250, dmin: 10, dmax: 50, los: 'mixed' };
    let losLinks = 0, expected = 0, variance = 0;
    for (let s = 0; s < 5; s++) {
      const m = d2dInstance(new Rng(s), o);
      const replay = new Rng(s);
      const { tx, rx } = d2dLayout(replay, o);
      expect(m.tx).toEqual(tx);
      for (let i = 0; i < 40; i++)
        for (let j = 0; j < 40; j++) {
          const d = Math.hypot(tx[2 * i] - rx[2 * j], tx[2 * i + 1] - rx[2 * j + 1]);
          const shadow = replay.normal(), x = replay.normal(), y = replay.normal();
          const q = itu1411LosProbability(d);
          const los = replay.uniform() < q;
          const db = -(los ? itu1411LosDb(d) : itu1411NlosDb(d)) + (i === j ? 2.5 : 0) + 8 * shadow;
          expect(m.gain[i * 40 + j] / (10 ** (db / 20) * Math.sqrt((x * x + y * y) / 2))).toBeCloseTo(1, 12);
          losLinks += los ? 1 : 0;
          expected += q;
          variance += q * (1 - q);
        }
    }
    // 8000 links in a 250 m field: about 30 % line of sight
    expect(expected / 8000).toBeGreaterThan(0.15);
    expect(expected / 8000).toBeLessThan(0.6);
    expect(Math.abs(losLinks - expected)).toBeLessThan(4 * Math.sqrt(variance));
  });

  it('antenna heights: tall transmitters (3-D distances, a later breakpoint) raise the far links', () => {
    const o: D2dOptions = { K: 20, field: 250, dmin: 10, dmax: 50, txHeight: [30, 50], rxHeight: [1, 3] };
    const a = d2dInstance(new Rng(4), o);
    const b = d2dInstance(new Rng(4), { K: 20, field: 250, dmin: 10, dmax: 50 });
    expect(a.tx).toEqual(b.tx);
    expect(a.gain).not.toEqual(b.gain);
    // tall transmitters: beyond ~72 m the 1.5 m links fall at 40 dB/decade, the tall ones at 20
    const { tx, rx } = a as Required<typeof a>;
    let far = 0, farGain = 0;
    for (let i = 0; i < 20; i++)
      for (let j = 0; j < 20; j++) {
        if (Math.hypot(tx[2 * i] - rx[2 * j], tx[2 * i + 1] - rx[2 * j + 1]) < 150) continue;
        far++;
        farGain += linkDb(a)[i * 20 + j] - linkDb(b)[i * 20 + j];
      }
    expect(far).toBeGreaterThan(10);
    expect(farGain / far).toBeGreaterThan(3);
  });

  it('lte: 128.1 + 37.6 log10(d / km) with the same shadowing and fading draws', () => {
    const o: D2dOptions = { K: 15, field: 250, dmin: 10, dmax: 50 };
    const itu = d2dInstance(new Rng(8), o), lte = d2dInstance(new Rng(8), { ...o, pathLoss: 'lte' });
    const { tx, rx } = itu as Required<typeof itu>;
    for (let i = 0; i < 15; i++)
      for (let j = 0; j < 15; j++) {
        const d = Math.hypot(tx[2 * i] - rx[2 * j], tx[2 * i + 1] - rx[2 * j + 1]);
        expect(20 * Math.log10(lte.gain[i * 15 + j] / itu.gain[i * 15 + j])).toBeCloseTo(itu1411LosDb(d) - lteMacroPathLossDb(d), 8);
      }
  });
});
