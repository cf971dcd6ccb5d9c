import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, startCli } from './browser.ts';

let browser: Browser;
beforeAll(async () => void (browser = await launchBrowser()));
afterAll(async () => void (await browser?.close()));

/** What the page shows: the round counter, the points of the objective chart, the network canvas's counts, the connection badge. */
const shown = (page: Page) =>
  page.evaluate(() => {
    const c = document.getElementById('network')!;
    return {
      round: Number(document.getElementById('round')!.textContent) || 0,
      rounds: Number(document.getElementById('rounds')!.textContent) || 0,
      points: Number(document.getElementById('objective')!.dataset.points),
      agents: Number(c.dataset.agents),
      links: Number(c.dataset.links),
      dead: c.dataset.dead ? c.dataset.dead.split(',').map(Number) : [],
      badge: document.getElementById('conn')!.textContent,
      status: document.getElementById('status')!.textContent ?? '',
      log: document.getElementById('log')!.textContent ?? '',
      drawMs: (window as any).dmpemuDashboard.net.stats.drawMs as number,
    };
  });

/** The colour of the canvas at agent k's receiver. */
const colourAt = (page: Page, k: number) =>
  page.evaluate((k) => {
    const net = (window as any).dmpemuDashboard.net;
    const [x, y] = net.receiverAt(k);
    const c = document.getElementById('network') as HTMLCanvasElement;
    return Array.from(c.getContext('2d')!.getImageData(Math.round(x * net.dpr), Math.round(y * net.dpr), 1, 1).data);
  }, k);

async function waitFor(page: Page, f: (s: Awaited<ReturnType<typeof shown>>) => boolean, what: string, ms = 60_000) {
  const end = Date.now() + ms;
  for (;;) {
    const s = await shown(page);
    if (f(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
    await page.waitForTimeout(100);
  }
}

function scenario(lines: string[]): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'dmpemu-live-'));
  const file = join(dir, 's.yaml');
  writeFileSync(file, lines.join('\n'));
  return { dir, file };
}

describe('the live dashboard in Chromium', () => {
  it('K = 20: the round counter and the curve advance while the run goes on; a straggler times its neighbours out; a crashed agent is marked dead', async () => {
    const { dir, file } = scenario([
      'name: watch',
      'seed: 5',
      'networks: [{ name: d2d-k20, model: d2d, K: 20, field: 632, csiRange: 300, instances: 1 }]',
      'algorithms: [fplinq, { name: wmmse-dmp, iterations: 25 }]',
      'runtime: { kind: nats, agentsPerProcess: 5, roundDeadlineMs: 150 }',
      'faults: { stragglers: { agents: [3], delayMs: 300 }, crash: [{ agent: 7, round: 12 }] }',
    ]);
    const cli = startCli(['run', file, '--out', dir, '--dashboard'], { NATS_URL: inject('natsUrl') });
    const page = await browser.newPage({ viewport: { width: 1400, height: 950 } });
    const outside: string[] = [];
    const origin = new URL(await cli.url).origin;
    page.on('request', (r) => !r.url().startsWith(origin) && outside.push(r.url()));
    await page.goto(await cli.url);
    const a = await waitFor(page, (s) => s.round >= 3 && s.points >= 3, 'round 3');
    const b = await waitFor(page, (s) => s.round >= a.round + 4, 'four more rounds');
    expect(b.points).toBeGreaterThan(a.points);
    expect(b.round).toBeLessThan(b.rounds); // still running
    expect(b.badge).toBe('live');
    expect(b.agents).toBe(20);
    expect(b.links).toBeGreaterThan(20);
    expect(b.status).toMatch(/timed out \d/); // agent 3's neighbours closed on the deadline
    const c = await waitFor(page, (s) => s.dead.includes(7), 'agent 7 dead');
    expect(c.log).toContain('crash of agent 7 at round 12');
    const [r, g, bl] = await colourAt(page, 7);
    expect(r).toBeGreaterThan(150);
    expect(g).toBeLessThan(110);
    expect(bl).toBeLessThan(110);
    expect(await cli.exited).toBe(0);
    const end = await waitFor(page, (s) => s.badge === 'run completed', 'the end');
    expect(end.round).toBe(50);
    expect(end.points).toBe(50);
    expect(outside).toEqual([]);
    const run = readdirSync(dir).find((d) => d.startsWith('watch-'))!;
    expect(existsSync(join(dir, run, 'report.html'))).toBe(true);
    await page.close();
  }, 120_000);

  it('K = 1000: the network of 1000 pairs with its CSI links is drawn and stays live', async () => {
    const { dir, file } = scenario([
      'name: big',
      'seed: 7',
      'networks: [{ name: d2d-k1000, model: d2d, K: 1000, field: 4472, csiRange: 300, instances: 1 }]',
      'algorithms: [{ name: wmmse-dmp, iterations: 20 }]',
      'runtime: { kind: nats, agentsPerProcess: 500 }',
      'faults: { crash: [{ agent: 17, round: 6 }] }',
    ]);
    const cli = startCli(['run', file, '--out', dir, '--dashboard', '0'], { NATS_URL: inject('natsUrl') });
    const page = await browser.newPage({ viewport: { width: 1400, height: 950 } });
    await page.goto(await cli.url);
    const a = await waitFor(page, (s) => s.round >= 2 && s.agents === 1000, 'round 2', 90_000);
    expect(a.links).toBeGreaterThan(5000);
    const b = await waitFor(page, (s) => s.round >= a.round + 3 && s.dead.includes(17), 'three more rounds and agent 17 dead', 60_000);
    expect(b.points).toBeGreaterThan(a.points);
    const [r, g, bl] = await colourAt(page, 17);
    expect([r > 150, g < 110, bl < 110]).toEqual([true, true, true]);
    console.log(`K = 1000: ${b.links} links; last network draw ${b.drawMs.toFixed(1)} ms`);
    expect(await cli.exited).toBe(0);
    await waitFor(page, (s) => s.badge === 'run completed' && s.round === 40, 'the end');
    await page.close();
  }, 180_000);
});
