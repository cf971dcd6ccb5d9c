import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../bin/dmpemu.js', import.meta.url));

export interface HostProcess {
  ids: number[];
  child: ChildProcess;
  /** Set when the process exited: code or signal. */
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  stderr: string;
}

/** Split agents 0..K-1 into hosts of at most `perProcess` agents. */
export function partition(K: number, perProcess: number): number[][] {
  const groups: number[][] = [];
  for (let a = 0; a < K; a += perProcess) groups.push(Array.from({ length: Math.min(perProcess, K - a) }, (_, i) => a + i));
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
    const range = ids.length === 1 ? String(ids[0]) : `${ids[0]}-${ids.at(-1)}`;
    const child = spawn(process.execPath, [CLI, 'agents', '--nats', natsUrl, '--run', runId, '--ids', range, '--parent-pid', String(process.pid)], {
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

  /** SIGTERM every live host, SIGKILL what is still alive after `graceMs`, and wait for all exits. */
  async killAll(graceMs = 3000): Promise<void> {
    const live = this.hosts.filter((h) => !h.exit);
    const exits = live.map((h) => new Promise<void>((r) => (h.exit ? r() : h.child.once('exit', () => r()))));
    for (const h of live) h.child.kill('SIGTERM');
    const timer = setTimeout(() => live.forEach((h) => h.exit || h.child.kill('SIGKILL')), graceMs);
    await Promise.all(exits);
    clearTimeout(timer);
  }
}
