import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../coordinator/src/commands/run.ts';
import { serve, type Served } from '../coordinator/src/dashboard/httpServer.ts';
import { parseScenario } from '../coordinator/src/scenario/scenario.ts';

/**
 * The dashboard over run directories it did not write: a line, a summary or a file that is not
 * what a run writes (a probe found each of these) costs that run, never the dashboard or the other
 * runs, and nothing outside the runs directory is served.
 */
const root = mkdtempSync(join(tmpdir(), 'dmpemu-dash-hostile-'));
const runs = join(root, 'runs');
let id: string;
let files: Served;
const get = async (path: string): Promise<{ status: number; body: any }> => {
  const r = await fetch(new URL(path, files.url));
  const text = await r.text();
  return { status: r.status, body: r.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text };
};
/** A copy of the good run under another id, with `change` applied to its directory. */
const variant = (name: string, change: (dir: string) => void): string => {
  const dir = join(runs, name);
  cpSync(join(runs, id), dir, { recursive: true });
  change(dir);
  return name;
};
const view = (run: string) => get(`/api/runs/${run}/view?network=net&instance=0`);

beforeAll(async () => {
  const sc = parseScenario({ name: 'good', seed: 2, networks: [{ name: 'net', model: 'd2d', K: 6, field: 300, instances: 1 }], algorithms: [{ name: 'wmmse-dmp', iterations: 3 }], runtime: { kind: 'inprocess' }, outputs: { dir: runs } }, 'good.yaml');
  id = (await runScenario(sc)).summary.runId;
  files = await serve({ runsDir: runs });
});
afterAll(async () => void (await files?.close(100)));

describe('dmpemu dashboard: run directories it did not write', () => {
  it('a line of rounds.jsonl claiming round 1e8 or instance 1e9 is skipped (the first crashed the process in JSON.stringify)', async () => {
    const good = await view(id);
    expect(good.body.series['wmmse-dmp-3'].objective).toHaveLength(6);
    const line = JSON.parse(readFileSync(join(runs, id, 'rounds.jsonl'), 'utf8').split('\n')[0]);
    const huge = variant('huge-round', (dir) => {
      for (const round of [1e8, 4294967294, -1, 2.5, '3']) appendFileSync(join(dir, 'rounds.jsonl'), JSON.stringify({ ...line, round, objective: 99 }) + '\n');
    });
    const v = await view(huge);
    expect(v.status).toBe(200);
    expect(v.body.series['wmmse-dmp-3'].objective).toEqual(good.body.series['wmmse-dmp-3'].objective);
    // a run still going (no summary.json): its instances come from rounds.jsonl, where a line claiming instance 1e9 is skipped
    const running = variant('running', (dir) => {
      execFileSync('rm', [join(dir, 'summary.json')]);
      appendFileSync(join(dir, 'rounds.jsonl'), JSON.stringify({ ...line, instance: 1e9 }) + '\n' + JSON.stringify({ ...line, network: { x: 1 } }) + '\n');
    });
    expect((await get(`/api/runs/${running}`)).body.networks).toEqual([{ network: 'net', instances: 1 }]);
  });

  it('a summary.json of another shape makes that run unreadable, not the list (one bad run answered 500 to the list of all)', async () => {
    const shapes: [unknown, string][] = [
      [{}, 'unreadable summary.json: runId: Invalid input: expected string, received undefined; scenario: Invalid input: expected string, received undefined; status: Invalid input: expected string, received undefined'],
      [[], 'unreadable summary.json: (top level): Invalid input: expected object, received array'],
    ];
    const good = JSON.parse(readFileSync(join(runs, id, 'summary.json'), 'utf8'));
    const bad = [
      ...shapes.map(([s], i) => variant(`shape-${i}`, (dir) => writeFileSync(join(dir, 'summary.json'), JSON.stringify(s)))),
      variant('null-rates', (dir) => writeFileSync(join(dir, 'summary.json'), JSON.stringify({ ...good, networks: [{ ...good.networks[0], algorithms: [{ ...good.networks[0].algorithms[0], rates: null }] }] }))),
      variant('long-history', (dir) => writeFileSync(join(dir, 'summary.json'), JSON.stringify({ ...good, networks: [{ ...good.networks[0], algorithms: [{ ...good.networks[0].algorithms[0], history: new Array(100_001).fill(1) }] }] }))),
    ];
    const list = await get('/api/runs');
    expect(list.status).toBe(200);
    const status = new Map(list.body.map((r: { id: string; status: string }) => [r.id, r.status]));
    expect(status.get(id)).toBe('completed');
    expect(status.get('shape-0')).toBe(shapes[0][1]);
    expect(status.get('shape-1')).toBe(shapes[1][1]);
    expect(status.get('null-rates')).toBe('unreadable summary.json: networks[0].algorithms[0].rates: Invalid input: expected array, received null');
    expect(status.get('long-history')).toBe('unreadable summary.json: networks[0].algorithms[0].history: Too big: expected array to have <=100000 items');
    for (const run of bad) {
      // its curves still show, from rounds.jsonl
      expect((await get(`/api/runs/${run}`)).body).toMatchObject({ summary: null, networks: [{ network: 'net', instances: 1 }] });
      expect((await view(run)).body.series['wmmse-dmp-3'].objective).toHaveLength(6);
    }
  });

  it('nothing outside the runs directory is served: a report.html linking out, a run directory linking out', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'dmpemu-outside-'));
    writeFileSync(join(outside, 'secret.txt'), 'not for the dashboard');
    variant('linked-report', (dir) => {
      execFileSync('rm', ['-f', join(dir, 'report.html')]);
      symlinkSync(join(outside, 'secret.txt'), join(dir, 'report.html'));
    });
    cpSync(join(runs, id), join(outside, 'run'), { recursive: true });
    symlinkSync(join(outside, 'run'), join(runs, 'linked-run'));
    for (const path of ['/runs/linked-report/report.html', '/runs/linked-run/report.html', '/api/runs/linked-run', '/api/runs/linked-run/view?network=net']) expect((await get(path)).status, path).toBe(404);
    expect((await get('/api/runs')).body.map((r: { id: string }) => r.id)).not.toContain('linked-run');
    expect((await get('/api/runs')).body.find((r: { id: string }) => r.id === 'linked-report').report).toBe(false);
    expect((await get(`/runs/${id}/report.html`)).body).toContain(`<title>dmpemu run ${id}</title>`);
    // a report.html is the run directory's: served sandboxed and without scripts (one written by hand could read /api/runs from the dashboard's origin)
    variant('scripted-report', (dir) => writeFileSync(join(dir, 'report.html'), '<script>fetch("/api/runs")</script>'));
    const r = await fetch(new URL('/runs/scripted-report/report.html', files.url));
    expect(r.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:");
  });

  it('a summary.json that is a FIFO does not block the server (readFileSync waited for a writer, and SIGINT could not stop it)', async () => {
    const fifo = variant('fifo', (dir) => {
      execFileSync('rm', [join(dir, 'summary.json')]);
      execFileSync('mkfifo', [join(dir, 'summary.json')]);
    });
    const list = await get('/api/runs');
    expect(list.body.find((r: { id: string }) => r.id === fifo).status).toBe('running'); // no summary to read: as a run still going
    expect((await view(fifo)).status).toBe(200);
  });

  it('malformed %-escapes are a 404, not a 500', async () => {
    for (const path of ['/api/runs/%E0%A4%A', '/api/runs/%E0%A4%A/view', '/runs/%E0%A4%A/report.html']) expect((await get(path)).status, path).toBe(404);
  });

  it('a live dashboard lives through an upgrade request whose target does not parse (it threw in the upgrade handler and ended the worker)', async () => {
    const live = await serve({ live: true });
    try {
      const raw = (request: string): Promise<string> =>
        new Promise((resolve) => {
          const s = connect(Number(new URL(live.url).port), '127.0.0.1', () => s.write(request));
          let got = '';
          s.on('data', (b) => (got += b)).on('close', () => resolve(got)).on('error', () => resolve(got));
          setTimeout(() => s.end(), 2000);
        });
      const upgrade = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';
      expect(await raw(`GET http://[::1 HTTP/1.1\r\nHost: x\r\n${upgrade}\r\n`)).toBe(''); // the socket is closed
      expect(await fetch(new URL('/api/info', live.url)).then((r) => r.json())).toMatchObject({ live: true });
      // the same target without the upgrade: 400 (it was a 500)
      expect(await raw('GET http://[::1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    } finally {
      await live.close(100);
    }
  });
});
