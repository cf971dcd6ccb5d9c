import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../coordinator/src/scenario/scenario.ts';
import { runScenario } from '../coordinator/src/commands/run.ts';
import { CurvePoints } from '../coordinator/src/report/curvePoints.ts';
import { unpackPairs } from '../coordinator/src/report/networkLayout.ts';
import { RECORDED_INSTANCES } from '../coordinator/src/report/runRecorder.ts';

const lines = (f: string): Record<string, any>[] => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

describe('what a run records for the dashboard of finished runs', () => {
  it('layouts.jsonl, agents.jsonl and wmmse.jsonl per sweep point, network and instance', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-record-'));
    const sc = parseScenario(
      {
        name: 'rec',
        seed: 11,
        networks: [{ name: 'net', model: 'd2d', K: 6, field: 300, csiRange: 120, instances: 3 }],
        algorithms: [{ name: 'wmmse-dmp', iterations: 4 }, 'fplinq'],
        runtime: { kind: 'inprocess' },
        sweep: { key: 'networks[0].K', values: [6, 9] },
        outputs: { dir },
      },
      'rec.yaml',
    );
    const { dir: runDir, summary } = await runScenario(sc);
    const layouts = lines(join(runDir, 'layouts.jsonl'));
    expect(layouts.map((l) => [l.point, l.sweep, l.network, l.instance, l.K])).toEqual([0, 1].flatMap((p) => [0, 1, 2].map((i) => [p, [6, 9][p], 'net', i, [6, 9][p]])));
    for (const l of layouts) {
      expect(l.tx).toHaveLength(2 * l.K);
      const pairs = unpackPairs(l.edges)!;
      expect(pairs.length).toBe(2 * l.links);
      for (let i = 0; i < pairs.length; i += 2) {
        expect(pairs[i]).not.toBe(pairs[i + 1]);
        expect(Math.max(pairs[i], pairs[i + 1])).toBeLessThan(l.K);
      }
    }
    expect(layouts.some((l) => l.links > 0 && l.links < l.K * (l.K - 1))).toBe(true); // a 120 m CSI range leaves some pairs out
    const agents = lines(join(runDir, 'agents.jsonl'));
    expect(agents.map((a) => [a.point, a.instance, a.algorithm, a.t, a.power.length])).toEqual([0, 1].flatMap((p) => [0, 1, 2].map((i) => [p, i, 'wmmse-dmp-4', 7, [6, 9][p]])));
    // each point's curves are that point's networks': their mean is its summary's WMMSE history
    const curves = lines(join(runDir, 'wmmse.jsonl'));
    expect(curves).toHaveLength(6);
    for (const [p, point] of summary.sweep!.points.entries()) {
      const mine = curves.filter((c) => c.point === p);
      expect(mine.map((c) => c.instance)).toEqual([0, 1, 2]);
      const mean = mine[0].curve.map((_: number, t: number) => mine.reduce((s, c) => s + c.curve[t], 0) / mine.length);
      mean.forEach((m: number, t: number) => expect(m).toBeCloseTo(point.networks[0].wmmseHistory[t], 10));
    }
    expect(RECORDED_INSTANCES).toBeGreaterThanOrEqual(3);
    // the async clock too: its final powers (they were empty, so the dashboard drew no final state)
    const async = await runScenario(parseScenario({ ...sc, sweep: undefined, runtime: { kind: 'inprocess', clock: 'async' } }, 'rec.yaml'));
    const last = lines(join(async.dir, 'agents.jsonl'));
    expect(last.map((a) => [a.instance, a.algorithm, a.power.length])).toEqual([0, 1, 2].map((i) => [i, 'wmmse-dmp-4', 6]));
    expect(last.every((a) => a.power.every((p: number) => p >= 0 && p <= 1) && a.power.some((p: number) => p > 0))).toBe(true);
  });

  it('a WMMSE curve goes to the sweep point whose jobs it came before or during', () => {
    const p = new CurvePoints<string>();
    // a small network: its curves come before its first job
    expect(p.curve('a', 0, 'a0')).toBeNull();
    expect(p.curve('a', 1, 'a1')).toBeNull();
    expect([...p.job(0, 'a')]).toEqual([[0, 'a0'], [1, 'a1']]);
    // the next point's curves of the same network come while the last jobs of this one are on it
    expect(p.curve('a', 0, 'a0@1')).toBeNull();
    expect([...p.job(0, 'a')]).toEqual([]); // still point 0
    expect([...p.job(1, 'a')]).toEqual([[0, 'a0@1']]);
    // a large network: its curves come (from a worker) while its jobs run
    expect([...p.job(1, 'big')]).toEqual([]);
    expect(p.curve('big', 0, 'b0')).toEqual({ point: 1 });
    expect(p.curve('big', 1, 'b1')).toEqual({ point: 1 });
  });
});
