import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Table from 'cli-table3';
import { churnPerInstance, type NetworkSummary, type RunSummary, type Spread } from '../results/summary.ts';
import { NORMALISER_LABELS, type Normaliser } from '../scenario/algorithmNames.ts';
import { networkSizePoints, networkSizeSpec, renderSvg, sweepSpec, trainingSetPoints, trainingSetSpec } from './reportPlots.ts';

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
/** ` ± h`: the half-width of a 95% interval of the mean over instances (nothing for one instance). */
const halfWidth = (s: Spread | undefined): string => (s?.ci95 ? ` ± ${((s.ci95[1] - s.ci95[0]) / 2).toFixed(4)}` : '');

/** Round counts at which the rounds-vs-iterations table samples the histories. */
export function roundMarks(maxRounds: number): number[] {
  return [2, 4, 6, 10, 20, 40, 60, 100, 200, 400].filter((r) => r <= maxRounds).concat(maxRounds).filter((r, i, a) => a.indexOf(r) === i);
}

function rows(net: NetworkSummary): string[][] {
  return net.algorithms.map((a) => [
    a.algorithm,
    a.runtime,
    a.rounds !== undefined ? `${a.rounds} rounds` : a.iterations !== undefined ? `${a.iterations} it.` : '-',
    a.meanRate.toFixed(4) + halfWidth(a.spread?.rate),
    pct(a.normalised),
    a.spread ? `${pct(a.spread.normalised.mean)}${a.spread.normalised.ci95 ? ` [${a.spread.normalised.ci95.map((x) => (100 * x).toFixed(1)).join(', ')}]` : ''}` : '-',
    a.meanRoundLatencyMs !== undefined ? a.meanRoundLatencyMs.toFixed(2) : '-',
    a.messagesPerRound !== undefined ? a.messagesPerRound.toFixed(0) : '-',
    a.bitsPerAgent !== undefined ? `${a.bitsPerAgentPerRound!.toFixed(0)} / ${a.bitsPerAgent.toFixed(0)}` : '-',
    a.deaths?.length ? a.deaths.map((d) => `agent ${d.k} (instance ${d.instance}, round ${d.round})`).join('; ') : '-',
  ]);
}

/** The columns of a network's table; the ratio is "vs WMMSE-100" or "vs Best FPLinQ" (the run's normaliseBy). */
function head(by: Normaliser): string[] {
  return ['algorithm', 'runtime', 'rounds / iterations', `mean ${by === 'optimal' ? 'min rate' : 'WSR'} (bit/s/Hz) ± 95%`, `vs ${NORMALISER_LABELS[by]}`, 'per instance [95% CI]', 'ms / round', 'msgs / round', 'bits sent / agent: per round / in all', 'deaths'];
}

/** What a summary's normaliser is, for its prose. */
const NORMALISER_TEXT: Record<Normaliser, string> = {
  'wmmse-100': 'centralized WMMSE from p = Pmax with 100 iterations',
  'best-fplinq': 'Best FPLinQ (centralized FPLinQ with 100 iterations from p = Pmax and from 100 random starts, the best run per instance)',
  optimal: 'the optimal max-min power control (centralized bisection on the common SINR)',
};

/** The network's normaliser, named: `WMMSE-100 = 1.2345` (and WMMSE-100 beside Best FPLinQ). */
function normaliserLine(net: NetworkSummary, by: Normaliser): string {
  if (by === 'optimal') return `optimal = ${net.normaliser.toFixed(4)}`;
  return by === 'wmmse-100' ? `WMMSE-100 = ${net.wmmse100!.toFixed(4)}` : `Best FPLinQ = ${net.normaliser.toFixed(4)}, WMMSE-100 = ${net.wmmse100!.toFixed(4)}`;
}

/** A network's size in headings: K pairs, or (cell-free) M APs and K users. */
function sizeOf(net: NetworkSummary, sep = '='): string {
  return net.M === undefined ? `K${sep}${net.K}` : `M${sep}${net.M}, K${sep}${net.K}`;
}

/** Per DMP algorithm: objective after R rounds, next to centralized WMMSE after R/2 iterations. */
function roundsVsIterations(net: NetworkSummary): { head: string[]; body: string[][] } | undefined {
  const dmp = net.algorithms.filter((a) => a.history);
  if (dmp.length === 0 || net.wmmseHistory.length === 0) return undefined; // cell-free: no WMMSE beside it
  const maxRounds = Math.max(...dmp.map((a) => a.history!.length));
  // every algorithm's own last round too (a 3-round GNN beside a 100-round WMMSE)
  const marks = [...new Set([...roundMarks(maxRounds), ...dmp.map((a) => a.history!.length)])].sort((a, b) => a - b);
  const head = ['rounds R', ...dmp.map((a) => `${a.algorithm} (${a.runtime})`), 'WMMSE after R/2 it. (centralized)'];
  const body = marks.map((R) => [
    String(R),
    ...dmp.map((a) => (R <= a.history!.length ? `${a.history![R - 1].toFixed(4)} (${pct(a.history![R - 1] / net.normaliser)})` : '-')),
    net.wmmseHistory[Math.floor(R / 2)] === null || Number.isNaN(net.wmmseHistory[Math.floor(R / 2)]) ? '-' : `${net.wmmseHistory[Math.floor(R / 2)].toFixed(4)} (${pct(net.wmmseHistory[Math.floor(R / 2)] / net.normaliser)})`,
  ]);
  return { head, body };
}

export function formatSummaryTable(s: RunSummary): string {
  const parts: string[] = [];
  for (const r of sweepRows(s)) {
    const t = new Table({ head: r.head, style: { head: [], border: [] } });
    t.push(...r.body);
    parts.push(`${r.network}: objective / ${NORMALISER_LABELS[s.normaliseBy]} against ${s.sweep!.key}\n${t.toString()}`);
  }
  for (const net of s.networks) {
    const t = new Table({ head: head(s.normaliseBy), style: { head: [], border: [] } });
    t.push(...rows(net));
    parts.push(`${net.network} (${net.model}, ${sizeOf(net)}, ${net.instances} instance(s); ${normaliserLine(net, s.normaliseBy)})\n${t.toString()}`);
    const rv = roundsVsIterations(net);
    if (rv && !s.sweep) {
      const r = new Table({ head: rv.head, style: { head: [], border: [] } });
      r.push(...rv.body);
      parts.push(`${net.network}: objective after R message rounds (decentralised) and centralized WMMSE after R/2 iterations; in brackets, vs ${NORMALISER_LABELS[s.normaliseBy]}\n${r.toString()}`);
    }
  }
  return parts.join('\n\n') + `\n\nrun ${s.runId}: ${s.status}${s.reason ? ` (${s.reason})` : ''} in ${s.seconds?.toFixed(1)} s`;
}

/** Text from outside (a label from a file name, a failure's reason) as Markdown prose: no HTML, one line. */
const mdText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\s*\n\s*/g, ' ');
/** ... and as a table cell: a `|` would start another column. */
const mdCell = (s: string): string => mdText(s).replace(/\|/g, '\\|');

function mdTable(head: string[], body: string[][]): string {
  const row = (cells: string[]): string => `| ${cells.map(mdCell).join(' | ')} |`;
  return [row(head), `|${head.map(() => '---').join('|')}|`, ...body.map(row)].join('\n');
}

/** Normalised means with their intervals, a row per number (ascending) and a column per name. */
function pivotTable(rowTitle: string, points: { row: number; column: string; mean: number; lo: number; hi: number }[]): string {
  const columns = [...new Set(points.map((p) => p.column))];
  const rows = [...new Set(points.map((p) => p.row))].sort((a, b) => a - b);
  const cell = (r: number, c: string): string => {
    const p = points.find((q) => q.row === r && q.column === c);
    return p ? `${pct(p.mean)} [${pct(p.lo)}, ${pct(p.hi)}]` : '';
  };
  return mdTable([rowTitle, ...columns], rows.map((r) => [String(r), ...columns.map((c) => cell(r, c))]));
}

export function formatSummaryMarkdown(s: RunSummary): string {
  const out = [`# Run ${s.runId}`, '', `Scenario \`${s.scenario}\`: **${s.status}**${s.reason ? ` (${mdText(s.reason)})` : ''}; transport: ${s.transport ?? 'none (no decentralised algorithm)'}; ${s.seconds?.toFixed(1)} s.`, ''];
  if (Object.keys(s.faults).length) out.push(`Faults injected: \`${JSON.stringify(s.faults)}\`${s.sweep ? ` (swept: \`${s.sweep.key}\`)` : ''}.`, '');
  const label = NORMALISER_LABELS[s.normaliseBy];
  out.push(`Rates are ${s.normaliseBy === 'optimal' ? "minimum user rates (max-min power control, the cell-free objective)" : 'weighted sum rates'} in bit/s/Hz, averaged over instances (± the half-width of a 95% interval of the mean); "vs ${label}" divides the mean by the mean of ${NORMALISER_TEXT[s.normaliseBy]} on the same instances (global CSI); "per instance" is the mean of each instance's ratio to its own ${label}, with its 95% interval.`, '');
  // correlation 1 (the end of a sweep of it, say) is a channel that never moves
  const still = s.faults.channel?.correlation === 1 && !s.sweep?.keys.includes('faults.channel.correlation');
  if (still) out.push(`faults.channel has correlation 1: the channel stays round 0's, so results are those of a static channel.`, '');
  else if (s.faults.channel) out.push(`The channel varies (faults.channel): each decentralised result is on the channel of its last round and divided by WMMSE-100 on that channel; centralized algorithms run on round 0's.`, '');
  if (s.faults.churn) out.push(`Churn (faults.churn): centralized algorithms and the normaliser run on the network that remains at the end (agents that left for good weigh 0).`, '');
  if (s.sweep) {
    out.push(`## Sweep of \`${s.sweep.key}\``, '', `Objective normalised by ${label} (global CSI) on the same instances; plots in \`sweep-<network>.svg\`.`, '');
    for (const r of sweepRows(s)) out.push(`### ${r.network}`, '', mdTable(r.head, r.body), '', `![${r.network}](sweep-${r.network}.svg)`, '');
  }
  const sizes = networkSizePoints(s);
  if (sizes.length)
    out.push('## Against the network size', '', `Each architecture (learned algorithms by kind) and baseline that ran on networks of several sizes, against ${label}; \`sizes.svg\` plots it.`, '', pivotTable('K', sizes.map((p) => ({ row: p.K, column: p.series, ...p }))), '', '![sizes](sizes.svg)', '');
  for (const net of s.networks) {
    out.push(`## ${net.network}`, '', `Model ${net.model}, ${sizeOf(net, ' = ')}, ${net.instances} instance(s); ${normaliserLine(net, s.normaliseBy)}${net.churnedAgents === undefined ? '' : `; ${churnPerInstance(net)} agent(s) leaving per instance (churn)`}.`, '');
    out.push(mdTable(head(s.normaliseBy), rows(net)), '');
    const dmp = net.algorithms.filter((a) => a.overtakes);
    if (dmp.length)
      out.push(
        '### Rounds to beat centralized WMMSE',
        '',
        'The smallest number of message rounds after which each decentralised algorithm\'s mean objective exceeds centralized WMMSE (global CSI) after 10, 30 and 100 iterations ("never": not within its rounds).',
        '',
        mdTable(
          ['algorithm', 'rounds run', 'beats WMMSE-10 after', 'beats WMMSE-30 after', 'beats WMMSE-100 after'],
          dmp.map((a) => [a.algorithm, String(a.rounds), ...['wmmse10', 'wmmse30', 'wmmse100'].map((k) => (a.overtakes![k] === null ? 'never' : `${a.overtakes![k]} rounds`))]),
        ),
        '',
      );
    const ts = trainingSetPoints(net);
    if (ts.length)
      out.push('### Against the training set', '', `The same architecture trained on sets of different sizes (the checkpoints' trainingSetSize), against ${label}; \`samples-${net.network}.svg\` plots it.`, '', pivotTable('training samples', ts.map((p) => ({ row: p.samples, column: p.kind, ...p }))), '', `![${net.network}](samples-${net.network}.svg)`, '');
    const rv = roundsVsIterations(net);
    if (rv) out.push('### Rounds against iterations', '', `Objective after R message rounds of each decentralised algorithm, next to centralized WMMSE after R/2 iterations (one WMMSE iteration is two rounds); in brackets, against ${label}.`, '', mdTable(rv.head, rv.body), '');
  }
  return out.join('\n');
}

/** The normalised objective of every algorithm at every sweep value, per network. */
function sweepRows(s: RunSummary): { network: string; head: string[]; body: string[][] }[] {
  if (!s.sweep) return [];
  const first = s.sweep.points[0]?.networks ?? [];
  return first.map((net, i) => {
    // a swept key of an algorithm (its iterations) changes its label from point to point: the column names the first and the last
    const algs = net.algorithms.map((a, j) => {
      const labels = [...new Set(s.sweep!.points.map((p) => p.networks[i].algorithms[j].algorithm))];
      return labels.length === 1 ? labels[0] : `${labels[0]} … ${labels.at(-1)}`;
    });
    // churn: how many agents left, as a rate is rounded to whole agents (rates 0.01 and 0.1 of K = 6 both remove one)
    const churn = s.sweep!.points.some((p) => p.networks[i].churnedAgents !== undefined);
    const body = s.sweep!.points.map((p) => [p.label ?? String(p.value), ...(churn ? [churnPerInstance(p.networks[i])] : []), ...p.networks[i].algorithms.map((a) => pct(a.normalised))]);
    return { network: net.network, head: [s.sweep!.key, ...(churn ? ['agents leaving per instance'] : []), ...algs], body };
  });
}

/** One SVG per network with learned algorithms of one kind trained on sets of several sizes (`samples-<network>.svg`), and `sizes.svg` across networks of several K. */
export async function writeComparisonPlots(s: RunSummary, dir: string): Promise<string[]> {
  const files: string[] = [];
  const sizes = networkSizeSpec(s);
  if (sizes) {
    writeFileSync(join(dir, 'sizes.svg'), await renderSvg(sizes));
    files.push(join(dir, 'sizes.svg'));
  }
  for (const net of s.networks) {
    const spec = trainingSetSpec(net, s.normaliseBy);
    if (!spec) continue;
    const f = join(dir, `samples-${net.network}.svg`);
    writeFileSync(f, await renderSvg(spec));
    files.push(f);
  }
  return files;
}

/** One SVG per network, `sweep-<network>.svg`: the normalised objective per algorithm against the sweep, with 95% intervals (the plot of report.html). */
export async function writeSweepPlots(s: RunSummary, dir: string): Promise<string[]> {
  const files: string[] = [];
  for (let i = 0; i < (s.sweep?.points[0]?.networks.length ?? 0); i++) {
    const spec = sweepSpec(s, i);
    if (!spec) continue;
    const f = join(dir, `sweep-${s.sweep!.points[0].networks[i].network}.svg`);
    writeFileSync(f, await renderSvg(spec));
    files.push(f);
  }
  return files;
}
