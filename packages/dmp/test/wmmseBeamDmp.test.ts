import { describe, expect, it } from 'vitest';
import { generateInstance, objective, Rng, runCentralized, type Decision } from '@dmpemu/wireless';
import { runInProcess } from '../src/index.ts';

describe('WMMSE beamforming as a DMP, in process', () => {
  it('equals the centralized beamforming WMMSE after T iterations with full CSI, round 2t-1 = iteration t', () => {
    for (const [seed, Nt] of [[1, 2], [2, 3]]) {
      const inst = generateInstance('miso', new Rng(seed), { K: 12, Nt, field: 300 });
      const central: number[] = [];
      runCentralized('wmmse', inst, { iterations: 40, onIteration: (_t: number, d: Decision) => central.push(objective(inst, d)) });
      const dmp = runInProcess(inst, { name: 'wmmse-dmp', iterations: 40 });
      expect(dmp.rounds).toBe(80);
      expect(dmp.outputs[0]).toHaveLength(2 * Nt);
      central.forEach((c, t) => expect(Math.abs(dmp.history[2 * t + 1] - c) / c, `Nt=${Nt} iteration ${t + 1}`).toBeLessThan(1e-9));
      for (const o of dmp.outputs) expect(o.reduce((s, x) => s + x * x, 0)).toBeLessThanOrEqual(inst.pmax * (1 + 1e-9));
    }
  });

  it('with CSI range runs on local views and stays within the power budget', () => {
    const inst = generateInstance('miso', new Rng(3), { K: 20, Nt: 2, field: 600, csiRange: 200 });
    const dmp = runInProcess(inst, { name: 'wmmse-dmp', iterations: 30 });
    const full = objective(inst, runCentralized('full', inst));
    expect(dmp.history.at(-1)!).toBeGreaterThan(full);
  });
});
