/** The dashboard's worker thread (server.ts): serves, and applies the events the run's thread posts. */
import { parentPort, workerData } from 'node:worker_threads';
import { UsageError } from '../scenario/usageError.ts';
import { serve, type DashboardOptions } from './httpServer.ts';
import type { FromWorker, ToWorker } from './server.ts';

const port = parentPort!;
const send = (m: FromWorker): void => port.postMessage(m);
try {
  const s = await serve({ ...(workerData as DashboardOptions), log: (message) => send({ type: 'log', message }) });
  port.on('message', (m: ToWorker) => {
    if (m.type === 'event') s.observer(m.event);
    else if (m.type === 'stats') send({ type: 'stats', stats: s.stats() });
    else void s.close(m.ms).then(() => send({ type: 'closed' }));
  });
  send({ type: 'ready', url: s.url });
} catch (e) {
  send({ type: 'error', message: (e as Error).message, usage: e instanceof UsageError });
}
