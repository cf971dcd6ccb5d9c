import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { d2dInstance, fplinqPower, objective, parseInstanceFile, rayleighInstance, Rng, runCentralized, wmmsePower, type Decision, type Instance } from '../src/index.ts';

const refDir = new URL('../../../../shared/reference/', import.meta.url);
const refs = readdirSync(refDir).filter((f) => f.endsWith('.json')).map((f) => parseInstanceFile(JSON.parse(readFileSync(new URL(f, refDir), 'utf8')), f));

function historyOf(inst: Instance, name: 'wmmse' | 'fplinq', iterations: number): number[] {
  const h: number[] = [];
  runCentralized(name, inst, { iterations, onIteration: (_t: number, d: Decision) => h.push(objective(inst, d)) });
  return h;
}

describe('centralized baselines', () => {
  it('WMMSE objective never decreases over iterations (random Rayleigh and D2D instances, weighted and not)', () => {
    const insts = [
      ...Array.from({ length: 10 }, (_, s) => rayleighInstance(new Rng(s), { K: 10 + s, snrDb: s % 2 ? 0 : 10, weighted: s % 3 === 0 })),
      ...Array.from({ length: 4 }, (_, s) => d2dInstance(new Rng(50 + s), { K: 20 })),
    ];
    for (const inst of insts) {
      const h = historyOf(inst, 'wmmse', 60);
      for (let t = 1; t < h.length; t++) expect(h[t]).toBeGreaterThanOrEqual(h[t - 1] * (1 - 1e-12));
    }
  });

  it('FPLinQ power control takes the same iterates as WMMSE (y_k^2 = w_k a_k u_k^2: the two are one algorithm for SISO)', () => {
    const inst = rayleighInstance(new Rng(3), { K: 15, snrDb: 10, weighted: true });
    const a = wmmsePower(inst, { iterations: 30 });
    const b = fplinqPower(inst, { iterations: 30 });
    a.forEach((p, k) => expect(b[k]).toBeCloseTo(p, 12));
  });

  it('WMMSE and FPLinQ beat full power on every reference instance', () => {
    for (const f of refs)
      for (const inst of f.instances) {
        const full = objective(inst, runCentralized('full', inst));
        expect(objective(inst, runCentralized('wmmse', inst))).toBeGreaterThan(full);
        expect(objective(inst, runCentralized('fplinq', inst))).toBeGreaterThan(full);
      }
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
    expect(() => runCentralized('nope' as never, inst)).toThrow('runCentralized: unknown algorithm "nope": expected one of wmmse, fplinq, strongest, full, random, equal');
  });
});
