import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { REFERENCE_DIR } from './referenceDir.ts';

const run = promisify(execFile);
const CLI = new URL('../bin/dmpemu.js', import.meta.url).pathname;
const REF = REFERENCE_DIR;

async function dmpemu(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [CLI, ...args], { env: { ...process.env, NATS_URL: '', ...env } });
    return { code: 0, ...r };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('dmpemu CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmpemu-cli-'));

  it('eval --json keeps the contract and reproduces the reference WMMSE rates', async () => {
    const r = await dmpemu(['eval', '--instances', join(REF, 'rayleigh-k10-snr10.json'), '--algorithm', 'wmmse', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const ref = JSON.parse(readFileSync(join(REF, 'rayleigh-k10-snr10.json'), 'utf8'));
    expect(Object.keys(out)).toEqual(expect.arrayContaining(['algorithm', 'instances', 'meanRate', 'rates', 'seconds']));
    expect(out.algorithm).toBe('wmmse');
    expect(out.instances).toBe(ref.instances.length);
    out.rates.forEach((x: number, n: number) => expect(Math.abs(x - ref.instances[n].wmmse100.rate) / x).toBeLessThan(1e-9));
    expect(out.seconds).toBeGreaterThan(0);
  });

  it('eval --runtime nats gives the centralized rates, with rounds and a per-round history', async () => {
    const file = join(REF, 'rayleigh-k10-snr0.json');
    const central = JSON.parse((await dmpemu(['eval', '--instances', file, '--algorithm', 'wmmse', '--iterations', '20', '--json'])).stdout);
    const r = await dmpemu(['eval', '--instances', file, '--algorithm', 'wmmse', '--iterations', '20', '--runtime', 'nats', '--agents-per-process', '5', '--json'], { NATS_URL: inject('natsUrl') });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.runtime).toBe('nats');
    expect(out.rounds).toBe(40);
    expect(out.history).toHaveLength(40);
    out.rates.forEach((x: number, n: number) => expect(Math.abs(x - central.rates[n]) / x).toBeLessThan(1e-12));
  });

  it('generate writes instances that eval reads back', async () => {
    const f = join(dir, 'g.json');
    const g = await dmpemu(['generate', '--model', 'rayleigh-ic', '--K', '6', '--count', '3', '--seed', '4', '--snr-db', '0', '--out', f]);
    expect(g.code).toBe(0);
    expect(g.stdout).toContain(`wrote 3 rayleigh-ic instance(s) with K=6 to ${f}`);
    const again = join(dir, 'g2.json');
    await dmpemu(['generate', '--model', 'rayleigh-ic', '--K', '6', '--count', '3', '--seed', '4', '--snr-db', '0', '--out', again]);
    expect(readFileSync(f, 'utf8')).toBe(readFileSync(again, 'utf8'));
    const e = await dmpemu(['eval', '--instances', f, '--algorithm', 'wmmse', '--json']);
    expect(JSON.parse(e.stdout).instances).toBe(3);
  });

  it.each([
    [['generate', '--model', 'rayleigh-ic', '--K', '0', '--out', 'x.json'], "error: option '--K <n>' argument '0' is invalid. expected a positive integer."],
    [['generate', '--model', 'lte', '--K', '3', '--out', 'x.json'], "error: option '--model <name>' argument 'lte' is invalid. Allowed choices are rayleigh-ic, d2d, miso, regnn-adhoc."],
    [['eval', '--algorithm', 'wmmse'], "error: required option '--instances <file>' not specified"],
    [['eval', '--instances', '/nonexistent.json', '--algorithm', 'wmmse'], 'dmpemu: --instances: cannot read /nonexistent.json (ENOENT)'],
    [['eval', '--instances', join(REF, 'rayleigh-k10-snr0.json'), '--algorithm', 'fplinq', '--runtime', 'inprocess'], 'dmpemu: --algorithm fplinq has no DMP form for --runtime; expected one of wmmse, wmmse-dmp, wcgcn, pcgnn, regnn'],
  ])('bad input %j exits 2 with one line', async (args, line) => {
    const r = await dmpemu(args);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(line);
  });

  it.each([
    ['missing field', { K: 2, noise: 1, instances: [{ weights: [1, 1] }] }, 'instances[0].gain: expected a 2 x 2 matrix (2 rows), got nothing (missing)'],
    ['wrong shape', { K: 2, noise: 1, instances: [{ gain: [[1, 2], [3]] }] }, 'instances[0].gain[1]: expected an array of 2 numbers, got an array of length 1'],
    ['negative noise', { K: 2, noise: -0.1, instances: [{ gain: [[1, 2], [3, 4]] }] }, 'noise: expected a finite number > 0, got -0.1'],
    ['NaN', { K: 2, noise: 1, instances: [{ gain: [[1, 2], [3, 'NaN']] }] }, 'instances[0].gain[1][1]: expected a finite number >= 0, got "NaN"'],
  ])('a bad instance file (%s) names the field', async (_name, data, message) => {
    const f = join(dir, 'bad.json');
    writeFileSync(f, JSON.stringify(data));
    const r = await dmpemu(['eval', '--instances', f, '--algorithm', 'wmmse']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`dmpemu: ${f}: ${message}`);
  });

  it('run writes the run directory; a bad scenario is rejected before anything starts', async () => {
    const sc = join(dir, 'sc.yaml');
    writeFileSync(sc, ['name: t', 'seed: 3', 'networks:', '  - { model: rayleigh-ic, K: 6, instances: 2 }', 'algorithms:', '  - { name: wmmse-dmp, iterations: 5 }', '  - wmmse', 'runtime: { agentsPerProcess: 3 }'].join('\n'));
    const out = join(dir, 'runs');
    const r = await dmpemu(['run', sc, '--out', out, '--quiet'], { NATS_URL: inject('natsUrl') });
    expect(r.code, r.stderr).toBe(0);
    const [runDir] = readdirSync(out);
    expect(readdirSync(join(out, runDir)).sort()).toEqual(['rounds.jsonl', 'scenario.yaml', 'summary.json', 'summary.md']);
    const lines = readFileSync(join(out, runDir, 'rounds.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2 * 10); // 2 instances x 10 rounds
    expect(lines[0]).toMatchObject({ network: 'rayleigh-ic-k6', instance: 0, algorithm: 'wmmse-dmp-5', runtime: 'nats', round: 0, reported: 6, expected: 6 });
    const summary = JSON.parse(readFileSync(join(out, runDir, 'summary.json'), 'utf8'));
    expect(summary.status).toBe('completed');
    const [dmp, central] = summary.networks[0].algorithms;
    expect(dmp.rounds).toBe(10);
    expect(central.algorithm).toBe('wmmse-100');
    // after 2T rounds the DMP equals the centralized WMMSE after T iterations
    expect(dmp.history[9]).toBeCloseTo(summary.networks[0].wmmseHistory[5], 12);

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: t\nnetworks:\n  - { model: rayleigh-ic, K: 0 }\nalgorithms: [wmmse]\n');
    const b = await dmpemu(['run', bad, '--out', join(dir, 'runs-bad')]);
    expect(b.code).toBe(2);
    expect(b.stderr.trim()).toBe(`dmpemu: ${bad}: invalid scenario: networks[0].K: Too small: expected number to be >0`);
    expect(() => readdirSync(join(dir, 'runs-bad'))).toThrow();
  });

  it('outputs.dir /proc/x is refused in one line, exit 2 (mkdir -p hung there)', async () => {
    const sc = join(dir, 'proc.yaml');
    writeFileSync(sc, 'name: t\nnetworks:\n  - { model: rayleigh-ic, K: 3 }\nalgorithms: [wmmse]\noutputs: { dir: /proc/x }\n');
    const r = await dmpemu(['run', sc]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('dmpemu: outputs.dir /proc/x: cannot create directory (ENOENT)');
  });

  it('an unreachable NATS URL fails the run in one line', async () => {
    const sc = join(dir, 'sc2.yaml');
    writeFileSync(sc, 'name: t\nnetworks:\n  - { model: rayleigh-ic, K: 3 }\nalgorithms: [wmmse-dmp]\n');
    const r = await dmpemu(['run', sc, '--out', join(dir, 'runs2'), '--nats', 'nats://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^dmpemu: cannot connect to NATS at nats:\/\/127\.0\.0\.1:1: .+$/);
  });
});
