import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { loadModule, runInProcess, type AlgorithmSpec } from '@dmpemu/dmp';
import { fplinqPower, generateInstance, objective, rayleighInstance, Rng, parseInstanceFile } from '@dmpemu/wireless';
import { bundleModule } from '../coordinator/src/scenario/algorithmModules.ts';
import { Coordinator } from '../coordinator/src/run/coordinator.ts';

const CLI = new URL('../bin/dmpemu.js', import.meta.url).pathname;
const EXAMPLE = new URL('../examples/algorithms/fplinq-dmp.ts', import.meta.url).pathname;
const REF = new URL('./reference/rayleigh-k10-snr10.json', import.meta.url).pathname;

function dmpemu(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => execFile(process.execPath, [CLI, ...args], { env: { ...process.env, NATS_URL: '', ...env } }, (e, stdout, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr })));
}

/** A module written elsewhere, only against the README's contract. */
function outside(name: string, code?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dmpemu-module-'));
  const file = join(dir, name);
  if (code === undefined) copyFileSync(EXAMPLE, file);
  else writeFileSync(file, code);
  return file;
}

describe('own algorithms as modules', () => {
  it('a module outside the repository, with a parameter from the command line, runs over NATS equal to the in-process executor and to an independent implementation', async () => {
    const file = outside('fplinq-dmp.ts');
    const nats = await dmpemu(['eval', '--instances', REF, '--algorithm', file, '--param', 'iterations=20', '--runtime', 'nats', '--agents-per-process', '5', '--json'], { NATS_URL: inject('natsUrl') });
    expect(nats.code, nats.stderr).toBe(0);
    const local = await dmpemu(['eval', '--instances', REF, '--algorithm', file, '--param', 'iterations=20', '--runtime', 'inprocess', '--json']);
    const n = JSON.parse(nats.stdout), l = JSON.parse(local.stdout);
    expect(n).toMatchObject({ algorithm: 'fplinq-dmp', runtime: 'nats', rounds: 40 });
    expect(n.history).toEqual(l.history);
    expect(n.rates).toEqual(l.rates);
    // the independent implementation: centralized FPLinQ (packages/wireless), 20 iterations from full power
    const insts = parseInstanceFile(JSON.parse(readFileSync(REF, 'utf8'))).instances;
    const module = bundleModule(file, 'test');
    await loadModule(module);
    for (const inst of insts) {
      const p = fplinqPower(inst, { iterations: 20 });
      const ours = runInProcess(inst, { name: 'module', module, params: { iterations: 20 } }).outputs.map((o) => o[0]);
      ours.forEach((x, k) => expect(Math.abs(x - p[k])).toBeLessThan(1e-9 * Math.max(1, p[k])));
    }
  });

  it('a scenario names a module by a path relative to itself, with params and a label; tables and rounds.jsonl use the label', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-modscn-'));
    copyFileSync(EXAMPLE, join(dir, 'fp.ts'));
    writeFileSync(join(dir, 's.yaml'), ['name: mod', 'networks:', '  - { model: rayleigh-ic, K: 6 }', 'algorithms:', '  - { module: ./fp.ts, params: { iterations: 5 }, label: fp5 }', '  - { module: ./fp.ts, params: { iterations: 8 } }', 'runtime: { agentsPerProcess: 3 }', `outputs: { dir: ${join(dir, 'runs')} }`].join('\n'));
    const r = await dmpemu(['run', join(dir, 's.yaml'), '--quiet'], { NATS_URL: inject('natsUrl') });
    expect(r.code, r.stderr).toBe(0);
    const run = join(dir, 'runs', readdirSync(join(dir, 'runs'))[0]);
    const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
    expect(summary.networks[0].algorithms.map((a: { algorithm: string; rounds: number }) => [a.algorithm, a.rounds])).toEqual([['fp5', 10], ['fp', 16]]);
    const lines = readFileSync(join(run, 'rounds.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(new Set(lines.map((l) => l.algorithm))).toEqual(new Set(['fp5', 'fp']));
  });

  it('a module is checked as built-in algorithms are: a crash, a churn or a message budget its rounds never meet is refused before anything starts (a crash past its last round silently never happened)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-modfault-'));
    copyFileSync(EXAMPLE, join(dir, 'fp.ts'));
    const s = join(dir, 's.yaml');
    const cases: [string[], string][] = [
      [['faults: { crash: [{ agent: 1, round: 12 }] }'], `${s}: invalid scenario: faults.crash[0].round: round 12 is never reached by algorithms[0] (fp), which runs 10 rounds (0-9)`],
      [['faults: { churn: [{ agent: 1, leaveRound: 10 }] }'], `${s}: invalid scenario: faults.churn[0].leaveRound: round 10 is never reached by algorithms[0] (fp), which runs 10 rounds (0-9)`],
      [['faults: { maxMessageBytes: 4 }'], `${s}: invalid scenario: faults.maxMessageBytes: algorithms[0] (fp) broadcasts 1 number in round 0: 8 bytes as float64, more than the budget of 4 bytes (faults.messageQuantization brings them under)`],
      // a sweep point is named as for built-in algorithms
      [['faults: { crash: [{ agent: 1, round: 3 }] }', "sweep: { key: 'faults.crash[0].round', values: [3, 12] }"], `${s} (sweep faults.crash[0].round = 12): invalid scenario: faults.crash[0].round: round 12 is never reached by algorithms[0] (fp), which runs 10 rounds (0-9)`],
    ];
    for (const [lines, message] of cases) {
      writeFileSync(s, ['name: mod', 'networks:', '  - { model: rayleigh-ic, K: 6 }', 'algorithms:', '  - { module: ./fp.ts, params: { iterations: 5 } }', ...lines, `outputs: { dir: ${join(dir, 'runs')} }`].join('\n'));
      const r = await dmpemu(['run', s, '--quiet'], { NATS_URL: inject('natsUrl') });
      expect(r.stderr.trim()).toBe(`dmpemu: ${message}`);
      expect(r.code).toBe(2);
    }
    expect(readdirSync(dir)).toEqual(['fp.ts', 's.yaml']); // no run directory
  });

  it.each([
    ['missing.ts', undefined, /^dmpemu: --algorithm \S+missing\.ts: no such file$/],
    ['broken.ts', 'export default function (p) { return { name: ', /^dmpemu: --algorithm \S+broken\.ts: does not build: Unexpected end of file \(\S+broken\.ts:1\)$/],
    ['notfn.mjs', 'export default 42;', /^dmpemu: --algorithm \S+notfn\.mjs: module notfn: its default export must be a function \(params\) => DmpAlgorithm, got number 42$/],
    ['throws.mjs', 'export default function () { throw new Error("needs a radius"); }', /^dmpemu: --algorithm \S+throws\.mjs on \S+: module throws: the factory threw: needs a radius$/],
    // a top-level await that never settles: the CLI ended with exit code 13 and no word
    ['hangs.mjs', 'await new Promise(() => {});\nexport default function () {}', /^dmpemu: --algorithm \S+hangs\.mjs: module hangs: does not load: did not finish loading in 10 s \(a top-level await that never settles\?\)$/],
    ['partial.mjs', 'export default function () { return { name: "x", rounds: 3, period: 1, init() {} }; }', /^dmpemu: --algorithm \S+partial\.mjs on \S+: module partial: not a DmpAlgorithm: missing method\(s\) broadcastSize, messageSize, aggregation, broadcast, message, update, output$/],
  ])('a bad module (%s) is refused in one line naming it, exit 2', async (name, code, message) => {
    const file = code === undefined ? join(mkdtempSync(join(tmpdir(), 'dmpemu-module-')), name) : outside(name, code);
    const r = await dmpemu(['eval', '--instances', REF, '--algorithm', file, '--runtime', 'inprocess']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(message);
  });

  it('a module whose algorithm throws in round 2: that agent fails with the reason, its host lives on, and the job fails saying so', async () => {
    const file = outside('boom.mjs', [
      'export default function () {',
      '  return { name: "boom", rounds: 5, period: 1, init: (v) => ({ k: v.k }), broadcastSize: () => 1, messageSize: () => 1, aggregation: () => "sum",',
      '    broadcast(s, t, out) { out[0] = 1; }, message(s, t, i, b, out) { out[0] = b[0]; },',
      '    update(s, t) { if (t === 2 && s.k === 3) throw new Error("division by zero in round 2"); }, output: () => Float64Array.of(0.5) };',
      '}',
    ].join('\n'));
    const module = bundleModule(file, 'test');
    await loadModule(module);
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    try {
      await c.launch(6, 3);
      const pids = c.agentPids();
      const inst = rayleighInstance(new Rng(5), { K: 6, snrDb: 10 });
      await expect(c.runJob(inst, { name: 'module', module, params: {} }, { roundDeadlineMs: 5000, policy: 'skip' })).rejects.toThrow('agent 3 failed in round 2: boom: division by zero in round 2');
      for (const pid of pids) expect(() => process.kill(pid, 0)).not.toThrow();
      // the hosts still serve the next job
      const r = await c.runJob(inst, { name: 'wmmse-dmp', iterations: 2 }, { roundDeadlineMs: 5000, policy: 'skip' });
      expect(r.rounds).toHaveLength(4);
    } finally {
      await c.shutdown();
    }
  });

  it('an output that is not a decision (a power above Pmax, two numbers for a power, a negative one) fails the run in process as over NATS, naming the agent and round: in process it was scored as a result', async () => {
    const module = (output: string): string =>
      outside('bad.mjs', [
        'export default function () {',
        '  return { name: "bad", rounds: 3, period: 1, init: (v) => ({ k: v.k }), broadcastSize: () => 1, messageSize: () => 1, aggregation: () => "sum",',
        '    broadcast(s, t, out) { out[0] = 1; }, message(s, t, i, b, out) { out[0] = b[0]; }, update() {},',
        `    output: (s) => s.k === 1 ? ${output} : Float64Array.of(0.5) };`,
        '}',
      ].join('\n'));
    for (const [output, line] of [
      ['Float64Array.of(5)', 'agent 1 reported a power of 5, outside [0, Pmax = 1] in round 0'],
      ['Float64Array.of(0.5, 0.5)', 'agent 1 reported an output of length 2, expected 1 (a power) in round 0'],
      ['Float64Array.of(-0.1)', 'agent 1 reported a power of -0.1, outside [0, Pmax = 1] in round 0'],
    ]) {
      const file = module(output);
      for (const runtime of ['inprocess', 'nats']) {
        const r = await dmpemu(['eval', '--instances', REF, '--algorithm', file, '--runtime', runtime]);
        expect([r.code, r.stderr.trim().split('\n').at(-1)]).toEqual([1, `dmpemu: ${line}`]);
      }
    }
  });

  it('an aggregation other than sum, max or mean (\'Max\', \'min\') fails the run naming it, in process and over NATS: it ran as a sum', async () => {
    const file = outside('agg.mjs', [
      'export default function () {',
      '  return { name: "agg", rounds: 2, period: 1, init: (v) => ({ k: v.k, y: 0 }), broadcastSize: () => 1, messageSize: () => 1, aggregation: () => "Max",',
      '    broadcast(s, t, out) { out[0] = s.k / 10; }, message(s, t, i, b, out) { out[0] = b[0]; }, update(s, t, agg) { s.y = agg[0]; }, output: (s) => Float64Array.of(Math.min(1, s.y)) };',
      '}',
    ].join('\n'));
    const inprocess = await dmpemu(['eval', '--instances', REF, '--algorithm', file, '--runtime', 'inprocess']);
    expect([inprocess.code, inprocess.stderr.trim()]).toEqual([1, 'dmpemu: aggregation(0) returned "Max", expected "sum", "max" or "mean"']);
    const nats = await dmpemu(['eval', '--instances', REF, '--algorithm', file, '--runtime', 'nats']);
    expect(nats.code).toBe(1);
    expect(nats.stderr).toMatch(/agent \d failed in round 0: agg: aggregation\(0\) returned "Max", expected "sum", "max" or "mean"/);
  });

  it('state kept on the algorithm object (this.view = view in init) fails at once, in process and over NATS: that object is shared by the agents of a host, so the result depended on agentsPerProcess', async () => {
    const file = outside('shared.mjs', [
      'export default function () {',
      '  return { name: "shared", rounds: 2, period: 1, init(v) { this.view = v; return { k: v.k }; }, broadcastSize: () => 1, messageSize: () => 1, aggregation: () => "sum",',
      '    broadcast(s, t, out) { out[0] = 1; }, message(s, t, i, b, out) { out[0] = b[0]; }, update() {}, output() { return Float64Array.of(this.view.pmax / 2); } };',
      '}',
    ].join('\n'));
    const inprocess = await dmpemu(['eval', '--instances', REF, '--algorithm', file, '--runtime', 'inprocess']);
    expect([inprocess.code, inprocess.stderr.trim()]).toEqual([1, 'dmpemu: Cannot add property view, object is not extensible']);
    const nats = await dmpemu(['eval', '--instances', REF, '--algorithm', file, '--runtime', 'nats', '--agents-per-process', '5']);
    expect(nats.code).toBe(1);
    expect(nats.stderr).toMatch(/agent \d+ (refused|failed).*Cannot add property view, object is not extensible/);
  });
  it('on MISO with Nt = 1, beamformers with agent 0 away are beams with v_0 = 0, in process as over NATS (they were read as powers p_k = Re v_k), and a power beside a beamformer fails naming both agents', async () => {
    const beams = (output: string): AlgorithmSpec => {
      const file = outside('beam.mjs', [
        'export default function () {',
        '  return { name: "beam", rounds: 2, period: 1, init: (v) => ({ k: v.k }), broadcastSize: () => 1, messageSize: () => 1, aggregation: () => "sum",',
        '    broadcast(s, t, out) { out[0] = 1; }, message(s, t, i, b, out) { out[0] = b[0]; }, update() {},',
        `    output: (s) => ${output} };`,
        '}',
      ].join('\n'));
      return { name: 'module', module: bundleModule(file, 'test'), params: {} };
    };
    const inst = generateInstance('miso', new Rng(8), { K: 4, Nt: 1 });
    const spec = beams('Float64Array.of(0.3 + 0.1 * s.k, -0.4)');
    await loadModule(spec.module!);
    const churn = [{ leaveRound: 0 }, undefined, undefined, undefined];
    // the beams the agents give, agent 0 transmitting nothing
    const want = objective(inst, { kind: 'beam', vRe: Float64Array.of(0, 0.4, 0.5, 0.6), vIm: Float64Array.of(0, -0.4, -0.4, -0.4) });
    const local = runInProcess(inst, spec, { churn });
    expect(local.history).toEqual([want, want]);
    const mixed = beams('s.k === 2 ? Float64Array.of(0.5) : Float64Array.of(0.3, 0.4)');
    await loadModule(mixed.module!);
    expect(() => runInProcess(inst, mixed)).toThrow('agent 2 reported a power of 0.5 where agent 0 reported a beamformer (one decision holds one kind) in round 0');
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    try {
      await c.launch(4, 2);
      const r = await c.runJob(inst, spec, { roundDeadlineMs: 5000, policy: 'skip', churn });
      expect(r.rounds.map((x) => x.objective)).toEqual([want, want]);
      await expect(c.runJob(inst, mixed, { roundDeadlineMs: 5000, policy: 'skip' })).rejects.toThrow(/^agent (2 reported a power of 0.5 where agent [013] reported a beamformer|[013] reported a beamformer where agent 2 reported a power) \(one decision holds one kind\) in round 0$/); // whichever report came first
    } finally {
      await c.shutdown();
    }
  });
});
