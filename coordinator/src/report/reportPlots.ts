/**
 * The plots of report.html, drawn with vega-lite to SVG when the report is written: objective
 * against rounds with WMMSE's iterations (2 rounds per iteration), the per-instance spread, the
 * sweep with intervals and a training curve. Static SVG needs no script to be seen.
 */
import type { AlgorithmSummary, NetworkSummary, RunSummary } from '../results/summary.ts';
import type { RoundBand } from './jsonLines.ts';
import { NORMALISER_LABELS } from '../scenario/algorithmNames.ts';

type Spec = Record<string, unknown>;

const WMMSE = 'WMMSE (centralized)';
const OVERTAKES = ['wmmse10', 'wmmse30', 'wmmse100'] as const;

let serial = 0;

/** One SVG from a vega-lite spec, its ids made unique so several can sit inline in one page. */
export async function renderSvg(spec: Spec): Promise<string> {
  const vega = await import('vega');
  const { compile } = await import('vega-lite');
  const view = new vega.View(vega.parse(compile(spec as never).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const p = `p${++serial}-`;
  return svg.replace(/\bid="([^"]+)"/g, `id="${p}$1"`).replace(/url\(#/g, `url(#${p}`).replace(/href="#/g, `href="#${p}`);
}

/** Mean objective against rounds: every DMP algorithm (its min-max band over instances), WMMSE's iterations at 2 rounds each, centralized results as rules, overtaking points. */
export function curveSpec(net: NetworkSummary, bands: (algorithm: string) => RoundBand | undefined): Spec | undefined {
  const dmp = net.algorithms.filter((a) => a.history?.length);
  const xmax = dmp.length ? Math.max(...dmp.map((a) => a.history!.length)) : 2 * (net.wmmseHistory.length - 1);
  if (!(xmax > 0)) return undefined;
  const lines: { algorithm: string; R: number; y: number }[] = [];
  const band: { algorithm: string; R: number; lo: number; hi: number }[] = [];
  const marks: { algorithm: string; R: number; y: number; label: string }[] = [];
  for (const a of dmp) {
    a.history!.forEach((y, t) => lines.push({ algorithm: a.algorithm, R: t + 1, y }));
    const b = bands(a.algorithm);
    if (b && net.instances > 1) b.min.forEach((lo, t) => lo !== undefined && band.push({ algorithm: a.algorithm, R: t + 1, lo, hi: b.max[t] }));
    for (const k of OVERTAKES) {
      const R = a.overtakes?.[k];
      if (!(typeof R === 'number' && R >= 1 && R <= a.history!.length)) continue;
      const same = marks.find((m) => m.algorithm === a.algorithm && m.R === R); // one label where it beats several at once
      if (same) same.label += `, -${k.replace('wmmse', '')}`;
      else marks.push({ algorithm: a.algorithm, R, y: a.history![R - 1], label: `beats ${k.replace('wmmse', 'WMMSE-')}` });
    }
  }
  net.wmmseHistory.forEach((y, i) => typeof y === 'number' && Number.isFinite(y) && 2 * i <= xmax && lines.push({ algorithm: WMMSE, R: 2 * i, y }));
  const rules = net.algorithms.filter((a) => a.kind === 'centralized').map((a) => ({ algorithm: a.algorithm, y: a.meanRate }));
  const cellFree = net.wmmseHistory.length === 0; // no WMMSE beside a cell-free network's max-min DMPs
  const domain = [...dmp.map((a) => a.algorithm), ...(cellFree ? [] : [WMMSE]), ...rules.map((r) => r.algorithm)];
  // symlog: a GNN's few rounds and WMMSE's hundred side by side
  const x = { field: 'R', type: 'quantitative', title: cellFree ? 'message rounds' : 'message rounds (centralized WMMSE: 2 per iteration)', scale: { type: 'symlog', domain: [0, xmax] }, axis: { values: [0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000].filter((v) => v <= xmax) } };
  const color = { field: 'algorithm', type: 'nominal', scale: { domain }, legend: { orient: 'bottom', columns: 2, title: null } };
  const layer: Spec[] = [];
  if (band.length) layer.push({ data: { values: band }, mark: { type: 'area', opacity: 0.15 }, encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color } });
  layer.push({ data: { values: lines }, mark: { type: 'line', interpolate: 'linear', clip: true, point: { size: 12 } }, encoding: { x, y: { field: 'y', type: 'quantitative', title: cellFree ? 'minimum user rate (bit/s/Hz)' : 'weighted sum rate (bit/s/Hz)', scale: { zero: false } }, color } });
  if (rules.length) layer.push({ data: { values: rules }, mark: { type: 'rule', strokeDash: [6, 4] }, encoding: { y: { field: 'y', type: 'quantitative' }, color } });
  if (marks.length)
    layer.push(
      { data: { values: marks }, mark: { type: 'point', shape: 'diamond', size: 80, filled: true, color: 'black' }, encoding: { x, y: { field: 'y', type: 'quantitative' } } },
      { data: { values: marks }, mark: { type: 'text', dy: -10, fontSize: 10 }, encoding: { x, y: { field: 'y', type: 'quantitative' }, text: { field: 'label' } } },
    );
  return { title: `${net.network}: objective against rounds`, width: 520, height: 280, layer, config: { legend: { symbolOpacity: 1, symbolStrokeWidth: 3 } } };
}

/** Per-instance objective over the network's mean WMMSE-100 (cell-free: the optimal algorithm's), per algorithm: box (min to max) and every instance. */
export function spreadSpec(net: NetworkSummary): Spec {
  const by = net.wmmse100 ?? net.normaliser;
  const values = net.algorithms.flatMap((a) => a.rates.map((r, instance) => ({ algorithm: a.algorithm, ratio: r / by, instance })));
  const y = { field: 'algorithm', type: 'nominal', title: null, sort: net.algorithms.map((a) => a.algorithm) };
  const x = { field: 'ratio', type: 'quantitative', title: `objective per instance / mean ${net.wmmse100 === undefined ? 'optimal (max-min)' : 'centralized WMMSE-100'}`, axis: { format: '%' }, scale: { zero: false } };
  return {
    title: `${net.network}: spread over ${net.instances} instance(s)`,
    width: 520,
    data: { values },
    layer: [
      { mark: { type: 'boxplot', extent: 'min-max', opacity: 0.5 }, encoding: { x, y } },
      { mark: { type: 'tick', color: 'black', opacity: 0.6 }, encoding: { x, y } },
    ],
  };
}

/**
 * Normalised objective against the swept value per algorithm, with a 95% interval of the mean
 * over instances (rates over the network's mean WMMSE-100, taken as fixed: mean +- 1.96 s / sqrt n).
 */
export function sweepSpec(s: RunSummary, networkIndex: number): Spec | undefined {
  const points = s.sweep?.points ?? [];
  const net0 = points[0]?.networks[networkIndex];
  if (!net0) return undefined;
  // what the tables say: the normalised mean (over the run's normaliser, or a channel's of the last round) with the half-width of the per-instance ratios' 95% interval
  const values = points.flatMap((p) =>
    p.networks[networkIndex].algorithms.map((a) => ({ value: p.value, label: p.label ?? String(p.value), algorithm: a.algorithm, ...withInterval(a) })),
  );
  // one key: its values on a number axis; several: the points in order, by name
  const x = (s.sweep!.keys?.length ?? 1) > 1 ? { field: 'label', type: 'ordinal', sort: points.map((p) => p.label), title: s.sweep!.key, axis: { labelAngle: -30 } } : { field: 'value', type: 'quantitative', title: s.sweep!.key };
  const color = { field: 'algorithm', type: 'nominal', legend: { orient: 'bottom', columns: 2, title: null } };
  return linesWithIntervals(`${net0.network}: objective / ${NORMALISER_LABELS[s.normaliseBy]} against ${s.sweep!.key} (95% interval over instances)`, values, x, color);
}

/** An algorithm's normalised mean with the half-width of its per-instance ratios' 95% interval around it (what the tables say). */
function withInterval(a: AlgorithmSummary): { mean: number; lo: number; hi: number } {
  const ci = a.spread?.normalised.ci95;
  const h = ci ? (ci[1] - ci[0]) / 2 : 0;
  return { mean: a.normalised, lo: a.normalised - h, hi: a.normalised + h };
}

/** Lines of `mean` against x with error bars from lo to hi, one per colour. */
function linesWithIntervals(title: string, values: object[], x: Spec, color: Spec): Spec {
  return {
    title,
    width: 520,
    height: 280,
    data: { values },
    layer: [
      { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'mean', type: 'quantitative', title: 'normalised objective', axis: { format: '%' }, scale: { zero: false } }, color } },
      { mark: { type: 'errorbar', ticks: true }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: null }, y2: { field: 'hi' }, color } },
    ],
  };
}

/**
 * Learned algorithms of one architecture trained on sets of different sizes (their checkpoints'
 * trainingSetSize): per kind, the size and the normalised mean with the per-instance ratios' 95%
 * interval, by size. Empty when no kind has two sizes.
 */
export function trainingSetPoints(net: NetworkSummary): { kind: string; samples: number; algorithm: string; mean: number; lo: number; hi: number }[] {
  const sized = net.algorithms.filter((a) => typeof a.trained?.trainingSetSize === 'number');
  const kinds = [...new Set(sized.map((a) => a.trained!.kind))].filter((k) => new Set(sized.filter((a) => a.trained!.kind === k).map((a) => a.trained!.trainingSetSize)).size > 1);
  return sized
    .filter((a) => kinds.includes(a.trained!.kind))
    .map((a) => ({ kind: a.trained!.kind, samples: a.trained!.trainingSetSize as number, algorithm: a.algorithm, ...withInterval(a) }))
    .sort((x, y) => x.kind.localeCompare(y.kind) || x.samples - y.samples);
}

/** The normalised objective against the training set's size (log), one line per architecture kind (the papers' sample-complexity figure). */
export function trainingSetSpec(net: NetworkSummary, by: RunSummary['normaliseBy']): Spec | undefined {
  const values = trainingSetPoints(net);
  if (values.length === 0) return undefined;
  const x = { field: 'samples', type: 'quantitative', title: 'training samples', scale: { type: 'log' } };
  const color = { field: 'kind', type: 'nominal', legend: { orient: 'bottom', title: null } };
  return linesWithIntervals(`${net.network}: objective / ${NORMALISER_LABELS[by]} against the training set (95% interval over instances)`, values, x, color);
}

/**
 * Across a run's networks of one model and several sizes: each series (a learned algorithm's
 * architecture kind, or a baseline's label) with one result on each of two or more of them, its
 * normalised mean with interval by K. Empty otherwise.
 */
export function networkSizePoints(s: RunSummary): { series: string; K: number; mean: number; lo: number; hi: number }[] {
  const models = new Set(s.networks.map((n) => n.model));
  if (models.size !== 1 || new Set(s.networks.map((n) => n.K)).size < 2) return [];
  const points = s.networks.flatMap((n) => n.algorithms.map((a) => ({ series: a.trained?.kind ?? a.algorithm, K: n.K, ...withInterval(a) })));
  // a series with one result per network, on two networks or more (several checkpoints of a kind on one network: that is the training-set comparison)
  const of = (series: string) => points.filter((p) => p.series === series);
  const plain = (series: string): boolean => new Set(of(series).map((p) => p.K)).size === of(series).length && of(series).length > 1;
  return points.filter((p) => plain(p.series)).sort((x, y) => x.series.localeCompare(y.series) || x.K - y.K);
}

/** The normalised objective against the network's size, one line per series (the papers' "performance against K"). */
export function networkSizeSpec(s: RunSummary): Spec | undefined {
  const values = networkSizePoints(s);
  if (values.length === 0) return undefined;
  return linesWithIntervals(`objective / ${NORMALISER_LABELS[s.normaliseBy]} against K (95% interval over instances)`, values, { field: 'K', type: 'quantitative', title: 'K (pairs)' }, { field: 'series', type: 'nominal', legend: { orient: 'bottom', title: null } });
}

/** One plot per numeric field of a training curve, against the step. */
export function trainingSpecs(rows: Record<string, unknown>[]): Spec[] {
  const xKey = rows.every((r) => typeof r.step === 'number') ? 'step' : undefined;
  const fields = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => k !== xKey && rows.some((r) => typeof r[k] === 'number' && Number.isFinite(r[k])));
  return fields.map((f) => ({
    title: f,
    width: 520,
    height: 200,
    data: { values: rows.map((r, i) => ({ x: xKey ? r[xKey] : i, y: r[f] })).filter((p) => typeof p.y === 'number' && Number.isFinite(p.y)) },
    mark: { type: 'line', point: rows.length <= 50 },
    encoding: { x: { field: 'x', type: 'quantitative', title: xKey ?? 'line' }, y: { field: 'y', type: 'quantitative', title: f, scale: { zero: false } } },
  }));
}
