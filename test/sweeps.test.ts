import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../coordinator/src/commands/run.ts';
import { parseScenario } from '../coordinator/src/scenario/scenario.ts';
import { UsageError } from '../coordinator/src/scenario/usageError.ts';
import { sweepSpec } from '../coordinator/src/report/reportPlots.ts';

const base = (sweep: unknown, extra: object = {}) => ({
  name: 'sw',
  seed: 3,
  networks: [{ name: 'net', model: 'rayleigh-ic', K: 4, snrDb: 10, instances: 2 }],
  algorithms: [{ name: 'wmmse-dmp', iterations: 3 }],
  runtime: { kind: 'inprocess' },
  faults: { messageLoss: { probability: 0 } },
  outputs: { dir: mkdtempSync(join(tmpdir(), 'dmpemu-sweeps-')) },
  sweep,
  ...extra,
});

describe('sweeps of several keys', () => {
  it('grid: every combination, each point the same as a one-key sweep of the other key; tables and plots name the points', async () => {
    const grid = parseScenario(base({ grid: [{ key: 'networks[0].K', values: [4, 6] }, { key: 'faults.messageLoss.probability', values: [0, 0.5] }] }), 's.yaml');
    const { dir, summary } = await runScenario(grid);
    const pts = summary.sweep!.points;
    expect(summary.sweep!.key).toBe('networks[0].K x faults.messageLoss.probability');
    expect(pts.map((p) => [p.value, p.values, p.label, p.networks[0].K])).toEqual([
      [0, { 'networks[0].K': 4, 'faults.messageLoss.probability': 0 }, 'networks[0].K = 4, faults.messageLoss.probability = 0', 4],
      [1, { 'networks[0].K': 4, 'faults.messageLoss.probability': 0.5 }, 'networks[0].K = 4, faults.messageLoss.probability = 0.5', 4],
      [2, { 'networks[0].K': 6, 'faults.messageLoss.probability': 0 }, 'networks[0].K = 6, faults.messageLoss.probability = 0', 6],
      [3, { 'networks[0].K': 6, 'faults.messageLoss.probability': 0.5 }, 'networks[0].K = 6, faults.messageLoss.probability = 0.5', 6],
    ]);
    const one = await runScenario(parseScenario({ ...base({ key: 'faults.messageLoss.probability', values: [0, 0.5] }), networks: [{ name: 'net', model: 'rayleigh-ic', K: 6, snrDb: 10, instances: 2 }] }, 's.yaml'));
    expect(pts.slice(2).map((p) => p.networks[0].algorithms[0].rates)).toEqual(one.summary.sweep!.points.map((p) => p.networks[0].algorithms[0].rates));
    expect(pts[1].networks[0].algorithms[0].rates).not.toEqual(pts[0].networks[0].algorithms[0].rates); // the loss has an effect
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toContain('| networks[0].K = 6, faults.messageLoss.probability = 0.5 |');
    expect(readFileSync(join(dir, 'sweep-net.svg'), 'utf8')).toContain('networks[0].K = 4, faults.messageLoss.probability = 0.5');
  });

  it('the plot draws what the tables say: over Best FPLinQ, and under a varying channel over WMMSE-100 on the channel of the last round', async () => {
    for (const extra of [{ normaliseBy: 'best-fplinq' }, { faults: { channel: { correlation: 0.5 } } }]) {
      const { summary } = await runScenario(parseScenario(base({ key: 'algorithms[0].iterations', values: [2, 4] }, extra), 's.yaml'));
      const values = (sweepSpec(summary, 0)!.data as { values: { value: number; mean: number; lo: number; hi: number }[] }).values;
      summary.sweep!.points.forEach((p, i) => {
        const a = p.networks[0].algorithms[0];
        expect(values[i].mean).toBe(a.normalised);
        expect(values[i].mean).not.toBe(a.meanRate / p.networks[0].wmmse100!); // what the plot drew before
        expect(values[i].hi - values[i].lo).toBeCloseTo(a.spread!.normalised.ci95![1] - a.spread!.normalised.ci95![0], 12);
      });
    }
  });

  it('zip: paired values of any keys (a network size with its algorithm\'s iterations)', async () => {
    const { summary } = await runScenario(parseScenario(base({ zip: [{ key: 'networks[0].K', values: [4, 8] }, { key: 'algorithms[0].iterations', values: [2, 5] }] }), 's.yaml'));
    expect(summary.sweep!.points.map((p) => [p.networks[0].K, p.networks[0].algorithms[0].rounds])).toEqual([[4, 4], [8, 10]]);
    expect(summary.sweep!.key).toBe('networks[0].K + algorithms[0].iterations');
  });

  it('is checked before anything starts, every point', () => {
    const cases: [unknown, string][] = [
      [{ zip: [{ key: 'networks[0].K', values: [4, 8] }, { key: 'algorithms[0].iterations', values: [2] }] }, 'sweep.zip: paired values need lists of one length, got 2, 1'],
      [{ key: 'networks[0].K', values: [4], grid: [{ key: 'networks[0].K', values: [4] }, { key: 'runtime.roundDeadlineMs', values: [1000] }] }, 'sweep: give one of { key, values }, { grid: [{ key, values }, ...] } or { zip: [{ key, values }, ...] }'],
      [{ grid: [{ key: 'networks[0].K', values: [4] }, { key: 'networks[0].K', values: [5] }] }, 'sweep.grid[1].key: networks[0].K is swept twice'],
      [{ grid: [{ key: 'networks[0].K', values: [4, 0] }, { key: 'algorithms[0].iterations', values: [5] }] }, 's.yaml (sweep networks[0].K = 0, algorithms[0].iterations = 5): invalid scenario: networks[0].K: Too small: expected number to be >0'],
    ];
    for (const [sweep, why] of cases) expect(() => parseScenario(base(sweep), 's.yaml')).toThrow(new UsageError(why.startsWith('s.yaml') ? why : `s.yaml: invalid scenario: ${why}`));
  });
});
