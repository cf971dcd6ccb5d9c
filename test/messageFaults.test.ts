import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { flipBits, linkDelayMs, linkKm, linkReceive, loadCheckpoint, pack, runInProcess, unpack, type AlgorithmSpec, type DeliveryFaults } from '@dmpemu/dmp';
import { generateInstance, localView, Rng } from '@dmpemu/wireless';
import { Coordinator } from '../coordinator/src/run/coordinator.ts';
import { MODELS_DIR } from '../coordinator/src/scenario/checkpoints.ts';
import { parseScenario } from '../coordinator/src/scenario/scenario.ts';
import { evalDmp } from '../coordinator/src/run/evaluation.ts';
import type { ResolvedFaults } from '../coordinator/src/scenario/faultPlan.ts';

describe('message faults: what a receiver reads of a broadcast', () => {
  const b = Float64Array.from({ length: 64 }, (_, i) => Math.cos(i) + 2);

  it('messageNoise: seeded Gaussian noise per link and entry, its variance the message power snrDb below', () => {
    const f: DeliveryFaults = { seed: 5, noiseSnrDb: 10 };
    const power = b.reduce((s, x) => s + x * x, 0) / b.length;
    let sq = 0, n = 0;
    for (let j = 0; j < 20; j++)
      for (let k = 0; k < 20; k++) {
        const seen = linkReceive(f, 3, j, k, b)!;
        expect(linkReceive(f, 3, j, k, b)).toEqual(seen); // the same draw in every executor
        seen.forEach((x, i) => ((sq += (x - b[i]) ** 2), n++));
      }
    expect(sq / n / (power / 10)).toBeCloseTo(1, 1); // 25,600 draws: within 5%
    expect(linkReceive(f, 3, 0, 1, b)).not.toEqual(linkReceive(f, 3, 1, 0, b)); // each link its own
  });

  it('bitErrors: bits of the payload flip with probability ber; a payload that no longer decodes is lost', () => {
    const f: DeliveryFaults = { seed: 2, bitErrors: { ber: 0.01 } };
    const bytes = new Uint8Array(4096);
    const flipped = flipBits(f, 0, 1, 2, bytes).reduce((s, x) => s + x.toString(2).split('1').length - 1, 0);
    expect(flipped / (4096 * 8)).toBeGreaterThan(0.009);
    expect(flipped / (4096 * 8)).toBeLessThan(0.011);
    // quantised: the codes flip, and the receiver reads the flipped codes
    const q = { bits: 4, scheme: 'uniform', range: 'fixed', min: 0, max: 4 } as const;
    const fq: DeliveryFaults = { seed: 2, bitErrors: { ber: 0.05 }, quantization: q };
    const packed = pack(q, b);
    const seen = linkReceive(fq, 0, 1, 2, unpack(q, packed, b.length)!, packed)!;
    expect(seen).toEqual(unpack(q, flipBits(fq, 0, 1, 2, packed), b.length));
    expect(seen).not.toEqual(unpack(q, packed, b.length));
    // float64s: a flipped exponent can make NaN or infinity: that message is lost
    const lost = Array.from({ length: 200 }, (_, j) => linkReceive({ seed: 3, bitErrors: { ber: 0.05 } }, 0, j, 0, Float64Array.of(1, 2, 3)) === undefined).filter(Boolean).length;
    expect(lost).toBeGreaterThan(0);
    expect(linkReceive({ seed: 3, bitErrors: { ber: 0 } }, 0, 0, 0, b)).toEqual(b);
  });

  it('over NATS a run with noisy and bit-flipped messages equals the in-process one (barrier and local), losses counted', async () => {
    const inst = generateInstance('d2d', new Rng(93), { K: 10, field: 300, csiRange: 150 });
    const wcgcn = loadCheckpoint(join(MODELS_DIR, 'wcgcn-d2d-k50.json'));
    const cases: [AlgorithmSpec, DeliveryFaults][] = [
      [{ name: 'wmmse-dmp', iterations: 5 }, { seed: 11, noiseSnrDb: 15 }],
      [{ name: 'wcgcn', checkpoint: wcgcn }, { seed: 13, bitErrors: { ber: 0.1 }, quantization: { bits: 6, scheme: 'uniform', range: 'fixed', min: -4, max: 4 }, noiseSnrDb: 20 }],
      [{ name: 'wmmse-dmp', iterations: 5 }, { seed: 14, bitErrors: { ber: 0.05 }, quantization: { bits: 8, scheme: 'log', range: 'per-message' } }],
    ];
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    try {
      await c.launch(10, 5);
      for (const [spec, faults] of cases)
        for (const clock of ['barrier', 'local'] as const) {
          const r = await c.runJob(inst, spec, { roundDeadlineMs: 5000, policy: 'skip', clock, faults });
          const twin = runInProcess(inst, spec, { faults });
          expect(r.rounds.map((x) => x.objective)).toEqual(twin.history);
          expect(twin.history.at(-1)).not.toBe(runInProcess(inst, spec).history.at(-1));
          expect(r.counters.malformedData).toBe(0);
          if (faults.seed === 14) expect(r.counters.lost).toBeGreaterThan(0); // per-message ranges that no longer decode
        }
      // bit errors on raw float64s: a flipped exponent bit makes a huge input, the WCGCN's output is NaN: the job fails naming the agent, in process as over NATS
      const faults = { seed: 12, bitErrors: { ber: 0.02 } };
      expect(() => runInProcess(inst, { name: 'wcgcn', checkpoint: wcgcn }, { faults })).toThrow('agent 2 reported an output that is not finite in round 2');
      await expect(c.runJob(inst, { name: 'wcgcn', checkpoint: wcgcn }, { roundDeadlineMs: 5000, policy: 'skip', faults })).rejects.toThrow('agent 2 reported an output that is not finite in round 2');
      // a run in process fails the same job too (its summary said completed, with NaN rates)
      await expect(evalDmp([inst], { name: 'wcgcn', checkpoint: wcgcn }, { roundDeadlineMs: 5000, policy: 'skip', faultsFor: () => ({ delivery: faults }) as ResolvedFaults })).rejects.toThrow('agent 2 reported an output that is not finite in round 2');
    } finally {
      await c.shutdown();
    }
  });

  it('are scenario faults', () => {
    const sc = parseScenario({ name: 'm', networks: [{ model: 'rayleigh-ic', K: 4 }], algorithms: [{ name: 'wmmse-dmp', iterations: 2 }], runtime: { kind: 'inprocess' }, faults: { messageNoise: { snrDb: 10 }, bitErrors: { ber: 0.01 } } }, 's.yaml');
    expect(sc.faults).toMatchObject({ messageNoise: { snrDb: 10 }, bitErrors: { ber: 0.01 } });
    expect(() => parseScenario({ name: 'm', networks: [{ model: 'rayleigh-ic', K: 4 }], algorithms: ['wmmse'], faults: { bitErrors: { ber: 0.7 } } }, 's.yaml')).toThrow('s.yaml: invalid scenario: faults.bitErrors.ber: Too big: expected number to be <=0.5');
  });
});

describe('messageDelay by distance', () => {
  it('holds each delivery baseMs + msPerKm x its length: over NATS the links past the deadline are missed exactly as in process', async () => {
    const inst = generateInstance('d2d', new Rng(95), { K: 10, field: 300, csiRange: 150 });
    const f0 = { seed: 1, distanceDelay: { baseMs: 20, msPerKm: 20000 } };
    // a deadline in the widest gap between the links' delays, so no delivery races it on a loaded machine
    // (at 10000 ms/km the gap was 202 ms, and a delivery 101 ms before the deadline once arrived after it in CI)
    const delays = [...new Set(Array.from({ length: 10 }, (_, k) => localView(inst, k).neighbours).flatMap((nb, k) => Array.from(nb, (j) => linkDelayMs(f0, 0, j, k, linkKm(inst, j, k)))))].sort((a, b) => a - b);
    const gaps = delays.slice(1).map((d, i) => [d - delays[i], (d + delays[i]) / 2]).filter(([, mid]) => mid < 2400);
    const [gap, deadline] = gaps.reduce((a, b) => (b[0] > a[0] ? b : a));
    expect(gap).toBeGreaterThan(400);
    const spec = { name: 'wmmse-dmp', iterations: 3 };
    const twin = runInProcess(inst, spec, { faults: f0, roundDeadlineMs: deadline });
    expect(twin.history).not.toEqual(runInProcess(inst, spec).history); // some links are too long
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    try {
      await c.launch(10, 5);
      const r = await c.runJob(inst, spec, { roundDeadlineMs: deadline, policy: 'skip', faults: f0 });
      expect(r.rounds.map((x) => x.objective)).toEqual(twin.history);
      expect(r.rounds.every((x) => x.timedOut > 0)).toBe(true);
    } finally {
      await c.shutdown();
    }
  });

  it('needs positions', () => {
    expect(() => parseScenario({ name: 'm', networks: [{ model: 'rayleigh-ic', K: 4 }], algorithms: ['wmmse-dmp'], faults: { messageDelay: { model: 'distance', baseMs: 1, msPerKm: 10 } } }, 's.yaml')).toThrow(
      's.yaml: invalid scenario: faults.messageDelay.model: distance needs positions: networks[0] is rayleigh-ic (a geometric model, d2d, miso or regnn-adhoc, has them)',
    );
    expect(() => parseScenario({ name: 'm', networks: [{ model: 'd2d', K: 4 }], algorithms: ['wmmse-dmp'], faults: { messageDelay: { model: 'distance', baseMs: 1 } } }, 's.yaml')).toThrow('s.yaml: invalid scenario: faults.messageDelay.msPerKm: model distance needs baseMs and msPerKm (each delivery held baseMs + msPerKm x its length in km)');
    expect(parseScenario({ name: 'm', networks: [{ model: 'd2d', K: 4 }], algorithms: ['wmmse-dmp'], faults: { messageDelay: { maxMs: 5 } } }, 's.yaml').faults.messageDelay).toEqual({ model: 'uniform', maxMs: 5 });
  });
});
