import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { loadCheckpoint, pack, packedBytes, quantize, runInProcess, unpack, type AlgorithmSpec, type Quantization } from '@dmpemu/dmp';
import { generateInstance, Rng } from '@dmpemu/wireless';
import { encode } from '@dmpemu/wire';
import { Coordinator } from '../coordinator/src/run/coordinator.ts';
import { evalDmp } from '../coordinator/src/run/evaluation.ts';
import { MODELS_DIR } from '../coordinator/src/scenario/checkpoints.ts';
import { parseScenario } from '../coordinator/src/scenario/scenario.ts';
import { UsageError } from '../coordinator/src/scenario/usageError.ts';

const perMessage = (bits: number): Quantization => ({ bits, scheme: 'uniform', range: 'per-message' });

describe('messageQuantization: broadcasts as bit-packed codes', () => {
  it('quantises each entry uniformly over the message range (sent as two float32) or a fixed range, bit-packed LSB first', () => {
    const b = Float64Array.of(0, 1, 0.4, 0.9);
    const q = perMessage(2);
    const bytes = pack(q, b);
    // 8 bytes of range, then the codes 0, 3, 1, 3 in 2 bits each: 0 | 3 << 2 | 1 << 4 | 3 << 6
    expect([bytes.length, packedBytes(q, 4), bytes[8]]).toEqual([9, 9, 0 + (3 << 2) + (1 << 4) + (3 << 6)]);
    expect(Array.from(unpack(q, bytes, 4)!)).toEqual([0, 1, 1 / 3, 1]);
    const fixed: Quantization = { bits: 1, scheme: 'uniform', range: 'fixed', min: 0, max: 2 };
    expect(Array.from(quantize(fixed, Float64Array.of(0.4, 1.5, 3, -1)))).toEqual([0, 2, 2, 0]); // clamped to [0, 2]
    expect(packedBytes(fixed, 4)).toBe(1);
    // log: a sign bit and bits - 1 bits of log10 |x|; 3 bits over [0.01, 10] are the decades 0.01, 0.1, 1, 10
    const log: Quantization = { bits: 3, scheme: 'log', range: 'fixed', min: 0.01, max: 10 };
    expect(Array.from(quantize(log, Float64Array.of(0.5, -20, 0, 0.03, -0.1)))).toEqual([1, -10, 0.01, 0.01, -0.1]);
    expect(Array.from(quantize({ bits: 8, scheme: 'log', range: 'per-message' }, Float64Array.of(2, -2e-3, 0))).map((v) => Number(v.toPrecision(4)))).toEqual([2, -0.002, 0.002]);
    // 16 bits over a message's range: within half a step of the truth
    const x = Float64Array.from({ length: 40 }, (_, i) => Math.sin(i) * 3);
    const step = (Math.fround(Math.max(...x)) - Math.fround(Math.min(...x))) / 65535;
    quantize(perMessage(16), x).forEach((v, i) => expect(Math.abs(v - x[i])).toBeLessThanOrEqual(step / 2 + 1e-6));
    // what is not such a message is refused
    expect(unpack(q, bytes.subarray(0, 8), 4)).toBeUndefined();
    const nan = bytes.slice();
    new DataView(nan.buffer).setFloat32(0, NaN, true);
    expect(unpack(q, nan, 4)).toBeUndefined();
  });

  it('over NATS the quantised run equals the in-process one, WMMSE and WCGCN, with fewer bytes on the wire', async () => {
    const inst = generateInstance('d2d', new Rng(91), { K: 12, field: 300, csiRange: 150 });
    const wcgcn = loadCheckpoint(join(MODELS_DIR, 'wcgcn-d2d-k50.json'));
    // a per-message range costs 8 bytes a message: WMMSE's broadcasts of one or two numbers gain only with a fixed one
    const cases: [AlgorithmSpec, Quantization][] = [
      [{ name: 'wmmse-dmp', iterations: 5 }, { bits: 6, scheme: 'uniform', range: 'fixed', min: 0, max: 4 }],
      [{ name: 'wcgcn', checkpoint: wcgcn }, perMessage(4)],
      [{ name: 'wmmse-dmp', iterations: 5 }, { bits: 6, scheme: 'log', range: 'fixed', min: 1e-9, max: 1e9 }],
    ];
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    try {
      await c.launch(12, 6);
      for (const [spec, quantization] of cases)
        for (const clock of ['barrier', 'local'] as const) {
          const faults = { seed: 1, quantization };
          const r = await c.runJob(inst, spec, { roundDeadlineMs: 5000, policy: 'skip', clock, faults });
          const twin = runInProcess(inst, spec, { faults });
          expect(r.rounds.map((x) => x.objective)).toEqual(twin.history);
          expect(r.counters).toMatchObject({ malformedData: 0, duplicate: 0 });
          expect(twin.history.at(-1)).not.toBe(runInProcess(inst, spec).history.at(-1)); // the fault has an effect
          const plain = await c.runJob(inst, spec, { roundDeadlineMs: 5000, policy: 'skip', clock });
          expect(r.rounds[0].bytes).toBeLessThan(plain.rounds[0].bytes);
          // what each agent sent: its broadcast as encoded, packed codes instead of float64s
          const n = spec.name === 'wcgcn' ? 3 : 1;
          const sent = (job: number, t: number, payload: Uint8Array | Float64Array): number => Array.from({ length: inst.K }, (_, k) => encode([job, t, k, payload]).length).reduce((a, b) => a + b, 0);
          expect(r.rounds.map((x) => x.sent)).toEqual(r.rounds.map((x) => sent(r.job, x.t, new Uint8Array(packedBytes(quantization, n)))));
          expect(plain.rounds.map((x) => x.sent)).toEqual(plain.rounds.map((x) => sent(plain.job, x.t, new Float64Array(n))));
        }
      // summaries: bits each agent sent per round and over its rounds
      const e = await evalDmp([inst], cases[1][0], { coordinator: c, roundDeadlineMs: 5000, policy: 'skip' });
      const perRound = (8 * encode([1, 0, 0, new Float64Array(3)]).length); // job, t and k below 128: one byte each
      expect([e.bitsPerAgentPerRound, e.bitsPerAgent]).toEqual([perRound, 3 * perRound]);
    } finally {
      await c.shutdown();
    }
  });

  it('is a scenario fault, checked before anything starts', () => {
    const sc = (q: unknown) => ({ name: 'q', networks: [{ model: 'rayleigh-ic', K: 4 }], algorithms: [{ name: 'wmmse-dmp', iterations: 2 }], runtime: { kind: 'inprocess' }, faults: { messageQuantization: q } });
    expect(parseScenario(sc({ bits: 8 }), 's.yaml').faults.messageQuantization).toEqual({ bits: 8, scheme: 'uniform', range: 'per-message' });
    expect(() => parseScenario(sc({ bits: 8, range: 'fixed', min: 1 }), 's.yaml')).toThrow(new UsageError('s.yaml: invalid scenario: faults.messageQuantization.min: range "fixed" needs min < max (the interval the codes span)'));
    expect(() => parseScenario(sc({ bits: 8, range: 'fixed', min: -1e308, max: 1e308 }), 's.yaml')).toThrow(new UsageError('s.yaml: invalid scenario: faults.messageQuantization.max: range "fixed" needs max - min finite (the codes are (max - min) / (2^bits - 1) apart)'));
    expect(() => parseScenario(sc({ bits: 8, max: 1 }), 's.yaml')).toThrow(new UsageError('s.yaml: invalid scenario: faults.messageQuantization.max: only with range "fixed" (per message, the range travels in the message)'));
    expect(() => parseScenario(sc({ bits: 17 }), 's.yaml')).toThrow(/faults\.messageQuantization\.bits: Too big: expected number to be <=16/);
    expect(() => parseScenario(sc({ bits: 1, scheme: 'log' }), 's.yaml')).toThrow(new UsageError('s.yaml: invalid scenario: faults.messageQuantization.bits: scheme "log" needs at least 2 bits (a sign bit and the magnitude)'));
    expect(() => parseScenario(sc({ bits: 4, scheme: 'log', range: 'fixed', min: 0, max: 1 }), 's.yaml')).toThrow(new UsageError('s.yaml: invalid scenario: faults.messageQuantization.min: scheme "log" spans magnitudes: min must be > 0'));
  });
});
