import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { loadCheckpoint, mlpPolicy, runInProcess, type Absence, type AlgorithmSpec } from '@dmpemu/dmp';
import { EvolvingChannel, generateInstance, objective, Rng, runCentralized, subInstance, type Instance } from '@dmpemu/wireless';
import { Coordinator } from '../coordinator/src/run/coordinator.ts';
import { MODELS_DIR } from '../coordinator/src/scenario/checkpoints.ts';
import { resolveFaults } from '../coordinator/src/scenario/faultPlan.ts';
import { parseScenario } from '../coordinator/src/scenario/scenario.ts';
import { drawInstances, runScenario } from '../coordinator/src/commands/run.ts';

/** The instance without the agents in `gone`: channel, weights, positions and CSI of the others, in order. */
function without(inst: Instance, gone: Set<number>): Instance {
  const keep = Array.from({ length: inst.K }, (_, k) => k).filter((k) => !gone.has(k));
  const K = keep.length;
  const pick = (a: Float64Array | Uint8Array): any => {
    const out = new (a.constructor as Float64ArrayConstructor)(K * K);
    keep.forEach((i, a2) => keep.forEach((j, b2) => (out[a2 * K + b2] = a[i * inst.K + j])));
    return out;
  };
  const xy = (a?: Float64Array) => a && Float64Array.from(keep.flatMap((k) => [a[2 * k], a[2 * k + 1]]));
  return { ...inst, K, weights: Float64Array.from(keep, (k) => inst.weights[k]), gain: pick(inst.gain), tx: xy(inst.tx), rx: xy(inst.rx), csi: inst.csi && (pick(inst.csi) as Uint8Array) };
}

const schedule = (K: number, s: Record<number, Absence>): (Absence | undefined)[] => Array.from({ length: K }, (_, k) => s[k]);

describe('churn: agents leave the network and come back', () => {
  const inst = generateInstance('d2d', new Rng(61), { K: 12, field: 300, csiRange: 200 });
  const wmmse: AlgorithmSpec = { name: 'wmmse-dmp', iterations: 8 };
  const wcgcn: AlgorithmSpec = { name: 'wcgcn', checkpoint: loadCheckpoint(join(MODELS_DIR, 'wcgcn-d2d-k50.json')) };

  it('agents away from round 0 for good: the run equals the same algorithm on the network without them, bit for bit', () => {
    const gone = new Set([2, 5, 9]);
    for (const spec of [wmmse, wcgcn]) {
      const r = runInProcess(inst, spec, { churn: schedule(inst.K, { 2: { leaveRound: 0 }, 5: { leaveRound: 0 }, 9: { leaveRound: 0 } }) });
      const reduced = runInProcess(without(inst, gone), spec);
      expect(r.history).toEqual(reduced.history);
      expect(r.outputs.filter((_, k) => !gone.has(k))).toEqual(reduced.outputs);
      for (const k of gone) expect(r.outputs[k]).toEqual(Float64Array.of(0));
    }
    // the framework's subInstance (what centralized algorithms and the normaliser run on) is this network
    expect(subInstance(inst, [0, 1, 3, 4, 6, 7, 8, 10, 11])).toEqual(without(inst, gone));
  });

  it('a departed agent transmits nothing (p = 0) while away and comes back with a fresh state', () => {
    const outputs: number[][] = [];
    const churn = schedule(inst.K, { 3: { leaveRound: 4, joinRound: 10 }, 7: { leaveRound: 6 } });
    const r = runInProcess(inst, wmmse, { churn, onRound: (_t, out) => void outputs.push(out.map((o) => o[0])) });
    const full = runInProcess(inst, wmmse);
    const p = (k: number) => outputs.map((o) => o[k]);
    expect(p(3).slice(4, 10)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(p(3)[3]).toBeGreaterThan(0);
    // fresh: WMMSE starts from v = sqrt(Pmax), and round 10 (even) updates u and a only
    expect(p(3)[10]).toBe(inst.pmax);
    expect(p(7).slice(6)).toEqual(new Array(10).fill(0));
    expect(r.outputs[7]).toEqual(Float64Array.of(0));
    // before anyone leaves nothing differs; afterwards the others adapt (their powers change)
    expect(r.history.slice(0, 4)).toEqual(full.history.slice(0, 4));
    expect(r.history[15]).not.toBe(full.history[15]);
  });

  it('over NATS it equals the in-process run (barrier and local); neighbours learn of it from absence notices, nothing counted as lost or late', async () => {
    const churn = schedule(inst.K, { 3: { leaveRound: 4, joinRound: 10 }, 7: { leaveRound: 1 }, 0: { leaveRound: 0, joinRound: 2 } });
    const wcgcnChurn = schedule(inst.K, { 3: { leaveRound: 1 }, 8: { leaveRound: 0, joinRound: 2 } });
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    try {
      await c.launch(inst.K, 4);
      for (const [spec, ch] of [[wmmse, churn], [wcgcn, wcgcnChurn]] as const)
        for (const clock of ['barrier', 'local'] as const) {
          const r = await c.runJob(inst, spec, { roundDeadlineMs: 20_000, policy: 'last', clock, churn: [...ch] });
          const twin = runInProcess(inst, spec, { churn: [...ch], policy: 'last' });
          expect(r.rounds.map((x) => x.objective)).toEqual(twin.history);
          expect(r.outputs).toEqual(twin.outputs);
          expect(r.rounds.every((x) => x.timedOut === 0)).toBe(true); // no neighbour waited for a deadline
          expect(r.counters).toMatchObject({ lost: 0, late: 0, malformedData: 0, duplicate: 0 });
        }
      await expect(c.runJob(inst, wmmse, { roundDeadlineMs: 5000, policy: 'skip', clock: 'async', async: { periodMs: 10, jitter: 0, activation: 1 }, churn: [...churn] })).rejects.toThrow('churn needs rounds: the barrier or local clock, not async');
    } finally {
      await c.shutdown();
    }
  });

  it('a rate draws round(rate K) agents per instance from the seed; the normaliser runs on the network that remains', () => {
    const sc = parseScenario({ name: 'c', networks: [{ model: 'd2d', K: 50 }], algorithms: ['wmmse-dmp'], faults: { churn: { rate: 0.1, leaveRound: 100 } } }, 's.yaml');
    const big = generateInstance('d2d', new Rng(1), { K: 50 });
    const a = resolveFaults(sc.faults, big, 0, 'd2d-k50/0');
    const away = a.churn!.flatMap((x, k) => (x ? [k] : []));
    expect(away).toHaveLength(5);
    expect(a.churn!.filter(Boolean)).toEqual(new Array(5).fill({ leaveRound: 100 }));
    expect(resolveFaults(sc.faults, big, 0, 'd2d-k50/0').churn).toEqual(a.churn); // seeded
    expect(resolveFaults(sc.faults, big, 0, 'd2d-k50/1').churn).not.toEqual(a.churn); // per instance
    expect(a.leftForGood).toEqual(away);
    expect(a.remaining).toEqual(without(big, new Set(away)));
    // agents that come back are in it as before
    const back = resolveFaults(parseScenario({ ...sc, faults: { churn: [{ agent: 4, leaveRound: 2, joinRound: 6 }] } }, 's.yaml').faults, big, 0, 'x');
    expect(back.remaining).toBe(big);
    expect(back.leftForGood).toEqual([]);
  });

  it('centralized algorithms and the normaliser run on the network that remains: an agent that left for good transmits nothing there (full had it at Pmax, and WMMSE started with it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-churn-'));
    const net = { name: 'net', model: 'd2d', K: 10, field: 150, weighted: true, instances: 2 } as const;
    const sc = parseScenario({ name: 'left', seed: 5, networks: [net], algorithms: ['full', { name: 'wmmse', iterations: 100 }, { name: 'wmmse-dmp', iterations: 3 }], runtime: { kind: 'inprocess' }, faults: { churn: [{ agent: 2, leaveRound: 1 }] }, outputs: { dir } }, 's.yaml');
    const insts = drawInstances(sc.networks[0], sc.seed);
    const { summary } = await runScenario(sc);
    const rate = (label: string) => summary.networks[0].algorithms.find((x) => x.algorithm === label)!.meanRate;
    // by hand: every pair but 2 at Pmax, pair 2 silent and weighing 0
    const silent = (inst: Instance) => objective({ ...inst, weights: inst.weights.map((w, k) => (k === 2 ? 0 : w)) }, { kind: 'power', p: Float64Array.from({ length: inst.K }, (_, k) => (k === 2 ? 0 : inst.pmax)) });
    expect(rate('full')).toBeCloseTo((silent(insts[0]) + silent(insts[1])) / 2, 12);
    // WMMSE-100 and the normaliser: of the 9 pairs that remain
    const reduced = insts.map((inst) => subInstance(inst, [0, 1, 3, 4, 5, 6, 7, 8, 9]));
    const wmmse100 = reduced.map((inst, n) => objective(inst, runCentralized('wmmse', inst, { iterations: 100, rng: Rng.derive(sc.seed, n) })));
    expect(rate('wmmse-100')).toBeCloseTo((wmmse100[0] + wmmse100[1]) / 2, 12);
    expect(summary.networks[0].wmmse100).toBeCloseTo((wmmse100[0] + wmmse100[1]) / 2, 12);
    // an MLP takes the whole network (K inputs): its decision with pair 2 silenced
    const mlp = { name: 'r', model: 'rayleigh-ic', K: 10, snrDb: 10, instances: 2 } as const;
    const sc2 = parseScenario({ name: 'left-mlp', seed: 5, networks: [mlp], algorithms: [{ name: 'mlp', checkpoint: 'mlp-rayleigh-k10-snr10-n100k' }, { name: 'wmmse-dmp', iterations: 3 }], runtime: { kind: 'inprocess' }, faults: { churn: [{ agent: 2, leaveRound: 1 }] }, outputs: { dir } }, 's.yaml');
    const policy = mlpPolicy(loadCheckpoint(join(MODELS_DIR, 'mlp-rayleigh-k10-snr10-n100k.json')));
    const byHand = drawInstances(sc2.networks[0], sc2.seed).map((inst) => {
      const p = policy(inst);
      p[2] = 0;
      return objective({ ...inst, weights: inst.weights.map((w, k) => (k === 2 ? 0 : w)) }, { kind: 'power', p });
    });
    expect((await runScenario(sc2)).summary.networks[0].algorithms[0].meanRate).toBeCloseTo((byHand[0] + byHand[1]) / 2, 12);
  });

  it('with a time-varying channel too: the DMP is divided by WMMSE-100 of the network that remains on the channel of its last round (it was the whole network\'s)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-churn-'));
    const net = { name: 'net', model: 'd2d', K: 8, field: 150, instances: 2 } as const;
    const sc = parseScenario({ name: 'left-varying', seed: 6, networks: [net], algorithms: [{ name: 'wmmse-dmp', iterations: 3 }], runtime: { kind: 'inprocess' }, faults: { churn: [{ agent: 2, leaveRound: 1 }], channel: { correlation: 0.9, coherenceRounds: 2 } }, outputs: { dir } }, 's.yaml');
    const insts = drawInstances(sc.networks[0], sc.seed, { largeScale: true });
    const { summary } = await runScenario(sc);
    const byHand = insts.map((inst, n) => {
      const f = resolveFaults(sc.faults, inst, sc.seed, `net/${n}`);
      const now = subInstance(new EvolvingChannel(inst, f.channel!).at(5), [0, 1, 3, 4, 5, 6, 7]);
      return objective(now, runCentralized('wmmse', now, { iterations: 100, rng: Rng.derive(sc.seed, n) }));
    });
    expect(summary.networks[0].algorithms[0].normaliserAtEnd).toBeCloseTo((byHand[0] + byHand[1]) / 2, 12);
  });

  it('the summary says how many agents left: a rate rounds to whole agents, so 0.01 and 0.1 of K = 6 are the same single agent (summary.md showed 1% and 10% only)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-churn-'));
    const sc = parseScenario(
      { name: 'rates', seed: 2, networks: [{ name: 'net', model: 'd2d', K: 6, field: 200, instances: 3 }], algorithms: [{ name: 'wmmse-dmp', iterations: 2 }], runtime: { kind: 'inprocess' }, faults: { churn: { rate: 0.01, leaveRound: 2 } }, sweep: { key: 'faults.churn.rate', values: [0.01, 0.1, 0.34] }, outputs: { dir } },
      's.yaml',
    );
    const { summary, dir: runDir } = await runScenario(sc);
    expect(summary.sweep!.points.map((p) => [p.value, p.networks[0].churnedAgents])).toEqual([[0.01, 3], [0.1, 3], [0.34, 6]]);
    const md = readFileSync(join(runDir, 'summary.md'), 'utf8');
    expect(md).toContain('| faults.churn.rate | agents leaving per instance | wmmse-dmp-2 |');
    expect(md).toMatch(/\| 0\.01 \| 1 \| [\d.]+% \|\n\| 0\.1 \| 1 \| [\d.]+% \|\n\| 0\.34 \| 2 \| [\d.]+% \|/);
    // without a sweep: in the network's line
    const one = await runScenario(parseScenario({ ...sc, sweep: undefined, faults: { churn: [{ agent: 1, leaveRound: 2 }, { agent: 4, leaveRound: 1, joinRound: 2 }] } }, 's.yaml'));
    expect(one.summary.networks[0].churnedAgents).toBe(6);
    expect(readFileSync(join(one.dir, 'summary.md'), 'utf8')).toContain('; 2 agent(s) leaving per instance (churn).');
  });
});
