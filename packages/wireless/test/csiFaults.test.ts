import { describe, expect, it } from 'vitest';
import { localView, rayleighInstance, Rng, withCsiNoise, withMissingCsi, type Instance } from '../src/index.ts';

const known = (inst: Instance, k: number): number[] => Array.from(localView(inst, k).neighbours);

describe('missing CSI', () => {
  const inst = rayleighInstance(new Rng(1), { K: 12, snrDb: 10 });

  it('uniform: each agent loses round(fraction * n_k) of its edges; gains untouched', () => {
    const f = withMissingCsi(inst, { select: 'uniform', fraction: 0.25 }, new Rng(2));
    for (let k = 0; k < 12; k++) {
      const before = known(inst, k), after = known(f, k);
      expect(after.length).toBe(before.length - Math.round(0.25 * before.length));
      expect(after.every((j) => before.includes(j))).toBe(true);
    }
    expect(f.gain).toEqual(inst.gain);
    expect(inst.csi).toBeUndefined();
  });

  it('weakest: the removed edges are the smallest g_jk', () => {
    const f = withMissingCsi(inst, { select: 'weakest', fraction: 0.5 }, new Rng(2));
    for (let k = 0; k < 12; k++) {
      const removed = known(inst, k).filter((j) => !known(f, k).includes(j));
      const kept = known(f, k);
      const maxRemoved = Math.max(...removed.map((j) => inst.gain[j * 12 + k]));
      const minKept = Math.min(...kept.map((j) => inst.gain[j * 12 + k]));
      expect(removed).toHaveLength(Math.round(0.5 * 11));
      expect(maxRemoved).toBeLessThan(minKept);
    }
  });

  it('only the chosen agents lose edges', () => {
    const f = withMissingCsi(inst, { select: 'uniform', fraction: 1, agents: [3, 7] }, new Rng(2));
    for (let k = 0; k < 12; k++) expect(known(f, k)).toEqual([3, 7].includes(k) ? [] : known(inst, k));
  });

  it('distance: edges beyond the distance go; without positions it says so', () => {
    const geo: Instance = { ...inst, tx: new Float64Array(24), rx: new Float64Array(24) };
    for (let k = 0; k < 12; k++) geo.tx![2 * k] = 10 * k; // transmitters on a line, receivers at the origin
    const f = withMissingCsi(geo, { select: 'distance', distance: 45 }, new Rng(2));
    expect(known(f, 0)).toEqual([1, 2, 3, 4]);
    expect(() => withMissingCsi(inst, { select: 'distance', distance: 45 }, new Rng(2))).toThrow('missingCsi: select "distance" needs positions; model rayleigh-ic has none');
    expect(() => withMissingCsi(inst, { select: 'uniform', fraction: 0.1, agents: [12] }, new Rng(2))).toThrow('missingCsi.agents: agent 12 is not in [0, 12)');
  });
});

describe('CSI noise', () => {
  it('scales every channel of the view and nothing else; std 0 changes nothing', () => {
    const inst = rayleighInstance(new Rng(1), { K: 6, snrDb: 10 });
    const v = localView(inst, 2);
    expect(withCsiNoise(v, { kind: 'log-normal', std: 0 }, new Rng(3))).toEqual(v);
    const n = withCsiNoise(v, { kind: 'multiplicative', std: 0.3 }, new Rng(3));
    expect(n.neighbours).toEqual(v.neighbours);
    expect(n.weight).toBe(v.weight);
    expect(n.noise).toBe(v.noise);
    expect(n.direct).not.toBe(v.direct);
    expect(Array.from(n.gIn).some((g, i) => g !== v.gIn[i])).toBe(true);
    expect(withCsiNoise(v, { kind: 'multiplicative', std: 0.3 }, new Rng(3))).toEqual(n);
  });
});
