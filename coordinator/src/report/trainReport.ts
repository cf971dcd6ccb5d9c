/**
 * `<output.dir>/<name>.report.html` after `dmpemu train`: the manifest entry of the checkpoint
 * and, when the training wrote one, its curve (`<name>.curve.jsonl` or `curve.jsonl` in the
 * output directory: one JSON object per line; every numeric field is plotted against `step`).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readManifest } from '../scenario/checkpoints.ts';
import { forEachJsonLine } from './jsonLines.ts';
import { esc, page } from './reportHtml.ts';
import { renderSvg, trainingSpecs } from './reportPlots.ts';

export function curveFile(dir: string, name: string): string | undefined {
  return [join(dir, `${name}.curve.jsonl`), join(dir, 'curve.jsonl')].find((f) => existsSync(f));
}

export async function trainReportHtml(dir: string, name: string): Promise<string> {
  const manifest = join(dir, 'manifest.json');
  const entries = readManifest(dir);
  const entry = entries.find((e) => e.name === name);
  const body = [`<h1>Training ${esc(name)}</h1>`];
  if (entry) {
    const rows: [string, unknown][] = [
      ['checkpoint', `${entry.file} (sha256 ${entry.hash.slice(0, 16)}...)`],
      ['architecture', entry.architecture],
      ['network', JSON.stringify(entry.network)],
      ['training', JSON.stringify(entry.training)],
      ['validation vs WMMSE-100', `${(100 * entry.validationRatio).toFixed(1)}% on ${entry.validationInstances} instances`],
      ['trained at', entry.trainedAt],
      ['command', entry.command],
    ];
    body.push(`<table><tbody>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</tbody></table>`);
  } else body.push(`<p>No entry for ${esc(name)} in ${esc(manifest)}.</p>`);
  const file = curveFile(dir, name);
  const rows: Record<string, unknown>[] = [];
  if (file) await forEachJsonLine(file, (l) => void rows.push(l));
  if (rows.length) {
    body.push(`<h2>Training curve</h2><p class="meta">${rows.length} points from <code>${esc(file)}</code>.</p>`);
    const plots = await Promise.all(trainingSpecs(rows).map(renderSvg));
    body.push(`<div class="plots">${plots.map((p) => `<div class="plot">${p}</div>`).join('')}</div>`);
  } else body.push(`<p class="meta">No training curve (<code>${esc(name)}.curve.jsonl</code> or <code>curve.jsonl</code>) in ${esc(dir)}.</p>`);
  return page(`dmpemu training ${name}`, body, { manifest: entry ?? null, curve: rows });
}

/** Write `<dir>/<name>.report.html`; returns its path. */
export async function writeTrainReport(dir: string, name: string): Promise<string> {
  const out = join(dir, `${name}.report.html`);
  writeFileSync(out, await trainReportHtml(dir, name));
  return out;
}

/** curve.svg from curve.jsonl: training loss and validation ratio against step; undefined when the curve is empty. */
export async function writeCurveSvg(jsonl: string, svg: string): Promise<string | undefined> {
  const rows: Record<string, unknown>[] = [];
  if (existsSync(jsonl)) await forEachJsonLine(jsonl, (l) => void rows.push(l));
  const specs = trainingSpecs(rows.map(({ step, loss, validationRatio }) => ({ step, loss, validationRatio })));
  if (!specs.length) return undefined;
  writeFileSync(svg, await renderSvg({ title: 'training curve', vconcat: specs }));
  return svg;
}
