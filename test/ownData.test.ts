import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../coordinator/src/results/summary.ts';
import { readInstancesFile } from '../coordinator/src/scenario/instancesFile.ts';
import { loadScenario } from '../coordinator/src/scenario/scenario.ts';
import { drawInstances } from '../coordinator/src/commands/run.ts';
import { UsageError } from '../coordinator/src/scenario/usageError.ts';
import { REFERENCE_DIR as REF } from './referenceDir.ts';

const run = promisify(execFile);
const CLI = new URL('../bin/dmpemu.js', import.meta.url).pathname;
const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');

describe('own data: networks read from instance files, the instances of every run kept', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmpemu-owndata-'));
  copyFileSync(join(REF, 'rayleigh-k10-snr10.json'), join(dir, 'ref.json'));
  const scenario = (network: string, extra: string[] = []): string => {
    const f = join(dir, `s${readdirSync(dir).length}.yaml`);
    writeFileSync(f, ['name: own', `networks: [${network}]`, 'algorithms: [{ name: wmmse-dmp, iterations: 5 }, wmmse]', 'runtime: { kind: inprocess }', ...extra].join('\n'));
    return f;
  };

  it('a reference file runs as a network (path relative to the scenario); the summary names it with its hash, the run keeps its instances, eval --instances reproduces them; spreads over instances', async () => {
    const s = scenario('{ file: ref.json, instances: 4 }');
    const out = join(dir, 'runs');
    await run(process.execPath, [CLI, 'run', s, '--out', out, '--quiet']);
    const [id] = readdirSync(out);
    const summary: RunSummary = JSON.parse(readFileSync(join(out, id, 'summary.json'), 'utf8'));
    const [net] = summary.networks;
    expect([net.network, net.model, net.K, net.instances]).toEqual(['ref', 'rayleigh-ic', 10, 4]);
    expect(net.file).toEqual({ path: join(dir, 'ref.json'), sha256: sha(join(dir, 'ref.json')) });
    expect(net.instancesFile).toBe('instances/ref.json');
    // centralized WMMSE on the user's channels is the reference's own solution
    const ref = JSON.parse(readFileSync(join(dir, 'ref.json'), 'utf8'));
    const wmmse = net.algorithms.find((a) => a.algorithm === 'wmmse-100')!;
    wmmse.rates.forEach((r, n) => expect(Math.abs(r - ref.instances[n].wmmse100.rate) / r).toBeLessThan(1e-9));
    // the kept instances are the file's first four, bit for bit, and eval re-runs the result
    const kept = readInstancesFile(join(out, id, net.instancesFile!)).instances;
    const given = readInstancesFile(join(dir, 'ref.json')).instances.slice(0, 4);
    expect(kept.map((i) => Array.from(i.gain))).toEqual(given.map((i) => Array.from(i.gain)));
    const again = JSON.parse((await run(process.execPath, [CLI, 'eval', '--instances', join(out, id, net.instancesFile!), '--algorithm', 'wmmse', '--json'])).stdout);
    expect(again.rates).toEqual(wmmse.rates);
    // spread: the sample standard deviation and mean +- 1.96 s / sqrt(n) of the rates; per instance, each rate over its own WMMSE-100
    const dmp = net.algorithms.find((a) => a.algorithm === 'wmmse-dmp-5')!;
    const m = dmp.rates.reduce((a, b) => a + b, 0) / 4;
    const std = Math.sqrt(dmp.rates.reduce((a, r) => a + (r - m) ** 2, 0) / 3);
    expect(dmp.spread!.rate.mean).toBeCloseTo(m, 12);
    expect(dmp.spread!.rate.std).toBeCloseTo(std, 12);
    expect(dmp.spread!.rate.ci95![1] - m).toBeCloseTo((1.96 * std) / 2, 12);
    const ratios = dmp.rates.map((r, n) => r / wmmse.rates[n]);
    expect(dmp.spread!.normalised.mean).toBeCloseTo(ratios.reduce((a, b) => a + b, 0) / 4, 12);
    expect(wmmse.spread!.normalised).toMatchObject({ mean: 1, std: 0 });
    expect(readFileSync(join(out, id, 'summary.md'), 'utf8')).toContain(`| wmmse-dmp-5 | inprocess | 10 rounds | ${m.toFixed(4)} ± ${((1.96 * std) / 2).toFixed(4)} |`);
  });

  it('refuses a bad file network in one line before anything runs', async () => {
    const pin = '0'.repeat(64);
    const cases: [string, string][] = [
      ['{ file: ref.json, K: 20 }', `networks[0].K: ${join(dir, 'ref.json')} holds K = 10, the scenario says 20`],
      ['{ file: ref.json, snrDb: 10 }', 'networks[0]: a network read from a file takes only name, file, instances and sha256 (the model, K and the channels come from the file), got snrDb'],
      ['{ file: ref.json, instances: 21 }', `networks[0].instances: ${join(dir, 'ref.json')} holds 20 instance(s), asked for 21`],
      [`{ file: ref.json, sha256: "${pin}" }`, `networks[0].sha256: ${join(dir, 'ref.json')} has sha256 ${sha(join(dir, 'ref.json'))}, the scenario pins ${pin}`],
      ['{ file: nothing.json }', `networks[0].file: cannot read ${join(dir, 'nothing.json')} (ENOENT)`],
    ];
    for (const [net, why] of cases) {
      const s = scenario(net);
      const r = await run(process.execPath, [CLI, 'run', s, '--out', join(dir, 'bad')]).then(() => ({ code: 0, stderr: '' }), (e) => ({ code: e.code, stderr: e.stderr }));
      expect([r.code, r.stderr]).toEqual([2, `dmpemu: ${s}: invalid scenario: ${why}\n`]);
    }
    expect(readdirSync(dir)).not.toContain('bad');
  });

  it('a file that changed after the scenario was validated is refused when the network runs', () => {
    const f = join(dir, 'changing.json');
    copyFileSync(join(REF, 'rayleigh-k10-snr0.json'), f);
    const sc = loadScenario(scenario('{ file: changing.json }'));
    copyFileSync(join(REF, 'rayleigh-k10-snr10.json'), f);
    expect(() => drawInstances(sc.networks[0], 0)).toThrow(new UsageError(`network changing: ${f} changed since the scenario was validated (sha256 ${sha(f)}, was ${sha(join(REF, 'rayleigh-k10-snr0.json'))})`));
  });
});
