import { describe, expect, it } from 'vitest';
import { generateInstance, Rng } from '@dmpemu/wireless';
import { checkOutput, runInProcess } from '../src/index.ts';

describe('checkOutput: what a node may output', () => {
  it('a power in [0, Pmax] for power control, a beamformer of 2 Nt numbers within Pmax for MISO; a MISO network with Nt = 1 takes either (wmmse-dmp runs power control there)', () => {
    const siso = generateInstance('rayleigh-ic', new Rng(1), { K: 3 });
    expect(checkOutput(Float64Array.of(1), siso)).toBeUndefined();
    expect(checkOutput(Float64Array.of(0.5, 0.5), siso)).toBe('an output of length 2, expected 1 (a power)');
    const miso2 = generateInstance('miso', new Rng(2), { K: 3, Nt: 2 });
    expect(checkOutput(Float64Array.of(0.5, 0.5, 0.1, 0.1), miso2)).toBeUndefined();
    expect(checkOutput(Float64Array.of(0.5), miso2)).toBe('an output of length 1, expected 4 (a beamformer of Nt = 2 complex entries)');
    const miso1 = generateInstance('miso', new Rng(3), { K: 3, Nt: 1 });
    expect(checkOutput(Float64Array.of(0.7), miso1)).toBeUndefined();
    expect(checkOutput(Float64Array.of(0.6, 0.6), miso1)).toBeUndefined();
    expect(checkOutput(Float64Array.of(0.8, 0.8), miso1)).toBe('a beamformer of power 1.2800000000000002, above Pmax = 1');
    // the in-process executor checks every round: wmmse-dmp on MISO with Nt = 1 (power control) is not refused
    expect(runInProcess(miso1, { name: 'wmmse-dmp', iterations: 3 }).history).toHaveLength(6);
  });
});
