import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { formatIds } from '@dmpemu/agents';

const CLI = fileURLToPath(new URL('../../bin/dmpemu.js', import.meta.url));

export interface HostProcess {
  ids: number[];
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

/**
 * Launches agent hosts as child processes (`dmpemu agents`), watches them and kills what is left
 * at the end: no process outlives the coordinator's shutdown.
 */
export class Launcher {
  readonly hosts: HostProcess[] = [];
  constructor(private readonly onExit: (h: HostProcess) => void) {}

  spawnHost(natsUrl: string, runId: string, ids: number[]): HostProcess {
    // DMPEMU_AGENT_NODE_ARGS: extra node flags for agent processes (e.g. --cpu-prof for profiling)
    const nodeArgs = (process.env.DMPEMU_AGENT_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, CLI, 'agents', '--nats', natsUrl, '--run', runId, '--ids', formatIds(ids), '--parent-pid', String(process.pid)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const h: HostProcess = { ids, child, stderr: '' };
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

  hostOf(k: number): HostProcess | undefined {
    return this.hosts.find((h) => h.ids.includes(k));
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
