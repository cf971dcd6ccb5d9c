import { hostname } from 'node:os';
import { COORDINATOR_TIMEOUT_S, NATS_PASS_ENV, NATS_USER_ENV, NatsTransport } from '@dmpemu/wire';
import { MAX_AGENTS } from '@dmpemu/wireless';
import { AgentHost } from './host.ts';

export interface AgentProcessOptions {
  nats: string;
  run: string;
  ids: number[];
  /** The host's id (default: this machine's name and pid). */
  host?: string;
  /** The run secret (hex) the coordinator gave this host. */
  secret: string;
  /** Broker credentials (default: DMPEMU_NATS_USER / DMPEMU_NATS_PASS, else the URL's). */
  user?: string;
  pass?: string;
  /** Exit when this process (the coordinator that launched us) is gone. */
  parentPid?: number;
  /** Without parentPid: leave with an error when the coordinator, once heard, was silent this long (default COORDINATOR_TIMEOUT_S). */
  coordinatorTimeoutS?: number;
  verbose?: boolean;
}

/**
 * Body of `dmpemu agent` / `dmpemu agents`: connect, serve the given agents until the coordinator
 * says stop, SIGTERM/SIGINT arrives or the connection closes; then drain and return. Throws, after
 * draining, when the coordinator went silent (an external host: parentPid not given).
 */
export async function runAgentProcess(o: AgentProcessOptions): Promise<string> {
  const log = o.verbose ? (s: string) => process.stderr.write(`[agents ${o.ids[0]}..${o.ids.at(-1)}] ${s}\n`) : () => {};
  const host = o.host ?? defaultHostId();
  // the broker user: given, or handed over by the coordinator that launched this host (the URL may carry one too)
  const user = o.user ?? process.env[NATS_USER_ENV], pass = o.pass ?? process.env[NATS_PASS_ENV];
  const bus = await NatsTransport.connect(o.nats, `dmpemu-agents-${o.run}-${host}`, { onError: (e) => log(`handler error: ${(e as Error).message}`), user, pass });
  const coordinatorTimeoutMs = o.parentPid === undefined ? (o.coordinatorTimeoutS ?? COORDINATOR_TIMEOUT_S) * 1000 : undefined;
  const agents = new AgentHost(bus, { runId: o.run, host, ids: o.ids, secret: o.secret, coordinatorTimeoutMs, log });
  let onSignal!: (reason: string) => void;
  const signalled = new Promise<string>((r) => (onSignal = r));
  const term = (): void => onSignal('SIGTERM');
  const int = (): void => onSignal('SIGINT');
  process.once('SIGTERM', term);
  process.once('SIGINT', int);
  const orphaned = new Promise<string>((resolve) => {
    if (o.parentPid === undefined) return;
    const watch = setInterval(() => {
      try {
        process.kill(o.parentPid!, 0);
      } catch {
        clearInterval(watch);
        resolve(`parent process ${o.parentPid} is gone`);
      }
    }, 500);
    watch.unref();
  });
  let abandoned: string | undefined;
  const reason = await Promise.race([agents.stopped, signalled, orphaned, bus.closed().then(() => 'connection closed'), agents.abandoned.then((r) => (abandoned = r))]);
  process.off('SIGTERM', term);
  process.off('SIGINT', int);
  await agents.close();
  await bus.close();
  log(`exit: ${reason}`);
  if (abandoned !== undefined) throw new Error(abandoned);
  return reason;
}

/** A host id from this machine's name and the process id (letters, digits, '-', '_'). */
export function defaultHostId(): string {
  return `${hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40)}-${process.pid}`;
}

/** Agents one host may serve (the largest network dmpemu runs). */
export const MAX_HOST_AGENTS = 10_000;

/** The largest agent id of any network (a cell-free one of 10,000 access points and 10,000 users: 0..19,999). */
export const MAX_AGENT_ID = MAX_AGENTS - 1;

/** Parse an id list: "3", "0-49", "1,4,7-9"; each id at most MAX_AGENT_ID and listed once. */
export function parseIds(spec: string): number[] {
  const ids: number[] = [];
  const seen = new Set<number>();
  for (const part of spec.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`agent ids ${JSON.stringify(spec)}: expected a list like 0-49 or 1,4,7-9`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new Error(`agent ids ${JSON.stringify(part)}: range end below its start`);
    if (ids.length + b - a + 1 > MAX_HOST_AGENTS) throw new Error(`agent ids ${JSON.stringify(spec)}: more than ${MAX_HOST_AGENTS} agents`);
    if (b > MAX_AGENT_ID) throw new Error(`agent ids ${JSON.stringify(part)}: ids are at most ${MAX_AGENT_ID}`); // 9007199254740992 + 1 is itself: the loop never ended
    for (let k = a; k <= b; k++) {
      if (seen.has(k)) throw new Error(`agent ids ${JSON.stringify(spec)}: ${k} is listed twice`);
      seen.add(k);
      ids.push(k);
    }
  }
  return ids;
}

/** The inverse of parseIds: [0, 1, 2, 4, 5] -> "0-2,4-5". */
export function formatIds(ids: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ids.length; ) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j] + 1) j++;
    parts.push(i === j ? String(ids[i]) : `${ids[i]}-${ids[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
