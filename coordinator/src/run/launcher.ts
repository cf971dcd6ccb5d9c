import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { formatIds } from '@dmpemu/agents';
import { NATS_PASS_ENV, NATS_USER_ENV, RUN_SECRET_ENV, urlCredentials, withoutCredentials } from '@dmpemu/wire';

const CLI = fileURLToPath(new URL('../../../bin/dmpemu.js', import.meta.url));

export interface HostProcess {
  ids: number[];
  /** The host id it registers under. */
  host: string;
  child: ChildProcess;
  /** Set when the process exited: code or signal. */
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  stderr: string;
}

/** Split agents 0..K-1 into hosts of at most `perProcess` agents; each agent in `alone` gets its own. */
export function partition(K: number, perProcess: number, alone: number[] = []): number[][] {
  const single = new Set(alone.filter((k) => k >= 0 && k < K));
  const rest = Array.from({ length: K }, (_, k) => k).filter((k) => !single.has(k));
  const groups: number[][] = [...single].sort((a, b) => a - b).map((k) => [k]);
  for (let a = 0; a < rest.length; a += perProcess) groups.push(rest.slice(a, a + perProcess));
  return groups;
}

/** Agents 0..K-1 in exactly n groups of consecutive ids, sizes differing by at most one (the larger first); n <= K. */
export function partitionInto(K: number, n: number): number[][] {
  return Array.from({ length: n }, (_, h) => {
    const from = h * Math.floor(K / n) + Math.min(h, K % n);
    return Array.from({ length: Math.floor(K / n) + (h < K % n ? 1 : 0) }, (_, i) => from + i);
  });
}

/**
 * The cause a dead host's stderr names: the first line of the error it died of (`Error: ...`,
 * `TypeError [CODE]: ...`, or dmpemu's own one-line `dmpemu: ...`), not the last line (Node prints
 * its version there); else the last line that is not Node's version; undefined when empty.
 */
export function deathCause(stderr: string): string | undefined {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const error = lines.find((l) => /^dmpemu: /.test(l) || /^(?:[A-Za-z_$][\w$]*)?(?:Error|Exception)(?: \[[^\]]+\])?: /.test(l));
  return error ?? lines.filter((l) => !/^Node\.js v\d/.test(l)).at(-1);
}

/**
 * Launches agent hosts as child processes (`dmpemu agents`), watches them and kills what is left
 * at the end: no process outlives the coordinator's shutdown.
 */
export class Launcher {
  readonly hosts: HostProcess[] = [];
  constructor(private readonly onExit: (h: HostProcess) => void) {}

  /** Start `dmpemu agents` for `ids` as host `host`; the run secret goes in its environment, never on its command line. */
  spawnHost(natsUrl: string, runId: string, ids: number[], host: string, secret: string, user?: { user: string; password: string }): HostProcess {
    // DMPEMU_AGENT_NODE_ARGS: extra node flags for agent processes (e.g. --cpu-prof for profiling)
    const nodeArgs = (process.env.DMPEMU_AGENT_NODE_ARGS ?? '').split(' ').filter(Boolean);
    // a user and password in the URL (NATS_URL=nats://user:password@...) go in the environment too, never on the command line (ps shows it)
    const inUrl = user ? undefined : urlCredentials(natsUrl);
    const login = user ?? inUrl;
    const args = [...nodeArgs, CLI, 'agents', '--nats', inUrl ? withoutCredentials(natsUrl) : natsUrl, '--run', runId, '--ids', formatIds(ids), '--host-id', host, '--parent-pid', String(process.pid)];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, [RUN_SECRET_ENV]: secret, ...(login ? { [NATS_USER_ENV]: login.user, [NATS_PASS_ENV]: login.password } : {}) } });
    const h: HostProcess = { ids, host, child, stderr: '' };
    child.stderr!.on('data', (d: Buffer) => {
      if (h.stderr.length < 8192) h.stderr += d.toString();
    });
    child.once('exit', (code, signal) => {
      h.exit = { code, signal };
      this.onExit(h);
    });
    this.hosts.push(h);
    return h;
  }

  /** The process serving agent k: a live one when there is one (a relaunched agent has its old, exited one too). */
  hostOf(k: number): HostProcess | undefined {
    const all = this.hosts.filter((h) => h.ids.includes(k));
    return all.find((h) => !h.exit) ?? all[0];
  }

  /**
   * Wait up to `exitMs` for the hosts to exit by themselves (after a stop message), then SIGTERM
   * the rest, SIGKILL what is still alive `graceMs` later, and wait for every exit.
   */
  async killAll(exitMs = 3000, graceMs = 3000): Promise<void> {
    const live = this.hosts.filter((h) => !h.exit);
    const exits = live.map((h) => new Promise<void>((r) => (h.exit ? r() : h.child.once('exit', () => r()))));
    const all = Promise.all(exits);
    const timers = [
      setTimeout(() => live.forEach((h) => h.exit || h.child.kill('SIGTERM')), exitMs),
      setTimeout(() => live.forEach((h) => h.exit || h.child.kill('SIGKILL')), exitMs + graceMs),
    ];
    await all;
    timers.forEach(clearTimeout);
  }
}
