import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { activation, loadCheckpoint, runAsyncInProcess, runInProcess } from '../src/index.ts';
import { generateInstance, Rng } from '@dmpemu/wireless';

const wcgcn = loadCheckpoint(fileURLToPath(new URL('../../../scenarios/models/wcgcn-d2d-k50.json', import.meta.url)));

describe('the async clock in process (virtual time)', () => {
  const inst = generateInstance('d2d', new Rng(81), { K: 12, field: 300, csiRange: 150 });

  it('with no jitter and every activation an update it is the synchronous schedule: the same history as the round executor', () => {
    for (const spec of [{ name: 'wmmse-dmp', iterations: 10 }, { name: 'wcgcn', checkpoint: wcgcn }]) {
      const a = runAsyncInProcess(inst, spec, { periodMs: 10, jitter: 0, activation: 1, seed: 1 });
      expect(a.history).toEqual(runInProcess(inst, spec).history);
      expect(a.staleness).toEqual({ '0': expect.any(Number) });
      expect(a.iterationMs).toEqual(a.history.map((_, r) => 10 * (r + 1)));
    }
  });

  it('with jitter and skipped activations it is reproducible from its seed, uses stale messages, and still improves on full power', () => {
    const spec = { name: 'wmmse-dmp', iterations: 20 };
    const clock = { periodMs: 10, jitter: 0.8, activation: 0.6, seed: 5 };
    const a = runAsyncInProcess(inst, spec, clock);
    expect(runAsyncInProcess(inst, spec, clock)).toEqual(a);
    expect(Object.keys(a.staleness).some((age) => age !== '0')).toBe(true);
    expect(a.activations.every((n) => n > 40)).toBe(true); // 40 updates at 60% need more activations
    expect(a.history.at(-1)).toBeGreaterThan(a.history[0]);
    expect(runAsyncInProcess(inst, spec, { ...clock, seed: 6 }).history).not.toEqual(a.history);
  });

  it('the schedule: periods within the jitter, updates at the activation probability', () => {
    const c = { periodMs: 20, jitter: 0.5, activation: 0.3, seed: 2 };
    const draws = Array.from({ length: 4000 }, (_, i) => activation(c, 3, i));
    expect(Math.min(...draws.map((d) => d.afterMs))).toBeGreaterThanOrEqual(10);
    expect(Math.max(...draws.map((d) => d.afterMs))).toBeLessThanOrEqual(30);
    expect(draws.filter((d) => d.updates).length / 4000).toBeCloseTo(0.3, 1);
  });
});
