import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The nats-server binary: on the PATH, else /usr/sbin/nats-server; undefined when neither exists. */
export function findNatsServer(): string | undefined {
  const candidates = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'nats-server')), '/usr/sbin/nats-server'];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/**
 * A nats-server of our own on a free loopback port (tests, the embedded default), without
 * JetStream (nothing here uses it, and a client's stream on `dmpemu.>` would answer requests). It
 * can be stopped and started again on the same port (broker restarts). A watchdog process kills
 * it and removes its directory when the process that started it is gone, even by SIGKILL.
 */
export class NatsServer {
  private child: ChildProcess | undefined;
  private constructor(readonly bin: string, readonly dir: string, readonly port: number) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  static async start(bin = findNatsServer()): Promise<NatsServer> {
    if (!bin) throw new Error('nats-server not found on the PATH or at /usr/sbin/nats-server');
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-nats-'));
    const child = spawnServer(bin, dir, -1);
    watch(child, dir);
    const port = await waitForPort(child, dir);
    const s = new NatsServer(bin, dir, port);
    s.child = child;
    return s;
  }

  /** Stop the server (SIGTERM, then SIGKILL after 2 s). */
  async stop(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (c && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(t);
    }
  }

  /** Start again on the same port after `stop()`. */
  async restart(): Promise<void> {
    await this.stop();
    for (const f of readdirSync(this.dir)) if (f.endsWith('.ports')) rmSync(join(this.dir, f));
    const child = spawnServer(this.bin, this.dir, this.port);
    watch(child, this.dir);
    await waitForPort(child, this.dir);
    this.child = child;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function spawnServer(bin: string, dir: string, port: number): ChildProcess {
  return spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '--ports_file_dir', dir], { stdio: 'ignore' });
}

/**
 * The watchdog: a detached node process that checks twice a second whether the parent (this
 * process) and the server still exist; when the parent is gone it kills the server and removes
 * its directory; when the server is gone (stopped, restarted) it exits.
 */
const WATCHDOG = `
const [parent, server, dir] = process.argv.slice(1);
const alive = (pid) => { try { process.kill(Number(pid), 0); return true; } catch { return false; } };
const timer = setInterval(() => {
  if (!alive(server)) process.exit(0);
  if (alive(parent)) return;
  clearInterval(timer);
  try { process.kill(Number(server), 'SIGTERM'); } catch {}
  setTimeout(() => {
    try { process.kill(Number(server), 'SIGKILL'); } catch {}
    require('node:fs').rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }, 1000);
}, 500);
`;

function watch(server: ChildProcess, dir: string): void {
  if (server.pid === undefined) return;
  spawn(process.execPath, ['-e', WATCHDOG, String(process.pid), String(server.pid), dir], { stdio: 'ignore', detached: true }).unref();
}

async function waitForPort(child: ChildProcess, dir: string): Promise<number> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`nats-server exited with code ${child.exitCode} before listening`);
    const f = readdirSync(dir).find((n) => n.endsWith('.ports'));
    if (f) {
      try {
        const url: string = JSON.parse(readFileSync(join(dir, f), 'utf8')).nats[0];
        return Number(new URL(url).port);
      } catch {
        /* partially written: retry */
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  throw new Error('nats-server did not report its port within 10 s');
}
