// Curves with uPlot (canvas; setData per round, no re-layout of the page): the objective against
// rounds with WMMSE's iterations at 2 rounds each, overtaking points, traffic and round time.
/* global uPlot */

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#ff7f0e', '#7f7f7f'];
export const WMMSE_COLOR = '#ff7f0e';
const colorOf = new Map();
export function color(name) {
  if (!colorOf.has(name)) colorOf.set(name, COLORS.filter((c) => c !== WMMSE_COLOR)[colorOf.size % (COLORS.length - 1)]);
  return colorOf.get(name);
}

/** One uPlot that is rebuilt when its series change and fed new data otherwise. */
export class Chart {
  constructor(el, height, yLabel, y2Label) {
    this.el = el;
    this.height = height;
    this.yLabel = yLabel;
    this.y2Label = y2Label;
    this.u = null;
    this.key = '';
    this.marks = [];
    new ResizeObserver(() => this.u && this.u.setSize({ width: this.width(), height: this.height })).observe(el);
  }

  width() {
    return Math.max(200, this.el.clientWidth);
  }

  /** series: [{label, stroke, dash?, width?, scale?, values, gaps?}] aligned with x. */
  set(x, series, marks = []) {
    this.marks = marks;
    const key = JSON.stringify(series.map((s) => [s.label, s.stroke, s.dash, s.scale]));
    const data = [x, ...series.map((s) => s.values)];
    if (this.u && key === this.key) {
      this.u.setData(data);
      return;
    }
    this.u?.destroy();
    this.key = key;
    const axes = [{ label: 'rounds' }, { label: this.yLabel, size: 60 }];
    const scales = { x: { time: false } };
    if (this.y2Label) {
      axes.push({ label: this.y2Label, side: 1, scale: 'y2', grid: { show: false }, size: 60 });
      scales.y2 = {};
    }
    this.u = new uPlot(
      {
        width: this.width(),
        height: this.height,
        scales,
        axes,
        cursor: { drag: { x: true, y: false } },
        series: [{ label: 'round' }, ...series.map((s) => ({ label: s.label, stroke: s.stroke, dash: s.dash, width: s.width ?? 1.6, scale: s.scale ?? 'y', spanGaps: !!s.gaps, points: { show: false } }))],
        hooks: { draw: [(u) => this.drawMarks(u)] },
      },
      data,
      this.el,
    );
  }

  drawMarks(u) {
    const ctx = u.ctx;
    ctx.save();
    ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
    for (const m of this.marks) {
      const x = u.valToPos(m.x, 'x', true), y = u.valToPos(m.y, 'y', true);
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      const s = 5 * devicePixelRatio;
      ctx.fillStyle = m.color;
      ctx.strokeStyle = '#000';
      ctx.beginPath();
      ctx.moveTo(x, y - s); ctx.lineTo(x + s, y); ctx.lineTo(x, y + s); ctx.lineTo(x - s, y); ctx.closePath();
      ctx.fill();
      ctx.stroke();
      ctx.fillStyle = '#222';
      ctx.fillText(m.label, x + s + 2, y + 3 * s); // below-right: clear of the curve and the top axis
    }
    ctx.restore();
  }
}

const LEVELS = [10, 30, 100];

/** The first round count after which each DMP curve beats WMMSE with 10 / 30 / 100 iterations. */
export function overtakes(series, wmmse) {
  const out = {};
  for (const [alg, s] of Object.entries(series)) {
    out[alg] = {};
    for (const n of LEVELS) {
      const level = wmmse?.[n];
      if (level === null || level === undefined) continue;
      const t = s.objective.findIndex((y) => y > level * (1 + 1e-9)); // as the summary: beyond summation noise
      out[alg][n] = t < 0 ? null : t + 1;
    }
  }
  return out;
}

/** Aligned data for the objective chart: DMP rounds at x = t + 1, WMMSE iteration i at x = 2i, centralized results and WMMSE levels as flat lines. */
export function objectiveData(view, roundsHint) {
  const series = view.series ?? {};
  const algs = Object.keys(series);
  const longest = Math.max(0, ...algs.map((a) => series[a].objective.length));
  const xmax = Math.max(10, longest, roundsHint ?? 0, algs.length ? 0 : 2 * ((view.wmmse?.length ?? 1) - 1));
  const x = Array.from({ length: xmax + 1 }, (_, i) => i);
  const out = [];
  let points = 0;
  for (const a of algs) {
    const v = new Array(xmax + 1).fill(null);
    series[a].objective.forEach((y, t) => { if (y !== null && y !== undefined && t + 1 <= xmax) { v[t + 1] = y; points++; } });
    out.push({ label: a, stroke: color(a), values: v, width: 2 });
  }
  const w = view.wmmse;
  if (w) {
    const v = new Array(xmax + 1).fill(null);
    w.forEach((y, i) => { if (y !== null && 2 * i <= xmax) v[2 * i] = y; });
    out.push({ label: 'WMMSE (centralized, 2 rounds / it.)', stroke: WMMSE_COLOR, values: v, gaps: true, width: 2 });
    for (const n of LEVELS) if (w[n] !== null && w[n] !== undefined) out.push({ label: `WMMSE-${n}`, stroke: n === 100 ? '#555' : '#aaa', dash: [4, 4], width: 1, values: x.map(() => w[n]) });
  }
  for (const [a, y] of Object.entries(view.results ?? {})) out.push({ label: a, stroke: color(a), dash: [8, 4], width: 1.2, values: x.map(() => y) });
  const o = overtakes(series, w);
  const marks = [];
  for (const [a, byLevel] of Object.entries(o)) {
    // one diamond per round, naming every level it beats from there (">W10/30/100")
    const at = new Map();
    for (const [n, R] of Object.entries(byLevel)) if (R !== null) at.set(R, [...(at.get(R) ?? []), n]);
    for (const [R, ns] of at) marks.push({ x: R, y: series[a].objective[R - 1], color: color(a), label: `>W${ns.join('/')}` });
  }
  return { x, series: out, marks, overtakes: o, points };
}

/** Messages (left axis) and kB (right axis) per round, and round time, per DMP algorithm. */
export function trafficData(view) {
  const series = view.series ?? {};
  const n = Math.max(1, ...Object.values(series).map((s) => s.messages.length));
  const x = Array.from({ length: n }, (_, t) => t + 1);
  const traffic = [], latency = [];
  for (const [a, s] of Object.entries(series)) {
    const at = (arr, f = (v) => v) => x.map((_, t) => (arr[t] === undefined || arr[t] === null ? null : f(arr[t])));
    traffic.push({ label: `${a} messages`, stroke: color(a), values: at(s.messages) });
    traffic.push({ label: `${a} kB`, stroke: color(a), dash: [3, 3], scale: 'y2', values: at(s.bytes, (b) => b / 1000) });
    latency.push({ label: a, stroke: color(a), values: at(s.latencyMs) });
  }
  return { x, traffic, latency };
}
