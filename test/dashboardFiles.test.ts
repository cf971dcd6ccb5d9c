import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { parseScenario } from '../coordinator/src/scenario/scenario.ts';
import { runScenario } from '../coordinator/src/commands/run.ts';
import { launchBrowser, startCli } from './browser.ts';
import { cellFreeCheckpoints } from './cellFreeCheckpoints.ts';

let browser: Browser;
beforeAll(async () => void (browser = await launchBrowser()));
afterAll(async () => void (await browser?.close()));

describe('dmpemu dashboard: finished runs from their files', () => {
  it('lists the runs, draws a run\'s curves and network (a crashed agent dead) from its files, compares two runs and links the report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-files-'));
    const network = { name: 'net', model: 'd2d', K: 8, field: 300, csiRange: 200, instances: 2 };
    const a = await runScenario(
      parseScenario({ name: 'first', seed: 2, networks: [network], algorithms: [{ name: 'wmmse-dmp', iterations: 10 }, 'strongest'], runtime: { kind: 'nats', agentsPerProcess: 4 }, faults: { crash: [{ agent: 4, round: 3 }] }, outputs: { dir } }, 'a.yaml'),
      { nats: inject('natsUrl') },
    );
    const b = await runScenario(parseScenario({ name: 'second', seed: 2, networks: [network], algorithms: [{ name: 'wmmse-dmp', iterations: 20 }], runtime: { kind: 'inprocess' }, outputs: { dir } }, 'b.yaml'));
    const cli = startCli(['dashboard', dir, '--port', '0']);
    const url = await cli.url;
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const outside: string[] = [];
    page.on('request', (r) => !r.url().startsWith(new URL(url).origin) && outside.push(r.url()));
    try {
      await page.goto(url);
      await page.waitForSelector('#runList li');
      expect(await page.$$eval('#runList li', (l) => l.map((x) => (x as HTMLElement).dataset.run))).toEqual([b.summary.runId, a.summary.runId]);
      await page.click(`#runList li[data-run="${a.summary.runId}"]`);
      await page.waitForFunction(() => document.getElementById('network')!.dataset.dead === '4');
      expect(await page.$eval('#objective', (e) => Number((e as HTMLElement).dataset.points))).toBe(20);
      expect(await page.$eval('#network', (e) => Number((e as HTMLElement).dataset.agents))).toBe(8);
      expect(await page.textContent('#log')).toContain('crash of agent 4 at round 3');
      expect(await page.textContent('#runTitle')).toContain(`first · ${a.summary.runId} · completed`);
      // the legend names the centralized result and WMMSE's curve read from wmmse.jsonl
      const legend = await page.$$eval('#objective .u-legend th', (l) => l.map((x) => x.textContent));
      expect(legend).toEqual(expect.arrayContaining(['wmmse-dmp-10', 'WMMSE (centralized, 2 rounds / it.)', 'strongest']));
      // another instance
      await page.selectOption('#pickInstance', '1');
      await page.waitForFunction(() => document.getElementById('netInfo')!.textContent!.includes('instance 1'));
      // compare with the second run
      await page.selectOption('#compareWith', b.summary.runId);
      await page.waitForSelector('#comparePanel:not([hidden])');
      const compared = await page.$$eval('#compare .u-legend th', (l) => l.map((x) => x.textContent));
      expect(compared).toEqual(expect.arrayContaining(['A: wmmse-dmp-10', 'B: wmmse-dmp-20', 'A: WMMSE', 'B: WMMSE']));
      expect(await page.textContent('#compareTable')).toContain(`${(100 * b.summary.networks[0].algorithms[0].normalised).toFixed(1)}%`);
      // the report, served beside
      const href = await page.getAttribute('#reportLink', 'href');
      const report = await page.evaluate(async (h) => (await fetch(h!)).text(), href);
      expect(report).toContain(`<title>dmpemu run ${a.summary.runId}</title>`);
      expect(outside).toEqual([]);
    } finally {
      await page.close();
      cli.child.kill('SIGINT');
    }
    expect(await cli.exited).toBe(0);
  }, 120_000);

  it('draws a cell-free run as its two node types: M access points and K users at their positions, with the AP -> user links', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-files-cf-'));
    const { CF } = cellFreeCheckpoints(dir);
    const run = await runScenario(
      parseScenario({ name: 'cf', seed: 3, networks: [{ name: 'm8-k4', model: 'cell-free', M: 8, K: 4, instances: 1 }], algorithms: [{ name: 'cf-pcgnn', checkpoint: CF }, 'optimal'], runtime: { kind: 'nats', agentsPerProcess: 6 }, outputs: { dir } }, 'cf.yaml'),
      { nats: inject('natsUrl') },
    );
    const cli = startCli(['dashboard', dir, '--port', '0']);
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    try {
      await page.goto(await cli.url);
      await page.click(`#runList li[data-run="${run.summary.runId}"]`);
      await page.waitForFunction(() => document.getElementById('netInfo')!.textContent!.includes('access points'));
      expect(await page.textContent('#netInfo')).toBe('m8-k4 (cell-free), instance 0: M = 8 access points (squares), K = 4 users (dots), 32 CSI links'); // positions: no circle
      expect(await page.$eval('#network', (e) => [Number((e as HTMLElement).dataset.agents), Number((e as HTMLElement).dataset.links)])).toEqual([12, 32]);
    } finally {
      await page.close();
      cli.child.kill('SIGINT');
    }
    expect(await cli.exited).toBe(0);
  }, 120_000);
});
