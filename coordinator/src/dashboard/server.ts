/**
 * startDashboard: the dashboard's server (httpServer.ts) in a worker thread. The run's thread only
 * posts each event to it (a structured copy, in order); the reduction, the JSON and the sockets are
 * the worker's, and it serves pages even while the run's thread is busy for seconds (drawing a
 * large network, the in-process executor, WMMSE on a large network).
 */
import { tsWorker } from '../run/tsWorker.ts';
import type { RunObserver } from '../run/observer.ts';
import { UsageError } from '../scenario/usageError.ts';
import type { ClientStats } from './fanout.ts';
import type { DashboardOptions } from './httpServer.ts';

export type { DashboardOptions } from './httpServer.ts';

export interface Dashboard {
  url: string;
  /** Hand to runScenario / evaluate: it only watches (never throws, never waits). */
  observer: RunObserver;
  /** Per page that connected: messages sent and skipped, catch-ups, the most bytes held for it. */
  stats(): Promise<ClientStats[]>;
  /** Let the pages take the last messages (at most `ms`), then stop serving. */
  close(ms?: number): Promise<void>;
}

export type ToWorker = { type: 'event'; event: Parameters<RunObserver>[0] } | { type: 'stats' } | { type: 'close'; ms: number };
export type FromWorker = { type: 'ready'; url: string } | { type: 'error'; message: string; usage: boolean } | { type: 'log'; message: string } | { type: 'stats'; stats: ClientStats[] } | { type: 'closed' };

const WORKER = new URL('./dashboardWorker.ts', import.meta.url);

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const { log, ...options } = o;
  const w = tsWorker(WORKER, { workerData: options });
  const waiting: ((m: FromWorker) => boolean)[] = [];
  let dead: Error | undefined;
  const next = <T extends FromWorker['type']>(type: T): Promise<Extract<FromWorker, { type: T }>> =>
    new Promise((resolve, reject) => {
      if (dead) return reject(dead);
      waiting.push((m) => {
        if (m.type === type) resolve(m as Extract<FromWorker, { type: T }>);
        else if (m.type === 'error') reject(m.usage ? new UsageError(m.message) : new Error(m.message));
        else return false;
        return true;
      });
    });
  w.on('message', (m: FromWorker) => {
    if (m.type === 'log') return log?.(m.message);
    const i = waiting.findIndex((f) => f(m));
    if (i >= 0) waiting.splice(i, 1);
  });
  const fail = (e: Error): void => {
    dead = new Error(`dashboard: ${e.message}`);
    for (const f of waiting.splice(0)) f({ type: 'error', message: dead.message, usage: false });
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`its worker exited (${code})`)));
  const { url } = await next('ready').catch(async (e) => {
    await w.terminate();
    throw e;
  });
  const post = (m: ToWorker): void => {
    if (!dead) w.postMessage(m);
  };
  return {
    url,
    observer: (event) => post({ type: 'event', event }),
    stats: () => {
      const r = next('stats');
      post({ type: 'stats' });
      return r.then((m) => m.stats);
    },
    close: async (ms = 2000) => {
      if (dead) return;
      const closed = next('closed');
      post({ type: 'close', ms });
      await closed.catch(() => {});
      await w.terminate();
    },
  };
}
