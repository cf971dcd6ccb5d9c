import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { loadCheckpoint, runCellFreeInProcess } from '@dmpemu/dmp';
import { cellFreeInstance, cellFreeMinRate, cellFreeOptimal, Rng } from '@dmpemu/wireless';
import { parseScenario } from '../coordinator/src/scenario/scenario.ts';
import { runScenario } from '../coordinator/src/commands/run.ts';
import { drawCellFree } from '../coordinator/src/commands/runCellFree.ts';
import type { RunEvent } from '../coordinator/src/run/observer.ts';
import { cellFreeCheckpoints } from './cellFreeCheckpoints.ts';

const dir = mkdtempSync(join(tmpdir(), 'dmpemu-cf-scenario-'));
const { CF, HET, MLP } = cellFreeCheckpoints(dir);
const network = { name: 'm8-k4', model: 'cell-free', M: 8, K: 4, instances: 3 };

describe('cell-free networks in scenarios: AP and user agents, normalised by the optimal algorithm', () => {
  it.each([
    [{ algorithms: ['wmmse'] }, 'algorithms[0].name: wmmse does not run on cell-free networks (they run cf-pcgnn, hetgnn, max-power, optimal, cf-mlp)'],
    [{ networks: [{ model: 'cell-free', K: 4 }] }, 'networks[0].M: a cell-free network needs M, its number of access points (K is its users)'],
    [{ networks: [{ model: 'cell-free', M: 8, K: 4, field: 500 }] }, 'networks[0].field: not a parameter of model cell-free (it takes M, tau)'],
    [{ networks: [network, { model: 'd2d', K: 5 }] }, 'networks[1].model: a scenario has cell-free networks or pair networks, not both (networks[0] is cell-free): put them in two scenarios'],
    [{ normaliseBy: 'wmmse-100' }, 'normaliseBy: cell-free networks are normalised by the optimal max-min algorithm: use optimal (the default), not wmmse-100'],
    [{ faults: { messageLoss: { probability: 0.1 } } }, 'faults.messageLoss: faults are not applied to cell-free networks yet: remove the fault plan'],
    [{ runtime: { clock: 'async' } }, 'runtime.clock: cell-free networks run with the barrier or local clock, not async'],
    [{ algorithms: [{ name: 'cf-pcgnn' }] }, 'algorithms[0].checkpoint: a learned algorithm needs a checkpoint (name or path)'],
    [{ networks: [{ model: 'd2d', K: 5 }], algorithms: ['max-power'] }, 'algorithms[0].name: max-power runs on cell-free networks (model cell-free), and this scenario has none'],
    [{ networks: [{ model: 'd2d', K: 5 }], normaliseBy: 'optimal' }, 'normaliseBy: optimal is the max-min optimum of cell-free networks: use wmmse-100 or best-fplinq'],
  ])('refuses %j before anything starts', (change, message) => {
    const data = { name: 'cf', networks: [network], algorithms: ['optimal'], runtime: { kind: 'inprocess' }, outputs: { dir }, ...change };
    expect(() => parseScenario(data, 'cf.yaml')).toThrow(message);
  });

  it('refuses checkpoints that cannot run on the network: another kind, an MLP of another size', () => {
    const base = { name: 'cf', networks: [network], runtime: { kind: 'inprocess' }, outputs: { dir } };
    expect(() => parseScenario({ ...base, algorithms: [{ name: 'hetgnn', checkpoint: CF }] }, 'cf.yaml')).toThrow(`algorithms[0].checkpoint ${CF}: holds a cf-pcgnn model, not hetgnn`);
    expect(() => parseScenario({ ...base, networks: [{ ...network, K: 5 }], algorithms: [{ name: 'cf-mlp', checkpoint: MLP }] }, 'cf.yaml')).toThrow(
      'cf.yaml: algorithms[0] (mlp) on network m8-k4: the cf-mlp checkpoint is for M = 8 APs and K = 4 users, the network has M = 8, K = 5 (an MLP runs on networks of its own size only)',
    );
  });

  it('dmpemu run: the GNNs decentralised over NATS (M + K agents) give the in-process minimum rates exactly; the centralized ones theirs; optimal is 100%', async () => {
    const out = mkdtempSync(join(tmpdir(), 'dmpemu-cf-run-'));
    const sc = parseScenario(
      {
        name: 'cf-run',
        seed: 9,
        networks: [network],
        algorithms: [{ name: 'cf-pcgnn', checkpoint: CF, label: 'cf' }, { name: 'hetgnn', checkpoint: HET, label: 'het' }, { name: 'cf-mlp', checkpoint: MLP, label: 'mlp' }, 'max-power', 'optimal'],
        runtime: { kind: 'nats', agentsPerProcess: 5, clock: 'local' },
        outputs: { dir: out },
      },
      'cf-run.yaml',
    );
    const events: RunEvent[] = [];
    const { dir: runDir, summary } = await runScenario(sc, { nats: inject('natsUrl'), observer: (e) => events.push(e) });
    expect(summary.normaliseBy).toBe('optimal');
    const net = summary.networks[0];
    expect(net).toMatchObject({ network: 'm8-k4', model: 'cell-free', M: 8, K: 4, instances: 3, wmmseHistory: [] });
    expect(net.wmmse100).toBeUndefined();
    const insts = drawCellFree(sc.networks[0], 9);
    expect(insts[0]).toEqual(cellFreeInstance(Rng.derive(9, 'm8-k4/0'), { M: 8, K: 4 }));
    const optimal = insts.map((i) => cellFreeMinRate(i, cellFreeOptimal(i).p));
    expect(net.normaliser).toBe(optimal.reduce((s, x) => s + x, 0) / 3);
    const by = (label: string) => net.algorithms.find((a) => a.algorithm === label)!;
    for (const [label, path, kind] of [['cf', CF, 'cf-pcgnn'], ['het', HET, 'hetgnn']] as const) {
      const inProcess = insts.map((i) => runCellFreeInProcess(i, { name: kind, checkpoint: loadCheckpoint(path) }));
      expect(by(label)).toMatchObject({ kind: 'dmp', runtime: 'nats', rounds: kind === 'cf-pcgnn' ? 2 : 3 });
      expect(by(label).rates).toEqual(inProcess.map((r, n) => cellFreeMinRate(insts[n], r.p)));
      expect(by(label).malformed).toBe(0);
      expect(by(label).messagesPerRound).toBeGreaterThan(0);
    }
    expect(by('max-power').rates).toEqual(insts.map((i) => cellFreeMinRate(i, new Float64Array(4).fill(1))));
    expect(by('optimal').normalised).toBe(1);
    expect(by('mlp').kind).toBe('centralized');
    // every DMP round of every job in rounds.jsonl, normalised by its instance's optimum
    const rounds = readFileSync(join(runDir, 'rounds.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rounds).toHaveLength(3 * 2 + 3 * 3);
    const last = rounds.filter((r) => r.algorithm === 'cf' && r.round === 1);
    expect(last.map((r) => r.normalised)).toEqual(by('cf').rates.map((r, n) => r / optimal[n]));
    // the job events count the M + K agents
    expect(events.filter((e) => e.type === 'job').map((e) => (e as { K: number }).K)).toEqual(new Array(15).fill(12));
    const md = readFileSync(join(runDir, 'summary.md'), 'utf8');
    expect(md).toContain('Model cell-free, M = 8, K = 4, 3 instance(s); optimal = ');
    expect(md).toContain('| algorithm | runtime | rounds / iterations | mean min rate (bit/s/Hz) ± 95% | vs optimal |');
    expect(md).not.toContain('Rounds against iterations');
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    expect(html).toContain('M = 8 APs, K = 4 users');
    expect(html).toContain('Rates are minimum user rates (cell-free max-min power control)');
    expect(html).not.toContain('WMMSE (centralized)');
  });

  it('the same scenario in process gives the same results', async () => {
    const runs = await Promise.all(
      (['inprocess', 'nats'] as const).map((kind) =>
        runScenario(parseScenario({ name: `cf-${kind}`, seed: 4, networks: [{ ...network, instances: 2 }], algorithms: [{ name: 'cf-pcgnn', checkpoint: CF }], runtime: { kind }, outputs: { dir: mkdtempSync(join(tmpdir(), 'dmpemu-cf-')) } }, 'cf.yaml'), { nats: inject('natsUrl') }),
      ),
    );
    const [a, b] = runs.map((r) => r.summary.networks[0].algorithms[0]);
    expect(a.runtime).toBe('inprocess');
    expect(b.runtime).toBe('nats');
    expect(a.rates).toEqual(b.rates);
    expect(a.history).toEqual(b.history);
  });
});
