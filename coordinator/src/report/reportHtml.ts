/**
 * report.html: one self-contained page per run (styles, plots as inline SVG and the summary as
 * inline JSON; nothing is fetched), readable from the file system.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { churnPerInstance, type NetworkSummary, type RunSummary } from '../results/summary.ts';
import { NORMALISER_LABELS, type Normaliser } from '../scenario/algorithmNames.ts';
import { bandKey, readRoundBands, type RoundBand } from './jsonLines.ts';
import { curveSpec, renderSvg, spreadSpec, sweepSpec } from './reportPlots.ts';

/** At most this many (sweep point, network) pairs get their own curve and spread plots. */
const MAX_NETWORK_SECTIONS = 12;

export const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '-');
const num = (x: number | undefined, d: number): string => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}.plots{display:flex;flex-wrap:wrap;gap:16px}.plot svg{max-width:100%;height:auto}
.meta{color:#555}code{background:#f4f4f4;padding:0 3px}`;

export function page(title: string, body: string[], data: unknown): string {
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style></head><body>\n${body.join('\n')}\n<script type="application/json" id="data">${json}</script>\n</body></html>\n`;
}

function table(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function algorithmRows(net: NetworkSummary): string[][] {
  return net.algorithms.map((a) => [
    a.algorithm,
    a.runtime,
    a.rounds !== undefined ? `${a.rounds} rounds` : a.iterations !== undefined ? `${a.iterations} it.` : '-',
    num(a.meanRate, 4),
    pct(a.normalised),
    num(a.meanRoundLatencyMs, 2),
    num(a.messagesPerRound, 0),
    num(a.bytesPerRound, 0),
    a.overtakes ? ['wmmse10', 'wmmse30', 'wmmse100'].map((k) => (a.overtakes![k] === null ? 'never' : String(a.overtakes![k]))).join(' / ') : '-',
    a.deaths?.length ? a.deaths.map((d) => `agent ${d.k} (instance ${d.instance}, round ${d.round})`).join('; ') : '-',
  ]);
}

/** The columns of a network's table: the ratio names the run's normaliser. */
function head(by: Normaliser): string[] {
  return ['algorithm', 'runtime', 'rounds / iterations', `mean ${by === 'optimal' ? 'min rate' : 'WSR'} (bit/s/Hz)`, `vs ${NORMALISER_LABELS[by]}`, 'ms / round', 'msgs / round', 'bytes / round', 'beats WMMSE-10 / 30 / 100 after (rounds)', 'deaths'];
}

async function networkSection(net: NetworkSummary, by: Normaliser, bands: Map<string, RoundBand>, sweep: number | undefined, heading: string, curveFile?: string): Promise<string[]> {
  const size = net.M === undefined ? `K = ${net.K}` : `M = ${net.M} APs, K = ${net.K} users`;
  const normaliser = net.wmmse100 === undefined ? `${NORMALISER_LABELS[by]} = ${num(net.normaliser, 4)}` : `centralized WMMSE-100 = ${num(net.wmmse100, 4)}${by === 'wmmse-100' ? '' : `, ${NORMALISER_LABELS[by]} = ${num(net.normaliser, 4)}`}`;
  const out = [`<h2>${esc(heading)}</h2>`, `<p class="meta">Model ${esc(net.model)}, ${size}, ${net.instances} instance(s); ${esc(normaliser)} bit/s/Hz${net.removedEdges ? `; ${net.removedEdges} CSI edges removed` : ''}${net.churnedAgents === undefined ? '' : `; ${churnPerInstance(net)} agent(s) leaving per instance (churn)`}.</p>`];
  out.push(table(head(by), algorithmRows(net)));
  const plots: string[] = [];
  const curve = curveSpec(net, (a) => bands.get(bandKey(sweep, net.network, a)));
  if (curve) {
    const svg = await renderSvg(curve);
    plots.push(svg);
    if (curveFile) writeFileSync(curveFile, svg);
  }
  plots.push(await renderSvg(spreadSpec(net)));
  out.push(`<div class="plots">${plots.map((p) => `<div class="plot">${p}</div>`).join('')}</div>`);
  return out;
}

export async function runReportHtml(s: RunSummary, dir: string): Promise<string> {
  const bands = await readRoundBands(join(dir, 'rounds.jsonl'));
  const body = [
    `<h1>Run ${esc(s.runId)}</h1>`,
    `<p class="meta">Scenario <code>${esc(s.scenario)}</code>: <b>${esc(s.status)}</b>${s.reason ? ` (${esc(s.reason)})` : ''}; transport: ${esc(s.transport ?? 'none')}; started ${esc(s.startedAt)}; ${num(s.seconds, 1)} s.</p>`,
    Object.keys(s.faults).length ? `<p>Faults: <code>${esc(JSON.stringify(s.faults))}</code></p>` : '',
    s.normaliseBy === 'optimal'
      ? '<p class="meta">Rates are minimum user rates (cell-free max-min power control) averaged over instances. The curves: each decentralised algorithm\'s mean after every round; shaded: the least to the largest instance; dashed rules: centralized algorithms (the optimal one among them).</p>'
      : '<p class="meta">Rates are weighted sum rates averaged over instances. The curves put centralized WMMSE (global CSI) after i iterations at 2i rounds; shaded: the least to the largest instance; diamonds: the round after which a decentralised algorithm first beats WMMSE with 10, 30 and 100 iterations; dashed rules: centralized algorithms.</p>',
  ];
  const sections: { net: NetworkSummary; sweep?: number; heading: string }[] = [];
  if (s.sweep) {
    body.push(`<h2>Sweep of <code>${esc(s.sweep.key)}</code></h2>`);
    const plots: string[] = [];
    for (let i = 0; i < (s.sweep.points[0]?.networks.length ?? 0); i++) {
      const spec = sweepSpec(s, i);
      if (spec) plots.push(await renderSvg(spec));
    }
    body.push(`<div class="plots">${plots.map((p) => `<div class="plot">${p}</div>`).join('')}</div>`);
    for (const p of s.sweep.points) for (const net of p.networks) sections.push({ net, sweep: p.value, heading: `${net.network} at ${p.label ?? `${s.sweep.key} = ${p.value}`}` });
  } else for (const net of s.networks) sections.push({ net, heading: net.network });
  // without a sweep each network's curve is also a picture of its own: rounds-<network>.svg
  for (const sec of sections.slice(0, MAX_NETWORK_SECTIONS)) body.push(...(await networkSection(sec.net, s.normaliseBy, bands, sec.sweep, sec.heading, s.sweep ? undefined : join(dir, `rounds-${sec.net.network}.svg`))));
  if (sections.length > MAX_NETWORK_SECTIONS) body.push(`<p>${sections.length - MAX_NETWORK_SECTIONS} more (sweep point, network) sections are in summary.json and summary.md.</p>`);
  if (!sections.length) body.push('<p>No results: the run stopped before any network finished.</p>');
  return page(`dmpemu run ${s.runId}`, body, s);
}

/** Write `<dir>/report.html` for a run's summary (and, without a sweep, `rounds-<network>.svg` per network); returns its path. */
export async function writeRunReport(s: RunSummary, dir: string): Promise<string> {
  const file = join(dir, 'report.html');
  writeFileSync(file, await runReportHtml(s, dir));
  return file;
}
