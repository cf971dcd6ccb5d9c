import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, inject, it } from 'vitest';
import { WebSocket } from 'ws';
import { parseScenario, type Scenario } from '../coordinator/src/scenario/scenario.ts';
import { runScenario } from '../coordinator/src/commands/run.ts';
import { evaluate } from '../coordinator/src/commands/eval.ts';
import { generate } from '../coordinator/src/commands/generate.ts';
import { startDashboard } from '../coordinator/src/dashboard/server.ts';

/** A page's WebSocket that records every message. */
async function listen(url: string): Promise<{ ws: WebSocket; messages: any[] }> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}ws`);
  const messages: any[] = [];
  ws.on('message', (b) => messages.push(JSON.parse(String(b))));
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  return { ws, messages };
}

const objectives = (runDir: string) =>
  readFileSync(join(runDir, 'rounds.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .map((l) => [l.network, l.instance, l.algorithm, l.round, l.objective]);

const until = async (f: () => boolean, what: string, ms = 30_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('the dashboard only watches', () => {
  it('a run with a dashboard and a page on it gives the same rounds.jsonl objectives as one without', async () => {
    const sc = (dir: string): Scenario =>
      parseScenario(
        {
          name: 'same',
          seed: 3,
          networks: [{ model: 'd2d', K: 10, field: 400, csiRange: 250, instances: 2 }],
          algorithms: [{ name: 'wmmse-dmp', iterations: 10 }, 'fplinq'],
          runtime: { kind: 'nats', agentsPerProcess: 5 },
          faults: { messageLoss: { probability: 0.2 } },
          outputs: { dir },
        },
        's.yaml',
      );
    const plain = await runScenario(sc(mkdtempSync(join(tmpdir(), 'dmpemu-same-'))), { nats: inject('natsUrl') });
    const dash = await startDashboard({ live: true, port: 0 });
    try {
      const page = await listen(dash.url);
      const watched = await runScenario(sc(mkdtempSync(join(tmpdir(), 'dmpemu-same-'))), { nats: inject('natsUrl'), observer: dash.observer });
      expect(objectives(watched.dir)).toEqual(objectives(plain.dir));
      expect(objectives(watched.dir)).toHaveLength(2 * 20);
      await until(() => page.messages.some((m) => m.type === 'end'), 'the end');
      expect(page.messages.filter((m) => m.type === 'round')).toHaveLength(2 * 20);
      expect(page.messages.filter((m) => m.type === 'view' && m.view.progress?.kind === 'dmp').map((m) => m.view.instance)).toEqual([0, 1]);
      const last = page.messages.filter((m) => m.type === 'round').at(-1);
      expect(last.series.objective).toBe(objectives(plain.dir)[39][4]);
      expect(last.agents.power).toHaveLength(10);
    } finally {
      await dash.close();
    }
  });

  it('a page that stops reading is skipped, then caught up with the whole state; the run does not wait for it', async () => {
    // dense CSI: each job's layout is about 1.4 MB, more than the kernel's socket buffers take (about 4 MB) in a few jobs
    const sc = parseScenario(
      {
        name: 'stall',
        seed: 8,
        networks: [{ model: 'd2d', K: 600, field: 600, csiRange: 420, instances: 5 }],
        algorithms: [{ name: 'wmmse-dmp', iterations: 1 }],
        runtime: { kind: 'inprocess' },
        outputs: { dir: mkdtempSync(join(tmpdir(), 'dmpemu-stall-')) },
      },
      'stall.yaml',
    );
    const highWater = 256 * 1024;
    const dash = await startDashboard({ live: true, port: 0, highWaterBytes: highWater });
    try {
      const stalled = await listen(dash.url);
      await until(() => stalled.messages.length > 0, 'the first state');
      const socket = (stalled.ws as unknown as { _socket: import('node:net').Socket })._socket;
      socket.pause(); // reads nothing more: the kernel's buffers fill, then the server's
      const rss0 = process.memoryUsage().rss;
      const t0 = performance.now();
      const { summary } = await runScenario(sc, { observer: dash.observer });
      expect(summary.status).toBe('completed');
      const [s] = await dash.stats();
      console.log(`stalled page: run ${((performance.now() - t0) / 1000).toFixed(1)} s; sent ${s.sent}, skipped ${s.skipped} messages; at most ${(s.maxBuffered / 1024).toFixed(0)} kB held for it (largest message ${(s.largest / 1024).toFixed(0)} kB); rss ${(rss0 / 2 ** 20).toFixed(0)} -> ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
      expect(s.skipped).toBeGreaterThan(0);
      expect(s.maxBuffered).toBeLessThanOrEqual(highWater + s.largest);
      // reading again, it gets the state of the finished run in one message
      socket.resume();
      const done = (m: any): boolean => m.type === 'view' && m.view.run?.status === 'completed';
      await until(() => stalled.messages.some(done), 'the catch-up');
      expect((await dash.stats())[0].resyncs).toBeGreaterThanOrEqual(1);
      const caughtUp = stalled.messages.filter(done).at(-1);
      expect(caughtUp.view).toMatchObject({ instance: 4, K: 600 });
      expect(caughtUp.view.series['wmmse-dmp-1'].objective).toHaveLength(2);
    } finally {
      await dash.close();
    }
  });

  it('dmpemu eval with --runtime tells the dashboard its jobs, rounds and WMMSE curves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-evaldash-'));
    const file = join(dir, 'i.json');
    generate({ model: 'rayleigh-ic', K: 6, count: 2, seed: 1, out: file, snrDb: 10 });
    const dash = await startDashboard({ live: true, port: 0 });
    try {
      const page = await listen(dash.url);
      const r = await evaluate({ instances: file, algorithm: 'wmmse', iterations: 5, seed: 0, history: false, runtime: 'inprocess', agentsPerProcess: 6, roundDeadlineMs: 5000, policy: 'skip', observer: dash.observer });
      await until(() => page.messages.some((m) => m.type === 'end'), 'the end');
      const rounds = page.messages.filter((m) => m.type === 'round');
      expect(rounds).toHaveLength(2 * 10);
      expect(rounds.filter((m) => m.progress.instance === 1).map((m) => m.series.objective)).toEqual(expect.arrayContaining([r.rates[1]]));
      const view = page.messages.filter((m) => m.type === 'view').at(-1).view;
      expect(view).toMatchObject({ network: 'rayleigh-ic-k6', instance: 1, K: 6, layout: { edges: 'all', links: 30 } });
      expect(view.wmmse).toHaveLength(101);
      expect(page.messages.at(-1)).toMatchObject({ type: 'end', run: { status: 'completed' } });
    } finally {
      await dash.close();
    }
    expect(readdirSync(dir)).toEqual(['i.json']); // eval writes no run directory
  });
});
