import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import { hostInUrl } from '@dmpemu/wire';
import { authorizationBlock, coordinatorUser, type BrokerUser } from './access.ts';
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
export interface NatsServerOptions {
  /** Require credentials: the coordinator's user, then one per agent host (setUser); anyone else is refused. */
  auth?: boolean;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default a free one). */
  port?: number;
  /**
   * A node of a cluster: its name, its route port, and the route URLs of every node (itself included is fine);
   * `advertise` (host:port) is the route address the other nodes learn for it, when they reach it through a relay.
   */
  cluster?: { name: string; port: number; routes: string[]; advertise?: string };
  /** Run inside this Linux network namespace (`ip netns exec`; tests of hosts that are really apart). */
  netns?: string;
  /** Configuration text of the user's own (e.g. the authorization block of `dmpemu nats-config`). */
  config?: string;
}

export class NatsServer {
  private child: ChildProcess | undefined;
  private readonly users = new Map<string, BrokerUser>();
  /** With auth: the coordinator's user. */
  readonly coordinator: BrokerUser | undefined;
  private cluster: NatsServerOptions['cluster'];
  private netns: string | undefined;
  private constructor(readonly bin: string, readonly dir: string, readonly port: number, readonly host: string, auth: boolean) {
    if (auth) {
      this.coordinator = coordinatorUser();
      this.users.set(this.coordinator.user, this.coordinator);
    }
  }

  get url(): string {
    return `nats://${this.host === '0.0.0.0' ? '127.0.0.1' : this.host === '::' ? '[::1]' : hostInUrl(this.host)}:${this.port}`;
  }

  get auth(): boolean {
    return this.coordinator !== undefined;
  }

  private get configFile(): string {
    return join(this.dir, 'nats.conf');
  }

  private extra = '';

  /** Written whole and renamed into place: a reload under way never reads a half-written file (it dropped clients as unauthorized). */
  private writeConfig(): void {
    writeFileSync(`${this.configFile}.tmp`, (this.auth ? authorizationBlock([...this.users.values()]) : '') + this.extra);
    renameSync(`${this.configFile}.tmp`, this.configFile);
  }

  /**
   * Add or change users and make the running server apply it (SIGHUP reloads the configuration);
   * a new user can log in when this resolves. Permissions of connected clients change with the
   * reload, which may land a moment later: tighten only what those clients will not use.
   */
  async setUsers(users: BrokerUser[]): Promise<void> {
    if (!this.auth) throw new Error('setUsers: this nats-server runs without credentials');
    const fresh = users.filter((u) => !this.users.has(u.user));
    for (const u of users) this.users.set(u.user, u);
    this.writeConfig();
    this.child?.kill('SIGHUP');
    for (const u of fresh) await this.canLogIn(u);
  }

  private async canLogIn(u: BrokerUser): Promise<void> {
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        const nc = await connect({ servers: this.url, user: u.user, pass: u.password, reconnect: false, timeout: 1000 });
        await nc.close();
        return;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`nats-server did not take the new user ${u.user} within 5 s: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  static async start(bin = findNatsServer(), o: NatsServerOptions = {}): Promise<NatsServer> {
    if (!bin) throw new Error('nats-server not found on the PATH or at /usr/sbin/nats-server');
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-nats-'));
    const host = o.host ?? '127.0.0.1';
    const probe = new NatsServer(bin, dir, o.port ?? -1, host, o.auth ?? false);
    probe.extra = o.config ?? '';
    probe.writeConfig();
    const child = spawnServer(bin, dir, o.port ?? -1, host, probe.configFile, o.cluster, o.netns);
    watch(child, dir);
    let port: number;
    try {
      port = await waitForPort(child, dir);
    } catch (e) {
      // it exited (a port in use) or never listened: nothing of it stays behind
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    const s = new NatsServer(bin, dir, port, host, false);
    Object.assign(s, { coordinator: probe.coordinator });
    s.cluster = o.cluster;
    s.extra = probe.extra;
    s.netns = o.netns;
    for (const [k, v] of probe.users) s.users.set(k, v);
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
    const child = spawnServer(this.bin, this.dir, this.port, this.host, this.configFile, this.cluster, this.netns);
    watch(child, this.dir);
    await waitForPort(child, this.dir);
    this.child = child;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function spawnServer(bin: string, dir: string, port: number, host: string, config: string, cluster?: NatsServerOptions['cluster'], netns?: string): ChildProcess {
  const routes = cluster ? ['--server_name', cluster.name, '--cluster_name', 'dmpemu', '--cluster', `nats://${hostInUrl(host)}:${cluster.port}`, '--routes', cluster.routes.join(','), ...(cluster.advertise ? ['--cluster_advertise', cluster.advertise] : [])] : [];
  const args = ['-c', config, '-a', host, '-p', String(port), '--ports_file_dir', dir, ...routes];
  // `ip netns exec` execs the server: the child's pid is the server's
  return netns ? spawn('ip', ['netns', 'exec', netns, bin, ...args], { stdio: 'ignore' }) : spawn(bin, args, { stdio: 'ignore' });
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
