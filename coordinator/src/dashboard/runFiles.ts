/**
 * Finished (or running) runs, read from their directories for the dashboard: the list, one run's
 * summary and what it ran, and the view of one instance (the same shape as the live one) from
 * rounds.jsonl, summary.json and, where the run wrote them, layouts.jsonl, agents.jsonl and
 * wmmse.jsonl.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { z } from 'zod';
import { MAX_MODULE_ROUNDS } from '@dmpemu/dmp';
import type { RunSummary, NetworkSummary } from '../results/summary.ts';
import { forEachJsonLine, isIndex, isNumberList } from '../report/jsonLines.ts';
import type { AgentState, Layout } from '../report/networkLayout.ts';
import { MAX_AGENTS } from '@dmpemu/wireless';
import { MAX_INSTANCES } from '../scenario/limits.ts';
import { formatIssues } from '../scenario/zodIssues.ts';
import { emptySeries, type LogEntry, type RunInfo, type Series, type View } from './view.ts';

export const RUN_ID = /^[A-Za-z0-9._-]+$/;

/** The most rounds a job runs: a line of rounds.jsonl claiming a later one is skipped (t = 1e8 made a sparse array that JSON.stringify crashed on). */
const MAX_JOB_ROUNDS = MAX_MODULE_ROUNDS;

/**
 * The parts of summary.json the dashboard reads (the server, and the page's comparison): a file
 * that parses but has another shape makes that run unreadable, not the list of runs.
 */
const series = z.array(z.number().nullable()).max(MAX_JOB_ROUNDS);
const networkShape = z.looseObject({
  network: z.string(),
  model: z.string(),
  K: z.number(),
  instances: z.number().int().min(0).max(MAX_INSTANCES),
  wmmseHistory: series, // [] for cell-free; the page's comparison reads it
  algorithms: z.array(
    z.looseObject({
      algorithm: z.string(),
      kind: z.string(),
      rates: z.array(z.number().nullable()).max(MAX_INSTANCES),
      normalised: z.number().nullable().optional(),
      history: series.optional(),
      deaths: z.array(z.looseObject({ instance: z.number(), round: z.number(), k: z.number(), cause: z.string() })).optional(),
      events: z.array(z.looseObject({ instance: z.number(), event: z.string(), round: z.number(), agent: z.number().optional(), detail: z.string().optional() })).optional(),
    }),
  ),
});
const summaryShape = z.looseObject({
  runId: z.string(),
  scenario: z.string(),
  status: z.string(),
  reason: z.string().optional(),
  startedAt: z.string().optional(),
  seconds: z.number().optional(),
  networks: z.array(networkShape).optional(),
  sweep: z.looseObject({ key: z.string(), points: z.array(z.looseObject({ value: z.number(), networks: z.array(networkShape) })) }).optional(),
}).refine((s) => s.networks !== undefined || s.sweep !== undefined, { message: 'expected networks or sweep' });

/**
 * `name` in the run directory `dir`, when it is a regular file whose real path is under `root`
 * (a symlink out of the runs directory is not served; a FIFO would block the reading thread).
 */
function runFile(root: string, dir: string, name: string): string | undefined {
  const f = join(dir, name);
  try {
    return statSync(f).isFile() && realpathSync(f).startsWith(realpathSync(root) + sep) ? f : undefined;
  } catch {
    return undefined;
  }
}

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

/** summary.json: null while there is none or it is being written (does not parse); `{ problem }` when it parses but has another shape. */
function readSummary(root: string, dir: string): RunSummary | null | { problem: string } {
  const f = runFile(root, dir, 'summary.json');
  if (!f) return null;
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(f, 'utf8'));
  } catch {
    return null; // being written
  }
  const r = summaryShape.safeParse(data);
  return r.success ? (data as RunSummary) : { problem: `summary.json: ${formatIssues(r.error)}` };
}

const isProblem = (s: RunSummary | null | { problem: string }): s is { problem: string } => s !== null && 'problem' in s;

const networksOf = (s: RunSummary): NetworkSummary[] => (s.sweep ? s.sweep.points.flatMap((p) => p.networks) : s.networks);

export function listRuns(root: string): RunListing[] {
  let ids: string[];
  try {
    ids = readdirSync(root);
  } catch {
    return [];
  }
  const out: (RunListing & { mtime: number })[] = [];
  for (const id of ids) {
    const dir = runDir(root, id);
    if (!dir) continue;
    const read = readSummary(root, dir);
    const s = isProblem(read) ? null : read;
    out.push({
      id,
      scenario: s?.scenario,
      status: isProblem(read) ? `unreadable ${read.problem}` : (s?.status ?? 'running'),
      startedAt: s?.startedAt,
      seconds: s?.seconds,
      networks: s ? [...new Set(networksOf(s).map((n) => n.network))] : [],
      sweep: s?.sweep?.key,
      report: runFile(root, dir, 'report.html') !== undefined,
      mtime: statSync(join(dir, 'rounds.jsonl')).mtimeMs,
    });
  }
  return out.sort((a, b) => b.mtime - a.mtime).map(({ mtime: _m, ...r }) => r);
}

/** The run's directory, when `id` names one under `root` (it holds rounds.jsonl). */
export function runDir(root: string, id: string): string | undefined {
  const dir = join(root, id);
  return RUN_ID.test(id) && runFile(root, dir, 'rounds.jsonl') ? dir : undefined;
}

/** The run's report.html, when it has one (a regular file under `root`). */
export function runReport(root: string, id: string): string | undefined {
  const dir = runDir(root, id);
  return dir && runFile(root, dir, 'report.html');
}

export async function runIndex(root: string, id: string): Promise<RunIndex | undefined> {
  const dir = runDir(root, id);
  if (!dir) return undefined;
  const read = readSummary(root, dir);
  const summary = isProblem(read) ? null : read;
  if (summary) {
    const networks = summary.sweep
      ? summary.sweep.points.flatMap((p, point) => p.networks.map((n) => ({ point, sweepValue: p.value, network: n.network, model: n.model, K: n.K, instances: n.instances })))
      : summary.networks.map((n) => ({ network: n.network, model: n.model, K: n.K, instances: n.instances }));
    return { id, summary, networks };
  }
  // still running (no summary yet), or a summary of another shape: what rounds.jsonl has
  const seen = new Map<string, RunIndex['networks'][number]>();
  await forEachJsonLine(join(dir, 'rounds.jsonl'), (l) => {
    if (typeof l.network !== 'string' || !isIndex(l.instance, MAX_INSTANCES - 1)) return;
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
  const file = (name: string): string | undefined => runFile(root, dir, name);
  const sweepValue = entry.sweepValue;
  const series: Record<string, Series> = {};
  await forEachJsonLine(file('rounds.jsonl'), (l) => {
    if (l.network !== network || l.instance !== instance || (sweepValue !== undefined ? l.sweep !== sweepValue : l.sweep !== undefined)) return;
    if (!isIndex(l.round, MAX_JOB_ROUNDS)) return;
    const s = (series[String(l.algorithm)] ??= emptySeries());
    const t = l.round;
    s.objective[t] = Number(l.objective);
    s.normalised[t] = typeof l.normalised === 'number' ? l.normalised : null;
    s.messages[t] = Number(l.messages);
    s.bytes[t] = Number(l.bytes);
    s.latencyMs[t] = Number(l.latencyMs);
    s.timedOut[t] = Number(l.timedOut);
    s.missing[t] = Number(l.missing);
  });
  let layout: Layout | undefined;
  await forEachJsonLine(file('layouts.jsonl'), (l) => {
    if (!sameWhere(l, point, sweepValue, network, instance) || !isIndex(l.K, MAX_AGENTS) || ![l.tx, l.rx].every((x) => x === undefined || isNumberList(x, 2 * MAX_AGENTS))) return;
    layout = { K: l.K, tx: l.tx as number[] | undefined, rx: l.rx as number[] | undefined, edges: String(l.edges), links: Number(l.links), ...(typeof l.M === 'number' ? { M: l.M } : {}) };
  });
  const agents: View['agents'] = {};
  await forEachJsonLine(file('agents.jsonl'), (l) => {
    if (!sameWhere(l, point, sweepValue, network, instance) || ![l.power, l.dead, l.timedOut].every((x) => x === undefined || isNumberList(x, MAX_AGENTS)) || !(l.missing === undefined || (Array.isArray(l.missing) && l.missing.length <= MAX_AGENTS))) return;
    agents[String(l.algorithm)] = { t: Number(l.t), power: l.power, dead: l.dead, timedOut: l.timedOut, missing: l.missing } as AgentState & { t: number };
  });
  let wmmse: (number | null)[] | undefined;
  await forEachJsonLine(file('wmmse.jsonl'), (l) => {
    if (sameWhere(l, point, sweepValue, network, instance) && isNumberList(l.curve, MAX_JOB_ROUNDS + 1)) wmmse = l.curve;
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
