/** The CLI's side of the dashboard: `--dashboard [port]` and `--listen <host>` of run and eval. */
import { UsageError } from '../scenario/usageError.ts';
import { startDashboard, type Dashboard } from './server.ts';

export interface DashboardFlags {
  /** true: the flag without a port (a free one). */
  dashboard?: number | true;
  listen?: string;
}

/** Start the live dashboard when asked (printing its URL); undefined when not. */
export async function openDashboard(f: DashboardFlags, runsDir: string | undefined, print: (s: string) => void): Promise<Dashboard | undefined> {
  if (f.dashboard === undefined) {
    if (f.listen !== undefined) throw new UsageError('--listen is for --dashboard (the address the dashboard serves on)');
    return undefined;
  }
  if (f.listen !== undefined && !f.listen.trim()) throw new UsageError('--listen: expected a host name or address, e.g. 127.0.0.1 or 0.0.0.0');
  const d = await startDashboard({ host: f.listen ?? '127.0.0.1', port: f.dashboard === true ? 0 : f.dashboard, live: true, runsDir, log: print });
  print(`dashboard: ${d.url}`);
  return d;
}
