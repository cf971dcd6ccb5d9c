import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '@dmpemu/dmp';
import { MODELS_DIR } from '../coordinator/src/scenario/checkpoints.ts';

const run = promisify(execFile);
const SCRIPT = new URL('../examples/pytorch/weights-to-checkpoint.ts', import.meta.url).pathname;
const convert = (from: string, to: string) =>
  run(process.execPath, ['--import', 'tsx', SCRIPT, from, to], { cwd: new URL('..', import.meta.url).pathname }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
  );

describe('examples/pytorch/weights-to-checkpoint.ts (the way in for PyTorch-trained weights)', () => {
  it('converts a weights file to the same checkpoint; a value that is not a JSON number is refused naming it (null, what JSON.stringify writes for NaN, became 0)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-w2c-'));
    // the weights file of a shipped checkpoint, in the layout the PyTorch scripts write
    const c = loadCheckpoint(join(MODELS_DIR, 'wcgcn-rayleigh-k10-snr0.json'));
    const file = { architecture: c.architecture, weights: Object.fromEntries(Object.entries(c.weights).map(([n, w]) => [n, { shape: w.shape, data: Array.from(w.data) }])), training: c.training, metrics: c.metrics };
    const good = join(dir, 'weights.json');
    writeFileSync(good, JSON.stringify(file));
    const ok = await convert(good, join(dir, 'out.json'));
    expect(ok.code, ok.stderr).toBe(0);
    expect(loadCheckpoint(join(dir, 'out.json')).hash).toBe(c.hash);
    const cases: [string, (f: typeof file) => void, string][] = [
      ['null.json', (f) => (f.weights['mlp1.0.bias'].data[3] = null as never), 'weights.mlp1.0.bias.data[3] must be a number, got null'],
      ['string.json', (f) => (f.weights['mlp1.0.bias'].data[3] = '1.5' as never), 'weights.mlp1.0.bias.data[3] must be a number, got "1.5"'],
      ['short.json', (f) => f.weights['mlp1.0.kernel'].data.pop(), 'weights.mlp1.0.kernel.data must list 160 numbers (shape [5,32])'],
      ['huge.json', (f) => (f.weights['mlp1.0.kernel'].shape = [100000, 100000]), 'weights.mlp1.0.kernel.data must list 10000000000 numbers (shape [100000,100000])'],
      ['layers.json', (f) => ((f.architecture as { layers: number }).layers = 0), 'architecture.layers must be an integer from 1 to 10000 (one round each), got 0'],
      ['transposed.json', (f) => (f.weights['mlp1.0.kernel'].shape = [32, 5]), 'wcgcn checkpoint: weight mlp1.0.kernel has shape [32,5] with 160 values, expected [5,32]'],
    ];
    for (const [name, edit, why] of cases) {
      const f = structuredClone(file);
      edit(f);
      writeFileSync(join(dir, name), JSON.stringify(f));
      const r = await convert(join(dir, name), join(dir, `${name}.out`));
      expect([r.code, r.stderr]).toEqual([2, `weights-to-checkpoint: ${join(dir, name)}: ${why}\n`]);
      expect(existsSync(join(dir, `${name}.out`))).toBe(false);
    }
    writeFileSync(join(dir, 'nan.json'), readFileSync(good, 'utf8').replace(/"data":\[/, '"data":[NaN,'));
    expect((await convert(join(dir, 'nan.json'), join(dir, 'nan.out'))).stderr).toMatch(/: cannot read it as JSON \(.*; NaN and Infinity are not JSON: did the training diverge\?\)\n$/);
  });
});
