import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { linkScales, loadCheckpoint, LocalChannel, runInProcess, type AlgorithmSpec, type ChannelFault } from '@dmpemu/dmp';
import { EvolvingChannel, generateInstance, linkUniform, localViews, objective, Rng } from '@dmpemu/wireless';
import { Coordinator } from '../coordinator/src/run/coordinator.ts';
import { MODELS_DIR } from '../coordinator/src/scenario/checkpoints.ts';
import { parseScenario } from '../coordinator/src/scenario/scenario.ts';
import { runScenario } from '../coordinator/src/commands/run.ts';

describe('a time-varying channel (faults.channel): Gauss-Markov fading every round, CSI measured anew every coherenceRounds', () => {
  const inst = generateInstance('d2d', new Rng(71), { K: 12, field: 300, csiRange: 200, largeScale: true });

  it('d2d keeps its large-scale amplitudes without changing a draw; |f|^2 = (|h| / a)^2 is Exp(1)', () => {
    const plain = generateInstance('d2d', new Rng(71), { K: 12, field: 300, csiRange: 200 });
    expect(inst.gain).toEqual(plain.gain);
    expect(plain.largeScale).toBeUndefined();
    const big = generateInstance('d2d', new Rng(3), { K: 200, largeScale: true });
    const f2 = Array.from(big.gain, (g, l) => (g / big.largeScale![l]) ** 2);
    expect(f2.reduce((s, x) => s + x, 0) / f2.length).toBeCloseTo(1, 1); // 40,000 draws
  });

  it('round 0 is the instance; each round is one step f(t) = rho f(t-1) + sqrt(1 - rho^2) w(t), w ~ CN(0, 1) from (seed, t, i, j)', () => {
    const d = { seed: 7, correlation: 0.9 };
    const ch = new EvolvingChannel(inst, d);
    expect(ch.at(0).gain).toEqual(inst.gain);
    // link 3 -> 5 by hand: f(0) from |h| / a and the phase drawn from (seed, 0, i, j), then one step
    const l = 3 * inst.K + 5, a = inst.largeScale![l];
    const theta = 2 * Math.PI * linkUniform(7, 0x6368, 0, 3, 5);
    const r = Math.sqrt(-Math.log(1 - linkUniform(7, 0x6369, 1, 3, 5))), phi = 2 * Math.PI * linkUniform(7, 0x636a, 1, 3, 5);
    const re = 0.9 * (inst.gain[l] / a) * Math.cos(theta) + Math.sqrt(1 - 0.81) * r * Math.cos(phi);
    const im = 0.9 * (inst.gain[l] / a) * Math.sin(theta) + Math.sqrt(1 - 0.81) * r * Math.sin(phi);
    expect(ch.at(1).gain[l]).toBe(a * Math.hypot(re, im));
    // the correlation of f between rounds is rho, its power stays 1 (rayleigh-ic: a = 1)
    const ray = generateInstance('rayleigh-ic', new Rng(2), { K: 100 });
    const evolving = new EvolvingChannel(ray, { seed: 1, correlation: 0.6 });
    const g10 = evolving.at(10).gain.slice(), g11 = evolving.at(11).gain;
    const power = g11.reduce((s, g) => s + g * g, 0) / g11.length;
    expect(power).toBeCloseTo(1, 1);
    // |f|^2 of a Gauss-Markov CN process: corr(|f(t)|^2, |f(t+1)|^2) = rho^2
    const m10 = g10.reduce((s, g) => s + g * g, 0) / g10.length;
    let cov = 0, v10 = 0, v11 = 0;
    for (let i = 0; i < g11.length; i++) ((cov += (g10[i] ** 2 - m10) * (g11[i] ** 2 - power)), (v10 += (g10[i] ** 2 - m10) ** 2), (v11 += (g11[i] ** 2 - power) ** 2));
    expect(cov / Math.sqrt(v10 * v11)).toBeCloseTo(0.36, 1);
  });

  it("an agent following its own links sees exactly the coordinator's channel on them", () => {
    const d = { seed: 9, correlation: 0.95 };
    const ch = new EvolvingChannel(inst, d);
    for (const v of localViews(inst)) {
      const mine = new LocalChannel(v, { ...d, coherenceRounds: 1 }, linkScales(inst.largeScale!, inst.K, v));
      const at = mine.viewAt(6), g = ch.at(6).gain, K = inst.K;
      expect(at.direct).toBe(g[v.k * K + v.k]);
      expect(at.gIn).toEqual(Float64Array.from(v.neighbours, (j) => g[j * K + v.k]));
      expect(at.gOut).toEqual(Float64Array.from(v.neighbours, (j) => g[v.k * K + j]));
    }
  });

  it('the objective is on the channel of the round; between measurements the agents compute on stale CSI', () => {
    const spec: AlgorithmSpec = { name: 'wmmse-dmp', iterations: 10 };
    const stat = runInProcess(inst, spec);
    const outs: Float64Array[][] = [];
    const never: ChannelFault = { seed: 4, correlation: 0.9, coherenceRounds: 1000 };
    const r = runInProcess(inst, spec, { channel: never, onRound: (_t, o) => void outs.push(o.map((x) => x.slice())) });
    // never measured again: the same powers as on the static channel, evaluated on the channel of the moment
    expect(r.outputs).toEqual(stat.outputs);
    const ch = new EvolvingChannel(inst, never);
    outs.forEach((o, t) => expect(r.history[t]).toBe(objective(ch.at(t), { kind: 'power', p: Float64Array.from(o, (x) => x[0]) })));
    expect(r.history.at(-1)).not.toBe(stat.history.at(-1));
    // measured every 6 rounds: the powers follow the static run until round 6 (even: u and a change, p = v^2 not yet), then the new CSI
    const p6: number[][] = [], p0: number[][] = [];
    runInProcess(inst, spec, { channel: { ...never, coherenceRounds: 6 }, onRound: (_t, o) => void p6.push(o.map((x) => x[0])) });
    runInProcess(inst, spec, { onRound: (_t, o) => void p0.push(o.map((x) => x[0])) });
    expect(p6.slice(0, 7)).toEqual(p0.slice(0, 7));
    expect(p6[7]).not.toEqual(p0[7]);
    // measured at round 3 (odd, mid-iteration): WMMSE takes the CSI up at round 4, the start of its next iteration
    const p3: number[][] = [];
    runInProcess(inst, spec, { channel: { ...never, coherenceRounds: 3 }, onRound: (_t, o) => void p3.push(o.map((x) => x[0])) });
    expect(p3.slice(0, 5)).toEqual(p0.slice(0, 5));
    expect(p3[5]).not.toEqual(p0[5]);
    // tracking pays: refreshed every round, WMMSE-DMP ends higher than on CSI of round 0
    const tracked = runInProcess(inst, spec, { channel: { ...never, coherenceRounds: 1 } });
    expect(tracked.history.at(-1)!).toBeGreaterThan(r.history.at(-1)!);
  });

  it('over NATS it equals the in-process run (barrier and local), WMMSE-DMP, WCGCN and PCGNN', async () => {
    const wcgcn = loadCheckpoint(join(MODELS_DIR, 'wcgcn-d2d-k50.json'));
    const pcgnn = loadCheckpoint(join(MODELS_DIR, 'pcgnn-d2d-k50.json'));
    const channel: ChannelFault = { seed: 12, correlation: 0.8, coherenceRounds: 1 };
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    try {
      await c.launch(inst.K, 4);
      for (const [spec, ch] of [[{ name: 'wmmse-dmp', iterations: 6 }, { ...channel, coherenceRounds: 3 }], [{ name: 'wcgcn', checkpoint: wcgcn }, channel], [{ name: 'pcgnn', checkpoint: pcgnn }, channel]] as const)
        for (const clock of ['barrier', 'local'] as const) {
          const r = await c.runJob(inst, spec, { roundDeadlineMs: 20_000, policy: 'skip', clock, channel: ch });
          const twin = runInProcess(inst, spec, { channel: ch });
          expect(r.rounds.map((x) => x.objective)).toEqual(twin.history);
          expect(r.outputs).toEqual(twin.outputs);
          expect(twin.outputs).not.toEqual(runInProcess(inst, spec).outputs);
        }
    } finally {
      await c.shutdown();
    }
  });

  it('is refused where it cannot hold, before the run', () => {
    const ok = { name: 'c', networks: [{ model: 'd2d', K: 10 }], algorithms: ['wmmse-dmp'], faults: { channel: { correlation: 0.99, coherenceRounds: 10 } } };
    expect(parseScenario(ok, 's.yaml').faults.channel).toEqual({ correlation: 0.99, coherenceRounds: 10 });
    expect(parseScenario({ ...ok, faults: { channel: { correlation: 0.9 } } }, 's.yaml').faults.channel).toEqual({ correlation: 0.9, coherenceRounds: 1 });
    const bad: [object, string][] = [
      [{ ...ok, runtime: { clock: 'async' } }, 's.yaml: invalid scenario: faults.channel: a time-varying channel needs rounds: runtime.clock barrier or local, not async'],
      [{ ...ok, faults: { ...ok.faults, csiNoise: { kind: 'multiplicative', std: 0.1 } } }, 's.yaml: invalid scenario: faults.channel: not with faults.csiNoise: agents follow their links from the true amplitudes (measure them anew every coherenceRounds)'],
      [{ ...ok, networks: [{ model: 'miso', K: 4, Nt: 2 }] }, 's.yaml: invalid scenario: faults.channel: networks[0] is miso: a time-varying channel is for power control networks the run generates (d2d, rayleigh-ic, regnn-adhoc), whose large-scale fading it knows'],
      [{ ...ok, faults: { channel: { correlation: 1.5 } } }, 's.yaml: invalid scenario: faults.channel.correlation: Too big: expected number to be <=1'],
      [{ ...ok, algorithms: [{ name: 'ecgnn', checkpoint: 'ecgnn-d2d-k10' }] }, "s.yaml: invalid scenario: faults.channel: algorithms[0] (ecgnn-d2d-k10) cannot take the CSI its agents measure anew during the run (its DMP has no refresh; wmmse-dmp, wcgcn and pcgnn have)"],
    ];
    for (const [raw, message] of bad) expect(() => parseScenario(raw, 's.yaml')).toThrow(message);
  });

  it('correlation 1 keeps round 0\'s channel: the run equals the one without faults.channel (to rounding), and summary.md does not say the channel varies', async () => {
    const sc = (faults: object) =>
      parseScenario({ name: 'still', seed: 5, networks: [{ name: 'net', model: 'd2d', K: 8, field: 300, csiRange: 200, instances: 2 }], algorithms: [{ name: 'wmmse-dmp', iterations: 3 }], runtime: { kind: 'inprocess' }, faults, outputs: { dir: mkdtempSync(join(tmpdir(), 'dmpemu-still-')) } }, 's.yaml');
    const [still, plain] = [await runScenario(sc({ channel: { correlation: 1 } })), await runScenario(sc({}))];
    // equal up to rounding: the agents measure the same CSI anew every round and WMMSE-DMP's refresh recomputes from it
    const plainRates = plain.summary.networks[0].algorithms[0].rates;
    still.summary.networks[0].algorithms[0].rates.forEach((r, n) => expect(Math.abs(r - plainRates[n]) / plainRates[n]).toBeLessThan(1e-14));
    const md = readFileSync(join(still.dir, 'summary.md'), 'utf8');
    expect(md).not.toContain('The channel varies');
    expect(md).toContain('faults.channel has correlation 1: the channel stays round 0\'s, so results are those of a static channel.');
    const moving = await runScenario(sc({ channel: { correlation: 0.9 } }));
    expect(readFileSync(join(moving.dir, 'summary.md'), 'utf8')).toContain('The channel varies (faults.channel)');
  });
});

