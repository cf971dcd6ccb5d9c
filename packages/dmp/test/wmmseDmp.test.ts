import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateInstance, objective, parseInstanceFile, rayleighInstance, Rng, wmmsePower } from '@dmpemu/wireless';
import { runInProcess } from '../src/index.ts';
import { join } from 'node:path';
import { REFERENCE_DIR } from '../../../test/referenceDir.ts';

const ref = (name: string) => parseInstanceFile(JSON.parse(readFileSync(join(REFERENCE_DIR, name), 'utf8')), name);

describe('WMMSE as a DMP, in process', () => {
  it('equals the centralized WMMSE after T iterations with full CSI (reference K=30)', () => {
    for (const inst of ref('rayleigh-k30-snr10.json').instances.slice(0, 5)) {
      const dmp = runInProcess(inst, { name: 'wmmse-dmp', iterations: 100 });
      const p = wmmsePower(inst, { iterations: 100 });
      dmp.outputs.forEach((o, k) => expect(o[0]).toBeCloseTo(p[k], 9));
      expect(dmp.rounds).toBe(200);
      // round 2T-1 of the DMP is iteration T of the centralized algorithm
      const central: number[] = [];
      wmmsePower(inst, { iterations: 100, onIteration: (_, q) => central.push(objective(inst, { kind: 'power', p: q })) });
      central.forEach((c, t) => expect(Math.abs(dmp.history[2 * t + 1] - c) / c).toBeLessThan(1e-9));
    }
  });

  it('equals the weighted centralized WMMSE (reference K=20 weighted)', () => {
    const inst = ref('rayleigh-k20-snr10-weighted.json').instances[0];
    const dmp = runInProcess(inst, { name: 'wmmse-dmp', iterations: 30 });
    const p = wmmsePower(inst, { iterations: 30 });
    const a = objective(inst, { kind: 'power', p: Float64Array.from(dmp.outputs, (o) => o[0]) });
    expect(Math.abs(a - objective(inst, { kind: 'power', p })) / a).toBeLessThan(1e-12);
  });

  it('with no CSI at all is the interference-blind single-user solution: full power', () => {
    const inst = rayleighInstance(new Rng(3), { K: 8, snrDb: 10 });
    inst.csi = new Uint8Array(64); // nobody knows any edge
    const dmp = runInProcess(inst, { name: 'wmmse-dmp', iterations: 10 });
    for (const o of dmp.outputs) expect(o[0]).toBeCloseTo(1, 12);
  });

  it('an agent of weight 0 that hears no weighted neighbour transmits 0, as the centralized WMMSE (eq. 16a is 0 / 0: the round was NaN)', () => {
    const inst = rayleighInstance(new Rng(3), { K: 8, snrDb: 10 });
    inst.weights[2] = 0;
    inst.csi = new Uint8Array(64); // nobody knows any edge: agent 2 hears no weighted neighbour
    const dmp = runInProcess(inst, { name: 'wmmse-dmp', iterations: 10 });
    dmp.outputs.forEach((o, k) => expect(o[0]).toBe(k === 2 ? 0 : 1));
    expect(dmp.history.every(Number.isFinite)).toBe(true);
    // full CSI, pair 2 alone (no cross gain to or from it): the DMP equals centralized WMMSE
    const gain = Float64Array.from(inst.gain);
    for (let j = 0; j < 8; j++) if (j !== 2) gain[2 * 8 + j] = gain[j * 8 + 2] = 0;
    const full = { ...inst, csi: undefined, gain };
    const p = wmmsePower(full, { iterations: 30 });
    runInProcess(full, { name: 'wmmse-dmp', iterations: 30 }).outputs.forEach((o, k) => expect(o[0]).toBeCloseTo(p[k], 9));
    expect(p[2]).toBe(0);
  });

  it('rejects a bad iteration count and an unknown algorithm', () => {
    const inst = rayleighInstance(new Rng(3), { K: 3, snrDb: 10 });
    expect(() => runInProcess(inst, { name: 'wmmse-dmp', iterations: 0 })).toThrow('wmmse-dmp: iterations must be a positive integer, got 0');
    expect(() => runInProcess(inst, { name: 'nope' })).toThrow('unknown DMP algorithm "nope": expected one of wmmse-dmp, wcgcn, pcgnn');
  });
});
