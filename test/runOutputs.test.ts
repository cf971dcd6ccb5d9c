import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { parseScenario } from '../coordinator/src/scenario/scenario.ts';
import { runScenario } from '../coordinator/src/commands/run.ts';
import { formatSummaryMarkdown } from '../coordinator/src/report/report.ts';
import type { RunEvent } from '../coordinator/src/run/observer.ts';

const CLI = new URL('../bin/dmpemu.js', import.meta.url).pathname;

describe('run outputs', () => {
  it('an observer hears the run: its jobs with layouts, every round with per-agent powers, WMMSE curves, deaths and the end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-observe-'));
    const sc = parseScenario(
      {
        name: 'observe',
        networks: [{ model: 'd2d', K: 6, field: 300, csiRange: 200, instances: 2 }],
        algorithms: [{ name: 'wmmse-dmp', iterations: 3 }, 'fplinq'],
        runtime: { kind: 'nats', agentsPerProcess: 3 },
        faults: { crash: [{ agent: 4, round: 2 }] },
        outputs: { dir },
      },
      'observe.yaml',
    );
    const events: RunEvent[] = [];
    await runScenario(sc, { nats: inject('natsUrl'), observer: (e) => events.push(e) });
    const of = <T extends RunEvent['type']>(t: T) => events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === t);
    expect(events[0]).toMatchObject({ type: 'run', scenario: 'observe', jobs: 4, networks: [{ name: 'd2d-k6', model: 'd2d', K: 6, instances: 2 }] });
    expect(of('job').map((j) => [j.job, j.of, j.algorithm, j.instance, j.kind])).toEqual([
      [1, 4, 'wmmse-dmp-3', 0, 'dmp'],
      [2, 4, 'wmmse-dmp-3', 1, 'dmp'],
      [3, 4, 'fplinq-100', 0, 'centralized'],
      [4, 4, 'fplinq-100', 1, 'centralized'],
    ]);
    const job = of('job')[0];
    expect(job.tx).toHaveLength(12);
    expect(job.edges.length % 2).toBe(0);
    const rounds = of('round');
    expect(rounds).toHaveLength(2 * 6);
    expect(rounds[0].agents.power).toHaveLength(6);
    // the crash is each job's: agent 4 dies at round 2 of both (in the second it was dead from round 0, unrecorded)
    for (const j of [1, 2]) expect(rounds.filter((r) => r.job === j).map((r) => r.agents.dead.includes(4))).toEqual([false, false, true, true, true, true]);
    expect(of('death').map((d) => [d.job, d.death.k, d.death.round])).toEqual([[1, 4, 2], [2, 4, 2]]);
    expect(of('fault').map((f) => f.event.event)).toEqual(['crash', 'crash']);
    expect(of('wmmse').map((w) => [w.instance, w.curve.length])).toEqual([[0, 101], [1, 101]]);
    expect(of('result')).toHaveLength(2);
    expect(events.at(-1)).toMatchObject({ type: 'end', status: 'completed' });
  });

  it('SIGINT/SIGTERM end an in-process sweep: the abort is heard between jobs (nothing awaited a macrotask: the run went on to completed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-abort-'));
    const values = Array.from({ length: 1000 }, (_, i) => i / 1000);
    const sc = parseScenario({ name: 'abort', networks: [{ model: 'rayleigh-ic', K: 4 }], algorithms: [{ name: 'wmmse-dmp', iterations: 1 }], runtime: { kind: 'inprocess' }, sweep: { key: 'faults.messageLoss.probability', values }, outputs: { dir } }, 's.yaml');
    const abort = new AbortController();
    setTimeout(() => abort.abort('SIGTERM'), 300);
    await expect(runScenario(sc, { signal: abort.signal })).rejects.toThrow(/^run interrupted \(SIGTERM\)/);
    const [run] = readdirSync(dir);
    const summary = JSON.parse(readFileSync(join(dir, run, 'summary.json'), 'utf8'));
    expect(summary.status).toBe('failed');
    expect(summary.reason).toMatch(/^run interrupted \(SIGTERM\)/);
    const lines = readFileSync(join(dir, run, 'rounds.jsonl'), 'utf8').trim().split('\n').length;
    expect(lines).toBeLessThan(2 * values.length); // 2 rounds a point had all points run
  });

  it('a scenario named with a dot, or longer than a run id leaves room for, runs (its run id failed the subject check at the start)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-runid-'));
    for (const [name, base] of [['table.1', 'table-1'], ['a-scenario-name-of-forty-characters-long', 'a-scenario-name-of-forty-char']]) {
      const { summary } = await runScenario(parseScenario({ name, networks: [{ model: 'rayleigh-ic', K: 3 }], algorithms: ['wmmse', { name: 'wmmse-dmp', iterations: 2 }], runtime: { kind: 'inprocess' }, outputs: { dir } }, 's.yaml'));
      expect(summary.runId).toMatch(new RegExp(`^${base}-\\d{8}-\\d{6}-[0-9a-f]{4}$`));
      // a DMP ran, in process: summary.md said "transport: none (no decentralised algorithm)"
      expect(summary).toMatchObject({ scenario: name, status: 'completed', transport: 'none: in process (the reference executor)' });
    }
  });

  it('summary.md writes labels and a failure reason from outside as text: no HTML, no extra column, no heading (a label comes from a file name)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-md-'));
    const { summary } = await runScenario(parseScenario({ name: 'md', networks: [{ name: 'net', model: 'rayleigh-ic', K: 3 }], algorithms: ['wmmse'], runtime: { kind: 'inprocess' }, outputs: { dir } }, 's.yaml'));
    summary.networks[0].algorithms[0].algorithm = 'a|b<img src=x onerror=alert(1)>';
    summary.reason = 'boom <b>\n\n# Injected heading';
    const md = formatSummaryMarkdown(summary);
    expect(md).toContain('(boom &lt;b&gt; # Injected heading)');
    expect(md).not.toMatch(/^# Injected/m);
    const row = md.split('\n').find((l) => l.startsWith('| a\\|'))!;
    expect(row.startsWith('| a\\|b&lt;img src=x onerror=alert(1)&gt; | centralized |')).toBe(true);
    const header = md.split('\n').find((l) => l.startsWith('| algorithm |'))!;
    const columns = (l: string) => l.split(/(?<!\\)\|/).length;
    expect(columns(row)).toBe(columns(header));
  });

  it('a sweep tabulates and plots the normalised objective per algorithm against the swept value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-sweep-'));
    const sc = parseScenario(
      {
        name: 'sweep',
        seed: 4,
        networks: [{ model: 'd2d', K: 12, field: 400, csiRange: 300, instances: 2 }],
        algorithms: [{ name: 'wmmse-dmp', iterations: 10 }],
        runtime: { kind: 'inprocess' },
        faults: { missingCsi: { select: 'uniform', fraction: 0 } },
        sweep: { key: 'faults.missingCsi.fraction', values: [0, 0.5, 1] },
        outputs: { dir },
      },
      'sweep.yaml',
    );
    const { dir: runDir, summary } = await runScenario(sc);
    const points = summary.sweep!.points;
    expect(points.map((p) => p.value)).toEqual([0, 0.5, 1]);
    expect(points.map((p) => p.faults.missingCsi!.fraction)).toEqual([0, 0.5, 1]);
    const removed = points.map((p) => p.networks[0].removedEdges);
    expect(removed[0]).toBe(0);
    expect(removed[1]).toBeGreaterThan(0);
    expect(removed[2]).toBeGreaterThan(removed[1]);
    // with every edge gone each agent is alone: WMMSE then transmits at full power
    const full = points[2].networks[0];
    expect(full.algorithms[0].normalised).toBeCloseTo(full.wmmseHistory[0] / full.wmmse100!, 12);
    const svg = readFileSync(join(runDir, 'sweep-d2d-k12.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('wmmse-dmp-10');
    expect(readFileSync(join(runDir, 'summary.md'), 'utf8')).toContain('| faults.missingCsi.fraction | wmmse-dmp-10 |');
    const lines = readFileSync(join(runDir, 'rounds.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3 * 2 * 20);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ sweep: 1, instance: 1, round: 19 });
    // a swept key of an algorithm changes its label per point: the column was headed by the first point's alone
    const its = await runScenario(parseScenario({ ...sc, name: 'its', faults: {}, sweep: { key: 'algorithms[0].iterations', values: [1, 2, 3] } } as never, 'its.yaml'));
    expect(its.summary.sweep!.points.map((p) => p.networks[0].algorithms[0].algorithm)).toEqual(['wmmse-dmp-1', 'wmmse-dmp-2', 'wmmse-dmp-3']);
    expect(readFileSync(join(its.dir, 'summary.md'), 'utf8')).toContain('| algorithms[0].iterations | wmmse-dmp-1 … wmmse-dmp-3 |');
  });

  it('normaliseBy best-fplinq: summary.json names it, normalised divides by Best FPLinQ (the best-fplinq row is 100%), the tables say so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-norm-'));
    const sc = parseScenario(
      {
        name: 'norm',
        seed: 3,
        normaliseBy: 'best-fplinq',
        networks: [{ model: 'd2d', K: 10, field: 250, dmin: 10, dmax: 50, weighted: false, instances: 3 }],
        algorithms: [{ name: 'wmmse-dmp', iterations: 5 }, 'fplinq', 'best-fplinq'],
        runtime: { kind: 'inprocess' },
        outputs: { dir },
      },
      'norm.yaml',
    );
    const { dir: runDir } = await runScenario(sc);
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
    expect(summary.normaliseBy).toBe('best-fplinq');
    const net = summary.networks[0];
    const [dmp, fplinq, best] = net.algorithms;
    expect(best.algorithm).toBe('best-fplinq');
    expect(best.normalised).toBeCloseTo(1, 12);
    expect(net.normaliser).toBeCloseTo(best.meanRate, 12);
    expect(net.normaliser).toBeGreaterThanOrEqual(net.wmmse100 * (1 - 1e-12));
    expect(fplinq.normalised).toBeCloseTo(fplinq.meanRate / net.normaliser, 12);
    expect(fplinq.normalised).toBeLessThanOrEqual(1 + 1e-12);
    const lines = readFileSync(join(runDir, 'rounds.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    lines.forEach((l) => expect(l.normalised).toBeCloseTo(l.objective / best.rates[l.instance], 12));
    expect(dmp.normalised).toBeCloseTo(dmp.meanRate / net.normaliser, 12);
    const md = readFileSync(join(runDir, 'summary.md'), 'utf8');
    expect(md).toContain('| algorithm | runtime | rounds / iterations | mean WSR (bit/s/Hz) ± 95% | vs Best FPLinQ | per instance [95% CI] | ms / round | msgs / round | bits sent / agent: per round / in all |');
    expect(md).toContain(`Best FPLinQ = ${net.normaliser.toFixed(4)}, WMMSE-100 = ${net.wmmse100.toFixed(4)}`);
    expect(md).not.toContain('vs WMMSE-100');
    // the default stays WMMSE-100
    const plain = parseScenario({ ...sc, normaliseBy: undefined, sweep: undefined }, 'plain.yaml');
    expect(plain.normaliseBy).toBe('wmmse-100');
  });

  it('a coordinator killed by SIGKILL leaves a readable rounds.jsonl with every finished round', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-kill-'));
    const file = join(dir, 's.yaml');
    writeFileSync(file, ['name: kill', 'networks:', '  - { model: rayleigh-ic, K: 4, instances: 50 }', 'algorithms:', '  - { name: wmmse-dmp, iterations: 100 }', 'runtime: { agentsPerProcess: 4 }'].join('\n'));
    const child = spawn(process.execPath, [CLI, 'run', file, '--out', dir], { stdio: 'ignore', env: { ...process.env, NATS_URL: inject('natsUrl') } });
    const rounds = (): string | undefined => {
      const run = readdirSync(dir).find((d) => d.startsWith('kill-'));
      const f = run && join(dir, run, 'rounds.jsonl');
      return f && existsSync(f) ? f : undefined;
    };
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const f = rounds();
      if (f && readFileSync(f, 'utf8').split('\n').filter(Boolean).length > 50) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const lines = readFileSync(rounds()!, 'utf8').split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(50);
    // its agent processes notice their parent is gone and exit
    const runId = readdirSync(dir).find((d) => d.startsWith('kill-'))!;
    const agentsLeft = (): string[] => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(`--run ${runId}`));
    for (let i = 0; i < 60 && agentsLeft().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(agentsLeft()).toEqual([]);
    lines.forEach((l, i) => expect(JSON.parse(l)).toMatchObject({ instance: Math.floor(i / 200), round: i % 200 }));
  });
});
