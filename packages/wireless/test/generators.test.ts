import { describe, expect, it } from 'vitest';
import {
  generateInstance,
  objective,
  subInstance,
  instanceFileToJson,
  itu1411PathLossDb,
  L_BP,
  MODEL_NAMES,
  misoBeta,
  parseInstanceFile,
  R_BP,
  Rng,
  type GenerateOptions,
  type Instance,
  type ModelName,
} from '../src/index.ts';

// Every generator is reached through the registry, so these tests also check the wiring of models.ts.
const gen = (model: ModelName, seed: number, o: GenerateOptions): Required<Instance> => generateInstance(model, new Rng(seed), o) as Required<Instance>;
const dist = (inst: Instance, i: number, j: number): number => Math.hypot(inst.tx![2 * i] - inst.rx![2 * j], inst.tx![2 * i + 1] - inst.rx![2 * j + 1]);
const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/** |sample mean - mu| within z standard errors, the standard deviation `sd` known analytically. */
function expectMean(xs: number[], mu: number, sd: number, z = 4): void {
  expect(Math.abs(mean(xs) - mu)).toBeLessThan((z * sd) / Math.sqrt(xs.length));
}

describe('rayleigh-ic (channel-models.md section 1)', () => {
  it('mean |h|^2 is 1 (|CN(0,1)|^2 is Exp(1): sd 1)', () => {
    const g2: number[] = [];
    for (let s = 0; s < 20; s++) for (const g of gen('rayleigh-ic', s, { K: 50 }).gain) g2.push(g * g);
    expectMean(g2, 1, 1);
  });
});

describe('d2d (channel-models.md section 2)', () => {
  it('ITU-1411 path loss equals the hand-computed formula below and above Rbp', () => {
    // python3: lam=2.998e8/2.4e9; Rbp=9/lam; Lbp=abs(20*log10(lam**2/(8*pi*2.25))); r=20*log10(d/Rbp)
    expect(R_BP).toBeCloseTo(72.04803202134757, 10);
    expect(L_BP).toBeCloseTo(71.18363208392262, 10);
    expect(itu1411PathLossDb(5)).toBeCloseTo(54.01058971786959, 10);
    expect(itu1411PathLossDb(72)).toBeCloseTo(77.17783955977458, 10); // just below Rbp
    expect(itu1411PathLossDb(150)).toBeCloseTo(89.92239754060304, 10);
    expect(itu1411PathLossDb(1000)).toBeCloseTo(122.87874717837582, 10);
  });

  it('defaults: noise -169 dBm/Hz x 5 MHz over 10 W, pmax 1, Nt 1, weighted w_k in [0, 1)', () => {
    const inst = gen('d2d', 1, { K: 20 });
    expect(inst.model).toBe('d2d');
    expect(inst.noise).toBeCloseTo(10 ** ((-169 + 10 * Math.log10(5e6) - 30) / 10) / 10, 25);
    expect([inst.pmax, inst.Nt, inst.csi]).toEqual([1, 1, undefined]);
    expect(inst.weights.every((w) => w >= 0 && w < 1)).toBe(true);
    expect(new Set(inst.weights).size).toBe(20);
    expect(gen('d2d', 1, { K: 20, weighted: false }).weights).toEqual(new Float64Array(20).fill(1));
  });

  it('layout: all positions in the field, direct distances in [dmin, dmax], every tx-rx distance >= 1 m', () => {
    for (const [L, dmin, dmax] of [[1000, 2, 65], [200, 30, 70], [150, 30, 30]]) {
      for (let s = 0; s < 3; s++) {
        const inst = gen('d2d', s, { K: 30, field: L, dmin, dmax });
        for (const v of [...inst.tx, ...inst.rx]) expect(v >= 0 && v <= L).toBe(true);
        for (let k = 0; k < 30; k++) {
          expect(dist(inst, k, k)).toBeGreaterThanOrEqual(dmin - 1e-9);
          expect(dist(inst, k, k)).toBeLessThanOrEqual(dmax + 1e-9);
        }
        let closest = Infinity;
        for (let i = 0; i < 30; i++) for (let j = 0; j < 30; j++) closest = Math.min(closest, dist(inst, i, j));
        expect(closest).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('gain^2 over the large-scale gain has mean E[10^(N(0,64)/10)] * E[(X^2+Y^2)/2] = exp((ln10/10)^2 * 32)', () => {
    const ratios: number[] = [];
    for (let s = 0; s < 40; s++) {
      const inst = gen('d2d', 1000 + s, { K: 50 });
      for (let i = 0; i < 50; i++)
        for (let j = 0; j < 50; j++) {
          const large = 10 ** ((-itu1411PathLossDb(dist(inst, i, j)) + (i === j ? 2.5 : 0)) / 10);
          ratios.push(inst.gain[i * 50 + j] ** 2 / large);
        }
    }
    const ES = Math.exp((Math.LN10 / 10) ** 2 * 32); // 5.45540791870232
    expect(ES).toBeCloseTo(5.45540791870232, 12);
    // E[(S F)^2] = E[S^2] E[F^2] = exp(4 (ln10/10)^2 * 32) * 2 for F ~ Exp(1)
    const sd = Math.sqrt(Math.exp(4 * (Math.LN10 / 10) ** 2 * 32) * 2 - ES * ES);
    expectMean(ratios, ES, sd, 5);
  });

  it('CSI mask: csi[j*K+k] = 1 iff j != k and transmitter j is within csiRange of receiver k', () => {
    const inst = gen('d2d', 7, { K: 40, csiRange: 300 });
    let known = 0;
    for (let j = 0; j < 40; j++)
      for (let k = 0; k < 40; k++) {
        expect(inst.csi[j * 40 + k]).toBe(j !== k && dist(inst, j, k) <= 300 ? 1 : 0);
        known += inst.csi[j * 40 + k];
      }
    expect(known).toBeGreaterThan(0);
    expect(known).toBeLessThan(40 * 39);
  });
});

describe('miso (channel-models.md section 3)', () => {
  it('beta(d) = 4.4e5 / (d^1.88 10^(6.3 s / 20)) by hand', () => {
    expect(misoBeta(100, 0.5)).toBeCloseTo(53.205028049501195, 10);
    expect(misoBeta(37.5, -1.2)).toBeCloseTo(1154.1809267414703, 8);
    expect(misoBeta(1, 0)).toBe(4.4e5);
  });

  it('defaults Nt 2, noise 1, pmax 1, unit weights; gain is ||h_ij|| at offset (i*K+j)*Nt', () => {
    for (const Nt of [2, 4]) {
      const inst = gen('miso', 3, { K: 15, Nt: Nt === 2 ? undefined : Nt });
      expect([inst.model, inst.Nt, inst.noise, inst.pmax]).toEqual(['miso', Nt, 1, 1]);
      expect(inst.weights).toEqual(new Float64Array(15).fill(1));
      expect(inst.hRe.length).toBe(15 * 15 * Nt);
      for (let l = 0; l < 15 * 15; l++) {
        let n2 = 0;
        for (let n = 0; n < Nt; n++) n2 += inst.hRe[l * Nt + n] ** 2 + inst.hIm[l * Nt + n] ** 2;
        expect(inst.gain[l]).toBeCloseTo(Math.sqrt(n2), 12);
      }
    }
  });

  it('same layout rules as d2d, and the same CSI rule', () => {
    const inst = gen('miso', 4, { K: 30, field: 300, dmin: 10, dmax: 50, csiRange: 100 });
    for (const v of [...inst.tx, ...inst.rx]) expect(v >= 0 && v <= 300).toBe(true);
    for (let j = 0; j < 30; j++) {
      expect(dist(inst, j, j) >= 10 - 1e-9 && dist(inst, j, j) <= 50 + 1e-9).toBe(true);
      for (let k = 0; k < 30; k++) {
        expect(dist(inst, j, k)).toBeGreaterThanOrEqual(1);
        expect(inst.csi[j * 30 + k]).toBe(j !== k && dist(inst, j, k) <= 100 ? 1 : 0);
      }
    }
  });

  it('per entry |h|^2 d^1.88 / 4.4e5 has mean E[10^(-6.3 s/20)] = exp((6.3 ln10/20)^2/2), independent across antennas', () => {
    const e0: number[] = [], e1: number[] = [];
    for (let s = 0; s < 40; s++) {
      const inst = gen('miso', 2000 + s, { K: 50 });
      for (let i = 0; i < 50; i++)
        for (let j = 0; j < 50; j++) {
          const o = (i * 50 + j) * 2, scale = dist(inst, i, j) ** 1.88 / 4.4e5;
          e0.push((inst.hRe[o] ** 2 + inst.hIm[o] ** 2) * scale);
          e1.push((inst.hRe[o + 1] ** 2 + inst.hIm[o + 1] ** 2) * scale);
        }
    }
    const a = ((6.3 * Math.LN10) / 20) ** 2 / 2;
    const mu = Math.exp(a); // 1.3008792994382963
    expect(mu).toBeCloseTo(1.3008792994382963, 12);
    const sd = Math.sqrt(2 * Math.exp(4 * a) - mu * mu); // E[X^2] = E[10^(-6.3 s/10)] E[Exp(1)^2]
    expectMean(e0, mu, sd);
    expectMean(e1, mu, sd);
    // s drawn per antenna entry: the two entries of a link are uncorrelated given d (a shared s would give corr ~0.29)
    const m0 = mean(e0), m1 = mean(e1);
    let c = 0, v0 = 0, v1 = 0;
    for (let n = 0; n < e0.length; n++) {
      c += (e0[n] - m0) * (e1[n] - m1);
      v0 += (e0[n] - m0) ** 2;
      v1 += (e1[n] - m1) ** 2;
    }
    expect(Math.abs(c / Math.sqrt(v0 * v1))).toBeLessThan(4 / Math.sqrt(e0.length));
  });
});

describe('regnn-adhoc (channel-models.md section 4)', () => {
  it('tx in [-m, m]^2, rx in [t_i - m/4, t_i + m/4]^2; noise option, pmax 1, full CSI', () => {
    for (const m of [10, 50]) {
      const inst = gen('regnn-adhoc', m, { K: m, noise: 0.5 });
      expect([inst.model, inst.K, inst.Nt, inst.noise, inst.pmax, inst.csi]).toEqual(['regnn-adhoc', m, 1, 0.5, 1, undefined]);
      for (const v of inst.tx) expect(v >= -m && v <= m).toBe(true);
      for (let n = 0; n < 2 * m; n++) expect(Math.abs(inst.rx[n] - inst.tx[n])).toBeLessThanOrEqual(m / 4);
    }
    expect(gen('regnn-adhoc', 1, { K: 5 }).noise).toBe(1);
  });

  it('gain^2 ||t_i - r_j||^2.2 is |CN(0,1)|^2: mean 1, sd 1', () => {
    const f: number[] = [];
    for (let s = 0; s < 20; s++) {
      const inst = gen('regnn-adhoc', 3000 + s, { K: 50 });
      for (let i = 0; i < 50; i++) for (let j = 0; j < 50; j++) f.push(inst.gain[i * 50 + j] ** 2 * dist(inst, i, j) ** 2.2);
    }
    expectMean(f, 1, 1);
  });
});

describe('all models', () => {
  const opts: Record<ModelName, GenerateOptions> = {
    'rayleigh-ic': { K: 8, weighted: true },
    d2d: { K: 8, field: 200, csiRange: 120 },
    miso: { K: 8, field: 200, csiRange: 120, weighted: true },
    'regnn-adhoc': { K: 8 },
  };

  it('same seed gives the identical instance, different seeds differ', () => {
    for (const model of MODEL_NAMES) {
      const a = gen(model, 11, opts[model]);
      expect(gen(model, 11, opts[model])).toStrictEqual(a);
      expect(gen(model, 12, opts[model]).gain).not.toEqual(a.gain);
    }
  });

  it('round-trips through instanceFileToJson -> JSON.stringify -> JSON.parse -> parseInstanceFile', () => {
    for (const model of MODEL_NAMES) {
      const instances = [gen(model, 21, opts[model]), gen(model, 22, opts[model])];
      const back = parseInstanceFile(JSON.parse(JSON.stringify(instanceFileToJson({ model, seed: 21, instances }))));
      expect(back.instances).toStrictEqual(instances);
      if (model === 'd2d' || model === 'miso') expect(back.instances[0].csi).toBeInstanceOf(Uint8Array);
      if (model === 'miso') expect(back.instances[0].hIm).toBeInstanceOf(Float64Array);
      if (model !== 'rayleigh-ic') expect(back.instances[0].rx).toBeInstanceOf(Float64Array);
    }
  });
});

describe('subInstance: the network of some pairs', () => {
  it('its objective is the whole network\'s with the other pairs silent and weighing 0 (power control and MISO beams); positions, CSI and large-scale amplitudes follow', () => {
    const keep = [0, 2, 3, 6];
    const zeroOthers = (inst: ReturnType<typeof generateInstance>) => ({ ...inst, weights: inst.weights.map((w, k) => (keep.includes(k) ? w : 0)) });
    const d2d = generateInstance('d2d', new Rng(4), { K: 7, weighted: true, csiRange: 120, field: 200, largeScale: true });
    const sub = subInstance(d2d, keep);
    const p = Float64Array.from({ length: 7 }, (_, k) => (keep.includes(k) ? 0.3 + k / 10 : 0));
    expect(objective(sub, { kind: 'power', p: Float64Array.from(keep, (k) => p[k]) })).toBeCloseTo(objective(zeroOthers(d2d), { kind: 'power', p }), 12);
    expect([sub.K, sub.gain[1 * 4 + 2], sub.tx![2 * 3 + 1], sub.csi![2 * 4 + 1], sub.largeScale![3 * 4 + 0]]).toEqual([4, d2d.gain[2 * 7 + 3], d2d.tx![2 * 6 + 1], d2d.csi![3 * 7 + 2], d2d.largeScale![6 * 7 + 0]]);
    const miso = generateInstance('miso', new Rng(5), { K: 7, Nt: 2 });
    const vRe = Float64Array.from({ length: 14 }, (_, i) => (keep.includes(i >> 1) ? Math.cos(i) / 2 : 0));
    const vIm = Float64Array.from({ length: 14 }, (_, i) => (keep.includes(i >> 1) ? Math.sin(i) / 2 : 0));
    const pick = (v: Float64Array) => Float64Array.from(keep.flatMap((k) => [v[2 * k], v[2 * k + 1]]));
    expect(objective(subInstance(miso, keep), { kind: 'beam', vRe: pick(vRe), vIm: pick(vIm) })).toBeCloseTo(objective(zeroOthers(miso), { kind: 'beam', vRe, vIm }), 12);
  });
});
