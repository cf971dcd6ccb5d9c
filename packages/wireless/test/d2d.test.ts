import { describe, expect, it } from 'vitest';
import { D2D_NOISE, d2dInstance, d2dLayout, generateInstance, checkD2dLayout, instanceFileToJson, itu1411PathLossDb, L_BP, parseInstanceFile, R_BP, Rng } from '../src/index.ts';

describe('d2d model (channel-models.md section 2)', () => {
  it('path loss equals the ITU-1411 formula computed by hand', () => {
    // python3: lam = 2.998e8/2.4e9; Rbp = 9/lam; Lbp = |20 log10(lam^2 / (8 pi 2.25))|
    expect(R_BP).toBeCloseTo(72.04803202134757, 10);
    expect(L_BP).toBeCloseTo(71.18363208392262, 10);
    expect(itu1411PathLossDb(10)).toBeCloseTo(60.03118963114922, 10); // below the breakpoint
    expect(itu1411PathLossDb(50)).toBeCloseTo(74.01058971786959, 10);
    expect(itu1411PathLossDb(300)).toBeCloseTo(101.9635973671623, 10); // above: slope 40 dB/decade
    expect(D2D_NOISE).toBeCloseTo(6.29462705897083e-15, 25);
  });

  it('layout: transmitters and receivers in the field, direct distances in [dmin, dmax], none below 1 m', () => {
    for (let s = 0; s < 5; s++) {
      const inst = d2dInstance(new Rng(s), { K: 40, field: 300, dmin: 10, dmax: 50 });
      const { tx, rx } = inst as Required<typeof inst>;
      for (let k = 0; k < 40; k++) {
        for (const v of [tx[2 * k], tx[2 * k + 1], rx[2 * k], rx[2 * k + 1]]) expect(v >= 0 && v <= 300).toBe(true);
        const d = Math.hypot(tx[2 * k] - rx[2 * k], tx[2 * k + 1] - rx[2 * k + 1]);
        expect(d).toBeGreaterThanOrEqual(10);
        expect(d).toBeLessThanOrEqual(50);
        for (let j = 0; j < 40; j++) expect(Math.hypot(tx[2 * j] - rx[2 * k], tx[2 * j + 1] - rx[2 * k + 1])).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('shadowing x fading has the mean E[10^(N(0,64)/10)] * E[(X^2+Y^2)/2] over the path loss', () => {
    const ratios: number[] = [];
    for (let s = 0; s < 20; s++) {
      const inst = d2dInstance(new Rng(100 + s), { K: 30 });
      const { tx, rx, gain } = inst as Required<typeof inst>;
      for (let i = 0; i < 30; i++)
        for (let j = 0; j < 30; j++) {
          const d = Math.hypot(tx[2 * i] - rx[2 * j], tx[2 * i + 1] - rx[2 * j + 1]);
          const large = 10 ** ((-itu1411PathLossDb(d) + (i === j ? 2.5 : 0)) / 10);
          ratios.push(Math.log(gain[i * 30 + j] ** 2 / large));
        }
    }
    // ln of the product: shadowing N(0, (8 ln10/10)^2) plus ln of an Exp(1) variable (mean -0.5772, var pi^2/6)
    const n = ratios.length;
    const mean = ratios.reduce((s, x) => s + x, 0) / n;
    const varLn = ((8 * Math.LN10) / 10) ** 2 + Math.PI ** 2 / 6;
    expect(Math.abs(mean - -0.5772156649)).toBeLessThan(4 * Math.sqrt(varLn / n));
    const v = ratios.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
    expect(Math.abs(v - varLn) / varLn).toBeLessThan(0.05);
  });

  it('CSI range: agent k knows j exactly when transmitter j is within range of receiver k', () => {
    const inst = d2dInstance(new Rng(7), { K: 30, csiRange: 300 });
    const { tx, rx, csi } = inst as Required<typeof inst>;
    for (let j = 0; j < 30; j++)
      for (let k = 0; k < 30; k++) {
        if (j === k) continue;
        expect(csi[j * 30 + k]).toBe(Math.hypot(tx[2 * j] - rx[2 * k], tx[2 * j + 1] - rx[2 * k + 1]) <= 300 ? 1 : 0);
      }
  });

  it('is reproducible from its seed, differs across seeds, and round-trips through JSON', () => {
    const a = d2dInstance(new Rng(5), { K: 12, csiRange: 200 });
    expect(d2dInstance(new Rng(5), { K: 12, csiRange: 200 })).toEqual(a);
    expect(d2dInstance(new Rng(6), { K: 12, csiRange: 200 }).gain).not.toEqual(a.gain);
    const back = parseInstanceFile(JSON.parse(JSON.stringify(instanceFileToJson({ model: 'd2d', instances: [a] }))));
    expect(back.instances[0]).toEqual(a);
  });

  it.each([
    [{ K: 5, field: 1 }, 'd2d layout (K=5, field=1, dmin=2, dmax=65): the field (1 m) is smaller than dmin (2 m)'],
    [{ K: 5, dmin: 0.1, dmax: 0.5 }, 'd2d layout (K=5, field=1000, dmin=0.1, dmax=0.5): dmax (0.5 m) is below 1 m, the closest a receiver may be to a transmitter'],
    [{ K: 5, field: 10, dmin: 10, dmax: 10 }, 'd2d layout (K=5, field=10, dmin=10, dmax=10): no receiver position inside the field for pair 1 in 1000 draws (the field is too small for the link distances)'],
    [{ K: 200, field: 3, dmin: 1, dmax: 2 }, 'd2d layout (K=200, field=3, dmin=1, dmax=2): each of 100 layouts had a transmitter closer than 1 m to a receiver (too dense: enlarge the field or lower K)'],
  ])('an impossible layout %j throws one line instead of looping forever', (o, message) => {
    expect(() => d2dLayout(new Rng(1), o)).toThrow(new Error(message));
    expect(() => checkD2dLayout(new Rng(1), o)).toThrow(new Error(message));
    expect(() => generateInstance('miso', new Rng(1), o)).toThrow(new Error(message));
  });

  it('dense layouts: the sorted closeness check redraws exactly when the K x K scan does (same positions)', () => {
    for (let seed = 0; seed < 30; seed++) {
      const o = { K: 120, field: 120, dmin: 2, dmax: 20 };
      const a = d2dLayout(new Rng(seed), o);
      const b = d2dInstance(new Rng(seed), o);
      expect(Array.from(b.tx!)).toEqual(Array.from(a.tx));
      expect(Array.from(b.rx!)).toEqual(Array.from(a.rx));
    }
  });

  it('checkD2dLayout draws what d2dLayout draws', () => {
    const a = new Rng(3), b = new Rng(3);
    d2dLayout(a, { K: 30, field: 100 });
    checkD2dLayout(b, { K: 30, field: 100 });
    expect(a.uniform()).toBe(b.uniform());
  });
});
