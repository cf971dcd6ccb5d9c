import { describe, expect, it } from 'vitest';
import { runInProcess } from '@dmpemu/dmp';
import { d2dInstance, objective, rayleighInstance, Rng, runCentralized } from '@dmpemu/wireless';
import { overtakes } from '../src/run/evaluation.ts';
import { sampled, wmmseYardstick, Yardstick } from '../src/run/yardstick.ts';

describe('the WMMSE yardstick', () => {
  const insts = Array.from({ length: 4 }, (_, n) => rayleighInstance(new Rng(n), { K: 8, snrDb: 10 }));
  const y = wmmseYardstick(insts);

  it('a large network is measured in a worker thread (shared memory), with the same numbers, instance by instance', async () => {
    const big = [rayleighInstance(new Rng(5), { K: 1500, snrDb: 10 }), rayleighInstance(new Rng(6), { K: 1500, snrDb: 10 })];
    const sync = wmmseYardstick(big);
    const yard = new Yardstick(big);
    expect(big[0].gain.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(yard.of(0)).toBeUndefined();
    const y = await yard.done;
    // the worker samples the curve where tables and comparisons read it
    const { normaliseBy, normaliser, perInstanceNormaliser, ...wmmse } = y;
    expect(wmmse.history.map((v, t) => (sampled(t, 100) ? v : 'skipped'))).toEqual(sync.history.map((v, t) => (sampled(t, 100) ? v : 'skipped')));
    expect(wmmse.history.filter(Number.isNaN)).toHaveLength(101 - 11 - 9 - 1); // sampled: 0-10, 20, 30, ..., 100 and 99
    expect([wmmse.wmmse100, wmmse.perInstance]).toEqual([sync.wmmse100, sync.perInstance]);
    expect([normaliseBy, perInstanceNormaliser]).toEqual(['wmmse-100', sync.perInstance]);
    expect(normaliser).toBeCloseTo(sync.wmmse100, 12);
    expect([yard.of(0), yard.of(1)]).toEqual(sync.perInstance);
  });

  it('normaliseBy best-fplinq: per instance the best-fplinq algorithm run with the same seed, in the caller or a worker thread; the WMMSE curve kept', async () => {
    const d2d = Array.from({ length: 3 }, (_, n) => d2dInstance(new Rng(`norm/${n}`), { K: 10, field: 250, dmin: 10, dmax: 50, weighted: false }));
    const o = { normaliseBy: 'best-fplinq', seed: 11 } as const;
    const best = d2d.map((inst, n) => objective(inst, runCentralized('best-fplinq', inst, { rng: Rng.derive(11, n) })));
    const here = new Yardstick(d2d, 100, o);
    const there = new Yardstick(d2d, 100, o, undefined, 0); // forced into the worker thread
    for (const y of [await here.done, await there.done]) {
      expect(y.perInstanceNormaliser).toEqual(best);
      expect(y.normaliser).toBeCloseTo(best.reduce((s, v) => s + v, 0) / 3, 12);
      // the worker samples the WMMSE curve where tables read it (the caller keeps all of it)
      const keep = y === (await there.done) ? (t: number) => sampled(t, 100) : () => true;
      expect(y.history.map((v, t) => (keep(t) ? v : 'skipped'))).toEqual(wmmseYardstick(d2d).history.map((v, t) => (keep(t) ? v : 'skipped')));
      y.perInstanceNormaliser.forEach((v, n) => expect(v).toBeGreaterThanOrEqual(y.perInstance[n] * (1 - 1e-12))); // FPLinQ from full power is WMMSE
    }
    expect([0, 1, 2].map((n) => there.of(n))).toEqual(best);
  });

  it('holds the mean objective after every iteration, from the full-power start', () => {
    const mean = (f: (i: (typeof insts)[number]) => number): number => insts.reduce((s, i) => s + f(i), 0) / insts.length;
    expect(y.history[0]).toBeCloseTo(mean((i) => objective(i, runCentralized('full', i))), 12);
    expect(y.history[30]).toBeCloseTo(mean((i) => objective(i, runCentralized('wmmse', i, { iterations: 30 }))), 12);
    expect(y.wmmse100).toBe(y.history[100]);
  });

  it('overtakes: a tie within floating-point noise is no win: the decentralised WMMSE first beats WMMSE-10 at round 22 (iteration 11), never WMMSE-100', () => {
    const history = insts.map((i) => runInProcess(i, { name: 'wmmse-dmp', iterations: 100 }).history).reduce((acc, h) => acc.map((v, t) => v + h[t] / insts.length), new Array(200).fill(0));
    const o = overtakes(history, y);
    // after round 2t - 1 the DMP equals WMMSE-t; it exceeds WMMSE-10 first when it reaches iteration 11
    expect(o.wmmse10).toBe(2 * 11);
    expect(o.wmmse100).toBeNull();
    expect(overtakes([y.history[30] * (1 + 1e-6)], y)).toEqual({ wmmse10: 1, wmmse30: 1, wmmse100: null });
  });
});
