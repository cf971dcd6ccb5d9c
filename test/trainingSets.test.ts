import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../coordinator/src/commands/run.ts';
import { parseScenario } from '../coordinator/src/scenario/scenario.ts';

describe('results against the training set (checkpoints of one kind trained on sets of different sizes)', () => {
  it('summary.json names each learned algorithm\'s kind and training set; summary.md tabulates and samples-<network>.svg plots the normalised objective against it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-samples-'));
    const sc = parseScenario(
      {
        name: 'samples',
        seed: 5,
        networks: [{ name: 'k10', model: 'rayleigh-ic', K: 10, snrDb: 10, instances: 3 }],
        algorithms: ['wmmse', { name: 'pcgnn', checkpoint: 'pcgnn-rayleigh-k10-snr10-n10' }, { name: 'pcgnn', checkpoint: 'pcgnn-rayleigh-k10-snr10-n40' }, { name: 'mlp', checkpoint: 'mlp-rayleigh-k10-snr10-n200' }],
        runtime: { kind: 'inprocess' },
        outputs: { dir },
      },
      's.yaml',
    );
    const { dir: run, summary } = await runScenario(sc);
    const algs = summary.networks[0].algorithms;
    expect(algs.map((a) => a.trained)).toEqual([undefined, { kind: 'pcgnn', trainingSetSize: 10 }, { kind: 'pcgnn', trainingSetSize: 40 }, { kind: 'mlp', trainingSetSize: 200 }]);
    const md = readFileSync(join(run, 'summary.md'), 'utf8');
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    // pcgnn has two sizes: a row each; the mlp has one size and no line of its own
    expect(md).toContain('| training samples | pcgnn |');
    expect(md).toContain(`| 10 | ${pct(algs[1].normalised)} [`);
    expect(md).toContain(`| 40 | ${pct(algs[2].normalised)} [`);
    expect(md).not.toContain('| 200 |');
    const svg = readFileSync(join(run, 'samples-k10.svg'), 'utf8');
    expect(svg).toContain('training samples');
    expect(svg).toContain('k10: objective / WMMSE-100 against the training set');
  });

  it('across networks of one model and several K: a table by K and sizes.svg, each series its kind or baseline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-sizes-'));
    const networks = [4, 6].map((K) => ({ name: `k${K}`, model: 'rayleigh-ic', K, snrDb: 10, instances: 3 }));
    // two PCGNN checkpoints on every network: that is the training-set comparison, not a line against K
    const pcgnns = [{ name: 'pcgnn', checkpoint: 'pcgnn-rayleigh-k10-snr10-n10' }, { name: 'pcgnn', checkpoint: 'pcgnn-rayleigh-k10-snr10-n40' }];
    const { dir: run, summary } = await runScenario(parseScenario({ name: 'sizes', seed: 2, networks, algorithms: ['fplinq', { name: 'wmmse', iterations: 5 }, ...pcgnns], runtime: { kind: 'inprocess' }, outputs: { dir } }, 's.yaml'));
    const md = readFileSync(join(run, 'summary.md'), 'utf8');
    expect(md).toContain('| K | fplinq-100 | wmmse-5 |\n');
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    const [a4, a6] = summary.networks.map((n) => n.algorithms[1]);
    expect(md).toContain('## Against the network size');
    expect(md).toContain(`| 4 | ${pct(summary.networks[0].algorithms[0].normalised)} [`);
    expect(md).toContain(`| 6 | ${pct(summary.networks[1].algorithms[0].normalised)} [`);
    expect(md).toContain(`${pct(a4.normalised)} [`);
    expect(md).toContain(`${pct(a6.normalised)} [`);
    expect(readFileSync(join(run, 'sizes.svg'), 'utf8')).toContain('against K');
  });
});
