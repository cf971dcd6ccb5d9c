import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../coordinator/src/results/summary.ts';

const run = promisify(execFile);
const CLI = new URL('../bin/dmpemu.js', import.meta.url).pathname;

describe('the main job (npm start)', () => {
  it('runs the shipped WCGCN and WMMSE decentralised over NATS, prints rounds against iterations with the GNN\'s last round, and draws rounds-d2d-k50.svg', async () => {
    const out = mkdtempSync(join(tmpdir(), 'dmpemu-quickstart-'));
    const { stdout } = await run(process.execPath, [CLI, 'run', 'scenarios/quickstart.yaml', '--out', out]);
    const [dir] = readdirSync(out);
    const s: RunSummary = JSON.parse(readFileSync(join(out, dir, 'summary.json'), 'utf8'));
    expect(s.status).toBe('completed');
    const [net] = s.networks;
    const by = (name: string) => net.algorithms.find((a) => a.algorithm === name)!;
    const gnn = by('wcgcn-d2d-k50'), wmmse = by('wmmse-dmp-50');
    expect([gnn.runtime, gnn.rounds, wmmse.runtime, wmmse.rounds]).toEqual(['nats', 3, 'nats', 100]);
    // the headline: after its 3 rounds the GNN is ahead of 100 rounds of decentralised WMMSE and of centralized WMMSE-10
    expect(gnn.normalised).toBeGreaterThan(wmmse.normalised);
    expect(gnn.overtakes!.wmmse10).toBe(3);
    expect(wmmse.overtakes!.wmmse10).toBeGreaterThan(3);
    // the GNN's own last round is a row of the rounds-against-iterations tables (console and summary.md)
    const g3 = `${gnn.history![2].toFixed(4)} (${(100 * gnn.normalised).toFixed(1)}%)`;
    expect(stdout).toMatch(new RegExp(`│ 3 +│ ${g3.replace(/[().]/g, '\\$&')} +│`));
    expect(readFileSync(join(out, dir, 'summary.md'), 'utf8')).toContain(`| 3 | ${g3} | ${wmmse.history![2].toFixed(4)}`);
    expect(readFileSync(join(out, dir, 'rounds-d2d-k50.svg'), 'utf8')).toMatch(/^<svg[\s\S]*message rounds[\s\S]*beats WMMSE-10, -30[\s\S]*<\/svg>$/);
  }, 120_000);
});
