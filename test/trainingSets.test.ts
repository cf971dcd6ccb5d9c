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
});
