import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { parseScenario } from '../coordinator/src/scenario/scenario.ts';
import { runScenario } from '../coordinator/src/commands/run.ts';
import { writeTrainReport } from '../coordinator/src/report/trainReport.ts';
import { launchBrowser } from './browser.ts';

let browser: Browser;
beforeAll(async () => void (browser = await launchBrowser()));
afterAll(async () => void (await browser?.close()));

/** Open a file offline: every request that is not file:// is refused and counted. */
async function openOffline(file: string) {
  const page = await browser.newPage();
  const outside: string[] = [];
  await page.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith('file:')) return route.continue();
    outside.push(u);
    return route.abort();
  });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pathToFileURL(file).href);
  return { page, outside, errors };
}

/** Per inline SVG plot: its title and how many marks (paths) it drew. */
const plotsOf = (page: import('playwright-core').Page) =>
  page.$$eval('.plot svg', (svgs) => svgs.map((s) => ({ text: s.textContent ?? '', paths: s.querySelectorAll('path').length, width: s.getBoundingClientRect().width })));

describe('report.html', () => {
  it('every run writes a self-contained report.html whose plots render from the file system', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-report-'));
    const sc = parseScenario(
      {
        name: 'rep',
        seed: 9,
        networks: [{ model: 'd2d', K: 10, field: 400, csiRange: 300, instances: 3 }],
        algorithms: [{ name: 'wmmse-dmp', iterations: 15 }, 'wmmse', 'strongest'],
        runtime: { kind: 'inprocess' },
        outputs: { dir },
      },
      'rep.yaml',
    );
    const { dir: runDir, summary } = await runScenario(sc);
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i); // nothing to fetch
    const { page, outside, errors } = await openOffline(join(runDir, 'report.html'));
    expect(await page.title()).toBe(`dmpemu run ${summary.runId}`);
    const plots = await plotsOf(page);
    expect(plots).toHaveLength(2);
    expect(plots[0].text).toContain('objective against rounds');
    for (const name of ['wmmse-dmp-15', 'WMMSE (centralized)', 'wmmse-100', 'strongest']) expect(plots[0].text).toContain(name);
    expect(plots[1].text).toContain('spread over 3 instance(s)');
    for (const p of plots) {
      expect(p.paths).toBeGreaterThan(5);
      expect(p.width).toBeGreaterThan(300);
    }
    // the table holds the summary's numbers, the data block the summary itself
    expect(await page.textContent('table')).toContain(`${(100 * summary.networks[0].algorithms[0].normalised).toFixed(1)}%`);
    expect(JSON.parse((await page.textContent('#data'))!)).toMatchObject({ runId: summary.runId, status: 'completed' });
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a sweep gets its plot with intervals per network', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-report-sweep-'));
    const sc = parseScenario(
      {
        name: 'repsweep',
        seed: 4,
        networks: [{ model: 'd2d', K: 8, field: 400, csiRange: 300, instances: 4 }],
        algorithms: [{ name: 'wmmse-dmp', iterations: 5 }, 'strongest'],
        runtime: { kind: 'inprocess' },
        faults: { missingCsi: { select: 'uniform', fraction: 0 } },
        sweep: { key: 'faults.missingCsi.fraction', values: [0, 0.5] },
        outputs: { dir },
      },
      'sweep.yaml',
    );
    const { dir: runDir } = await runScenario(sc);
    const { page, outside } = await openOffline(join(runDir, 'report.html'));
    const plots = await plotsOf(page);
    expect(plots[0].text).toContain('against faults.missingCsi.fraction (95% interval over instances)');
    // the error bars: a rule per algorithm and swept value beside the lines
    expect(await page.$$eval('.plot:first-child svg .mark-rule line', (n) => n.length)).toBeGreaterThanOrEqual(2 * 2);
    // and each point's network its curves and spread
    expect(plots.filter((p) => p.text.includes('objective against rounds'))).toHaveLength(2);
    expect(outside).toEqual([]);
    await page.close();
  });

  it('dmpemu train: the report shows the manifest entry and plots a curve.jsonl when there is one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-report-train-'));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ name: 'm', file: 'm.json', hash: 'ab'.repeat(32), architecture: 'wcgcn T=2', network: { model: 'rayleigh-ic', K: 6 }, training: { steps: 40 }, validationRatio: 0.9, validationInstances: 8, trainedAt: '2026-01-01T00:00:00Z', command: 'dmpemu train m.yaml' }]));
    const without = await writeTrainReport(dir, 'm');
    expect(readFileSync(without, 'utf8')).toContain('No training curve');
    writeFileSync(join(dir, 'curve.jsonl'), Array.from({ length: 20 }, (_, i) => JSON.stringify({ step: 2 * i, loss: 1 / (i + 1), validationRatio: i % 5 === 0 ? 0.5 + i / 40 : undefined })).join('\n') + '\n');
    const file = await writeTrainReport(dir, 'm');
    const { page, outside } = await openOffline(file);
    expect(await page.textContent('table')).toContain('90.0% on 8 instances');
    const plots = await plotsOf(page);
    expect(plots.map((p) => (p.text.includes('validationRatio') ? 'validationRatio' : p.text.includes('loss') ? 'loss' : p.text))).toEqual(['loss', 'validationRatio']);
    for (const p of plots) expect(p.paths).toBeGreaterThan(0);
    expect(outside).toEqual([]);
    await page.close();
  });
});
