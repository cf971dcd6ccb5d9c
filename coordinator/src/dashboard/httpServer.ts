/**
 * The dashboard's HTTP server: the page (and uPlot, from node_modules), the run's events over a
 * WebSocket (/ws) when it watches a live run, and the finished runs of a directory over a small
 * JSON API (/api/runs...). Everything the page loads comes from here: no CDN. It runs in a worker
 * thread (server.ts), so it answers while the run's thread computes.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { hostInUrl } from '@dmpemu/wire';
import { listenOn } from '../run/listen.ts';
import type { RunObserver } from '../run/observer.ts';
import { Fanout, HIGH_WATER_BYTES, type ClientStats } from './fanout.ts';
import { LiveState } from './liveState.ts';
import { listRuns, runIndex, runReport, runView } from './runFiles.ts';

export interface DashboardOptions {
  host?: string;
  /** 0: a free port. */
  port?: number;
  /** Serve a live run: `observer` feeds it. */
  live?: boolean;
  /** Serve the runs under this directory (the list, their views, their report.html). */
  runsDir?: string;
  /** Bytes a page's socket may hold unsent before it misses messages (fanout.ts). */
  highWaterBytes?: number;
  /** The flag named in errors (--dashboard, --port). */
  flag?: string;
  /** Told once if the dashboard fails on an event (it then stops following the run; the run goes on). */
  log?: (s: string) => void;
}

export interface Served {
  url: string;
  /** Never throws, never waits. */
  observer: RunObserver;
  stats(): ClientStats[];
  /** Let the pages take the last messages (at most `ms`), then stop serving. */
  close(ms?: number): Promise<void>;
}

const PAGE = fileURLToPath(new URL('./page/', import.meta.url));
const UPLOT = dirname(createRequire(import.meta.url).resolve('uplot'));
const STATIC: Record<string, [string, string]> = {
  '/': [join(PAGE, 'index.html'), 'text/html; charset=utf-8'],
  '/style.css': [join(PAGE, 'style.css'), 'text/css; charset=utf-8'],
  '/app.js': [join(PAGE, 'app.js'), 'text/javascript; charset=utf-8'],
  '/charts.js': [join(PAGE, 'charts.js'), 'text/javascript; charset=utf-8'],
  '/network.js': [join(PAGE, 'network.js'), 'text/javascript; charset=utf-8'],
  '/vendor/uPlot.iife.min.js': [join(UPLOT, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
  '/vendor/uPlot.min.css': [join(UPLOT, 'uPlot.min.css'), 'text/css; charset=utf-8'],
};

/** What a served report.html may do: show its inline styles and SVG plots, nothing else (dmpemu's reports hold no script). */
const REPORT_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:";

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** The request's URL, or undefined when its target does not parse (`GET http://[::1`). */
function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://dashboard');
  } catch {
    return undefined;
  }
}

/** A path segment decoded, or undefined when its %-escapes are malformed (`%E0%A4%A`). */
function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

const intParam = (v: string | null): number | undefined => (v !== null && /^\d+$/.test(v) ? Number(v) : undefined);

export async function serve(o: DashboardOptions): Promise<Served> {
  const host = o.host ?? '127.0.0.1';
  const flag = o.flag ?? '--dashboard';
  const state = new LiveState();
  let snapshotCache: string | undefined;
  const snapshot = (): string => (snapshotCache ??= JSON.stringify({ type: 'view', view: state.view() }));
  const fanout = new Fanout(snapshot, o.highWaterBytes ?? HIGH_WATER_BYTES);
  let observerError: string | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = requestUrl(req);
    if (!url) return json(res, 400, { error: 'not a request target' });
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'GET only' });
    const file = STATIC[url.pathname];
    if (file) {
      res.writeHead(200, { 'content-type': file[1], 'cache-control': 'no-cache' });
      createReadStream(file[0]).pipe(res);
      return;
    }
    if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
    if (url.pathname === '/api/info') return json(res, 200, { live: !!o.live, runs: !!o.runsDir, observerError });
    const m = /^\/api\/runs(?:\/([^/]+)(?:\/(view))?)?$/.exec(url.pathname);
    if (m && o.runsDir) {
      const [, raw, view] = m;
      if (!raw) return json(res, 200, listRuns(o.runsDir));
      const id = decoded(raw);
      if (id === undefined) return json(res, 404, { error: `no run ${raw}` });
      if (!view) {
        const index = await runIndex(o.runsDir, id);
        return index ? json(res, 200, index) : json(res, 404, { error: `no run ${raw}` });
      }
      const network = url.searchParams.get('network') ?? '';
      const instance = intParam(url.searchParams.get('instance')) ?? 0;
      const v = await runView(o.runsDir, id, network, instance, intParam(url.searchParams.get('point')));
      return v ? json(res, 200, v) : json(res, 404, { error: `run ${raw} has no network ${network}` });
    }
    const r = /^\/runs\/([^/]+)\/report\.html$/.exec(url.pathname);
    const id = r ? decoded(r[1]) : undefined;
    const report = id !== undefined && o.runsDir ? runReport(o.runsDir, id) : undefined;
    if (report) {
      // a report is a file of the run directory, not the dashboard's page: in an opaque origin (sandbox) and without scripts, whatever it holds
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': REPORT_CSP });
      res.end(readFileSync(report));
      return;
    }
    json(res, 404, { error: `no ${url.pathname}` });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) json(res, 500, { error: (e as Error).message });
      else res.destroy();
    });
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  server.on('upgrade', (req, socket, head) => {
    if (!o.live || requestUrl(req)?.pathname !== '/ws') return void socket.destroy(); // a target that does not parse threw here and ended the worker
    wss.handleUpgrade(req, socket, head, (ws) => fanout.add(ws));
  });
  await listenOn(server, host, o.port ?? 0, `${flag} ${o.port}`);
  server.on('error', () => {});
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  const shown = hostInUrl(host);

  const observer: RunObserver = (e) => {
    if (observerError) return;
    try {
      const m = state.apply(e);
      snapshotCache = undefined;
      if (!m || !fanout.size) return;
      const text = JSON.stringify(m);
      if (m.type === 'view') snapshotCache = text; // the same as the snapshot now
      fanout.publish(text);
    } catch (err) {
      observerError = (err as Error).message; // the dashboard stops; the run goes on
      o.log?.(`dashboard: stopped following the run: ${observerError}`);
    }
  };

  return {
    url: `http://${shown}:${port}/`,
    observer,
    stats: () => fanout.stats(),
    close: async (ms = 2000) => {
      await fanout.close(ms);
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
