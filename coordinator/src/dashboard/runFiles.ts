/**
 * Finished (or running) runs, read from their directories for the dashboard: the list, one run's
 * summary and what it ran, and the view of one instance (the same shape as the live one) from
 * rounds.jsonl, summary.json and, where the run wrote them, layouts.jsonl, agents.jsonl and
 * wmmse.jsonl.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunSummary, NetworkSummary } from '../results/summary.ts';
import { forEachJsonLine } from '../report/jsonLines.ts';
import type { AgentState, Layout } from '../report/networkLayout.ts';
import { emptySeries, type LogEntry, type RunInfo, type Series, type View } from './view.ts';

export const RUN_ID = /^[A-Za-z0-9._-]+$/;

export interface RunListing {
  id: string;
  scenario?: string;
  status: string;
  startedAt?: string;
  seconds?: number;
  networks: string[];
  sweep?: string;
  report: boolean;
}

/** What one run ran: a (sweep point, network) per entry, with its instances. */
export interface RunIndex {
  id: string;
  summary: RunSummary | null;
  networks: { point?: number; sweepValue?: number; network: string; model?: string; K?: number; instances: number }[];
}

function readSummary(dir: string): RunSummary | null {
  const f = join(dir, 'summary.json');
  if (!existsSync(f)) return null;
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as RunSummary;
  } catch {
    return null; // being written
  }
}

const networksOf = (s: RunSummary): NetworkSummary[] => (s.sweep ? s.sweep.points.flatMap((p) => p.networks) : s.networks);

export function listRuns(root: string): RunListing[] {
  if (!existsSync(root)) return [];
  const out: (RunListing & { mtime: number })[] = [];
  for (const id of readdirSync(root)) {
    const dir = join(root, id);
    if (!RUN_ID.test(id) || !existsSync(join(dir, 'rounds.jsonl'))) continue;
    const s = readSummary(dir);
    out.push({
      id,
      scenario: s?.scenario,
      status: s?.status ?? 'running',
      startedAt: s?.startedAt,
      seconds: s?.seconds,
      networks: s ? [...new Set(networksOf(s).map((n) => n.network))] : [],
      sweep: s?.sweep?.key,
      report: existsSync(join(dir, 'report.html')),
      mtime: statSync(join(dir, 'rounds.jsonl')).mtimeMs,
    });
  }
  return out.sort((a, b) => b.mtime - a.mtime).map(({ mtime: _m, ...r }) => r);
}

/** The run's directory, when `id` names one under `root`. */
export function runDir(root: string, id: string): string | undefined {
  const dir = join(root, id);
  return RUN_ID.test(id) && existsSync(join(dir, 'rounds.jsonl')) ? dir : undefined;
}

export async function runIndex(root: string, id: string): Promise<RunIndex | undefined> {
  const dir = runDir(root, id);
  if (!dir) return undefined;
  const summary = readSummary(dir);
  if (summary) {
    const networks = summary.sweep
      ? summary.sweep.points.flatMap((p, point) => p.networks.map((n) => ({ point, sweepValue: p.value, network: n.network, model: n.model, K: n.K, instances: n.instances })))
      : summary.networks.map((n) => ({ network: n.network, model: n.model, K: n.K, instances: n.instances }));
    return { id, summary, networks };
  }
  // still running (no summary yet): what rounds.jsonl has so far
  const seen = new Map<string, RunIndex['networks'][number]>();
  await forEachJsonLine(join(dir, 'rounds.jsonl'), (l) => {
    const key = `${l.sweep ?? ''}|${l.network}`;
    const e = seen.get(key) ?? { sweepValue: typeof l.sweep === 'number' ? l.sweep : undefined, network: String(l.network), instances: 0 };
    e.instances = Math.max(e.instances, Number(l.instance) + 1);
    seen.set(key, e);
  });
  return { id, summary: null, networks: [...seen.values()] };
}

const sameWhere = (l: Record<string, unknown>, point: number | undefined, sweepValue: number | undefined, network: string, instance: number): boolean =>
  l.network === network && l.instance === instance && (point === undefined ? l.point === undefined && l.sweep === undefined : l.point === point || (l.point === undefined && l.sweep === sweepValue));

/** The view of one instance of one network (at one sweep point) of a run, from its files. */
export async function runView(root: string, id: string, network: string, instance: number, point?: number): Promise<View | undefined> {
  const index = await runIndex(root, id);
  const entry = index?.networks.find((n) => n.network === network && n.point === point);
  if (!index || !entry) return undefined;
  const dir = join(root, id);
  const sweepValue = entry.sweepValue;
  const series: Record<string, Series> = {};
  await forEachJsonLine(join(dir, 'rounds.jsonl'), (l) => {
    if (l.network !== network || l.instance !== instance || (sweepValue !== undefined ? l.sweep !== sweepValue : l.sweep !== undefined)) return;
    const s = (series[String(l.algorithm)] ??= emptySeries());
    const t = Number(l.round);
    s.objective[t] = Number(l.objective);
    s.normalised[t] = typeof l.normalised === 'number' ? l.normalised : null;
    s.messages[t] = Number(l.messages);
    s.bytes[t] = Number(l.bytes);
    s.latencyMs[t] = Number(l.latencyMs);
    s.timedOut[t] = Number(l.timedOut);
    s.missing[t] = Number(l.missing);
  });
  let layout: Layout | undefined;
  await forEachJsonLine(join(dir, 'layouts.jsonl'), (l) => {
    if (sameWhere(l, point, sweepValue, network, instance)) layout = { K: Number(l.K), tx: l.tx as number[] | undefined, rx: l.rx as number[] | undefined, edges: String(l.edges), links: Number(l.links), ...(typeof l.M === 'number' ? { M: l.M } : {}) };
  });
  const agents: View['agents'] = {};
  await forEachJsonLine(join(dir, 'agents.jsonl'), (l) => {
    if (sameWhere(l, point, sweepValue, network, instance)) agents[String(l.algorithm)] = { t: Number(l.t), power: l.power, dead: l.dead, timedOut: l.timedOut, missing: l.missing } as AgentState & { t: number };
  });
  let wmmse: (number | null)[] | undefined;
  await forEachJsonLine(join(dir, 'wmmse.jsonl'), (l) => {
    if (sameWhere(l, point, sweepValue, network, instance)) wmmse = l.curve as (number | null)[];
  });
  const s = index.summary;
  const net = s ? (s.sweep ? s.sweep.points[point ?? 0]?.networks : s.networks).find((n) => n.network === network) : undefined;
  const results: Record<string, number> = {};
  const log: LogEntry[] = [];
  for (const a of net?.algorithms ?? []) {
    if (a.kind === 'centralized' && a.rates[instance] !== undefined) results[a.algorithm] = a.rates[instance];
    for (const d of a.deaths ?? []) if (d.instance === instance) log.push({ kind: 'death', algorithm: a.algorithm, instance, round: d.round, agent: d.k, text: `agent ${d.k} died at round ${d.round}: ${d.cause}` });
    for (const e of a.events ?? [])
      if (e.instance === instance) log.push({ kind: e.event, algorithm: a.algorithm, instance, round: e.round, agent: e.agent, text: `${e.event}${e.agent === undefined ? '' : ` of agent ${e.agent}`} at round ${e.round}${e.detail ? ` (${e.detail})` : ''}` });
  }
  const run: RunInfo | null = s
    ? { runId: s.runId, scenario: s.scenario, jobs: 0, sweep: s.sweep && { key: s.sweep.key, values: s.sweep.points.map((p) => p.value) }, networks: index.networks.filter((n) => n.point === undefined || n.point === 0).map((n) => ({ name: n.network, model: n.model ?? '', K: n.K ?? 0, instances: n.instances })), status: s.status, reason: s.reason, seconds: s.seconds }
    : null;
  return { run, progress: null, point, sweepValue, network, model: entry.model, instance, K: layout?.K ?? entry.K ?? 0, layout, wmmse, series, results, agents, log };
}
