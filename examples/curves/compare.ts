/**
 * Training curves of several models in one plot (neural-architectures-gnn-vs-mlp.md, Figs. 1 and
 * 3: GNN against MLP): each `<run dir>/curve.jsonl` that `dmpemu train` writes, one line per model
 * (named by its directory), `--field` (default validationRatio; or loss) against the samples seen.
 *   node --import tsx examples/curves/compare.ts runs/train/pcgnn-rayleigh-k20-snr10-curve runs/train/mlp-rayleigh-k20-snr10-curve --out docs/curves-k20.svg
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderSvg } from '../../coordinator/src/report/reportPlots.ts';

const { values: o, positionals: dirs } = parseArgs({ allowPositionals: true, options: { field: { type: 'string', default: 'validationRatio' }, out: { type: 'string', default: 'curves.svg' }, title: { type: 'string' } } });
if (dirs.length === 0) throw new Error('give the training directories (each with a curve.jsonl) to compare');
const field = o.field!;
const values = dirs.flatMap((d) =>
  readFileSync(join(d, 'curve.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, number>)
    .filter((r) => Number.isFinite(r[field]))
    .map((r) => ({ model: basename(d), samples: r.samples, y: r[field] })),
);
const spec = {
  title: o.title ?? `${field} against the training samples seen`,
  width: 460,
  height: 260,
  data: { values },
  mark: { type: 'line', point: true },
  encoding: {
    x: { field: 'samples', type: 'quantitative', title: 'training samples seen (steps x batch)' },
    y: { field: 'y', type: 'quantitative', title: field === 'validationRatio' ? 'validation sum rate / WMMSE-100' : field, axis: field === 'validationRatio' ? { format: '%' } : {}, scale: { zero: false } },
    color: { field: 'model', type: 'nominal', legend: { orient: 'bottom', title: null } },
  },
};
writeFileSync(o.out!, await renderSvg(spec));
console.log(`wrote ${o.out}`);
