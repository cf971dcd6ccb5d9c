import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInProcess } from '@dmpemu/dmp';
import { formatIds } from '@dmpemu/agents';
import { generateInstance, Rng } from '@dmpemu/wireless';
import { Coordinator } from '../coordinator/src/run/coordinator.ts';
import { NatsServer } from '../coordinator/src/run/natsServer.ts';

const CLI = new URL('../bin/dmpemu.js', import.meta.url).pathname;
const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/**
 * Three hosts that are really apart: this (root) namespace, with the coordinator and a nats-server
 * node, and two namespaces of the test's own, each with a nats-server node and an agent host, all
 * on one bridge (in a fourth namespace) through veth pairs. The nodes reach each other's route port
 * through a relay in front of it, in its namespace (test/fixtures/delayRelay.mjs, advertised as the
 * node's route address). `delay(ms)` delays every packet leaving each of the three hosts by `ms` with
 * `tc netem` where the kernel has it; elsewhere (no netem qdisc: a Firecracker kernel) each relay
 * holds what it forwards for `ms`: every route connection crosses one relay, so each hop between two
 * hosts is delayed once, as with netem on the sender.
 */
class Testbed {
  readonly tag = `dmp${process.pid % 10000}`;
  readonly subnet = `10.201.${(process.pid % 250) + 1}`;
  readonly ns = { br: `${this.tag}br`, a: `${this.tag}a`, b: `${this.tag}b` };
  readonly addr = { root: `${this.subnet}.1`, a: `${this.subnet}.2`, b: `${this.subnet}.3` };

  /** Why network namespaces cannot be made here (undefined: they can). */
  static unavailable(): string | undefined {
    if (process.getuid?.() !== 0) return 'network namespaces need root';
    try {
      execFileSync('ip', ['-V'], { stdio: 'ignore' });
      execFileSync('tc', ['-V'], { stdio: 'ignore' });
    } catch {
      return 'iproute2 (ip, tc) is not installed';
    }
    const probe = `dmpprobe${process.pid % 10000}`;
    try {
      ip('netns', 'add', probe);
      ip('netns', 'del', probe);
    } catch (e) {
      return `cannot create a network namespace: ${String((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split('\n')[0]}`;
    }
    return undefined;
  }

  /** Why `tc netem` cannot delay packets here (undefined: it can); tried on a veth in a namespace of its own. */
  static noNetem(): string | undefined {
    const probe = `dmpnetem${process.pid % 10000}`;
    try {
      ip('netns', 'add', probe);
      ip('netns', 'exec', probe, 'ip', 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1');
      execFileSync('ip', ['netns', 'exec', probe, 'tc', 'qdisc', 'add', 'dev', 'p0', 'root', 'netem', 'delay', '1ms'], { stdio: ['ignore', 'pipe', 'pipe'] });
      return undefined;
    } catch (e) {
      return `tc netem cannot delay packets on this kernel: ${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim().split('\n')[0]}`;
    } finally {
      try {
        ip('netns', 'del', probe);
      } catch {
        /* not made */
      }
    }
  }

  readonly relays: ChildProcess[] = [];
  /** netem where it delays packets here, else the relays. */
  readonly delayBy: 'netem' | 'relay' = noNetem === undefined ? 'netem' : 'relay';

  /** A relay in `ns` (undefined: this one) listening on `addr:listen`, forwarding to `addr:target`. */
  async relay(ns: string | undefined, addr: string, listen: number, target: number): Promise<void> {
    const args = [RELAY, addr, String(listen), addr, String(target)];
    const child = ns ? spawn('ip', ['netns', 'exec', ns, process.execPath, ...args], { stdio: ['pipe', 'pipe', 'inherit'] }) : spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    this.relays.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`the relay in ${ns ?? 'the root namespace'} exited (${code})`)));
    });
  }

  up(): void {
    const { br, a, b } = this.ns;
    for (const n of [br, a, b]) ip('netns', 'add', n);
    ip('netns', 'exec', br, 'ip', 'link', 'add', 'bridge0', 'type', 'bridge');
    ip('netns', 'exec', br, 'ip', 'link', 'set', 'bridge0', 'up');
    const join = (inNs: string | undefined, dev: string, peer: string, addr: string): void => {
      ip('link', 'add', dev, 'type', 'veth', 'peer', 'name', peer);
      ip('link', 'set', peer, 'netns', br);
      ip('netns', 'exec', br, 'ip', 'link', 'set', peer, 'master', 'bridge0');
      ip('netns', 'exec', br, 'ip', 'link', 'set', peer, 'up');
      if (inNs) ip('link', 'set', dev, 'netns', inNs);
      const run = (...args: string[]): string => (inNs ? ip('netns', 'exec', inNs, 'ip', ...args) : ip(...args));
      run('addr', 'add', `${addr}/24`, 'dev', dev);
      run('link', 'set', dev, 'up');
      if (inNs) run('link', 'set', 'lo', 'up');
    };
    join(undefined, `${this.tag}r`, `${this.tag}rp`, this.addr.root);
    join(a, `${this.tag}av`, `${this.tag}ap`, this.addr.a);
    join(b, `${this.tag}bv`, `${this.tag}bp`, this.addr.b);
  }

  /** Delay every packet leaving root, a and b by `ms` (0: no delay). */
  delay(ms: number): void {
    if (this.delayBy === 'relay') {
      for (const r of this.relays) r.stdin!.write(`${ms}\n`);
      return;
    }
    const set = (pre: string[], dev: string): void => {
      execFileSync(pre[0] ?? 'tc', [...pre.slice(1), ...(pre.length ? ['tc'] : []), 'qdisc', 'replace', 'dev', dev, 'root', 'netem', 'delay', `${ms}ms`], { stdio: 'ignore' });
    };
    set([], `${this.tag}r`);
    set(['ip', 'netns', 'exec', this.ns.a], `${this.tag}av`);
    set(['ip', 'netns', 'exec', this.ns.b], `${this.tag}bv`);
  }

  down(): void {
    for (const r of this.relays.splice(0)) r.kill('SIGKILL');
    for (const cmd of [['link', 'del', `${this.tag}r`], ['netns', 'del', this.ns.a], ['netns', 'del', this.ns.b], ['netns', 'del', this.ns.br]]) {
      try {
        ip(...cmd);
      } catch {
        /* already gone */
      }
    }
  }
}

const RELAY = new URL('./fixtures/delayRelay.mjs', import.meta.url).pathname;
const why = Testbed.unavailable();
const noNetem = why ?? Testbed.noNetem();

describe('hosts in network namespaces of their own, joined by veth pairs', () => {
  const bed = new Testbed();
  const routePort = 6250, relayPort = 6251, clientPort = 4250;
  const nodes: NatsServer[] = [];
  const hosts: ChildProcess[] = [];
  let c: Coordinator | undefined;
  const inst = generateInstance('d2d', new Rng(111), { K: 8, field: 250, csiRange: 150 });
  const spec = { name: 'wmmse-dmp', iterations: 10 };
  const perRound = (r: { wallMs: number; rounds: unknown[] }): number => r.wallMs / r.rounds.length;

  beforeAll(async () => {
    if (why) return;
    bed.down();
    bed.up();
    const routes = [bed.addr.root, bed.addr.a, bed.addr.b].map((h) => `nats://${h}:${relayPort}`);
    await bed.relay(undefined, bed.addr.root, relayPort, routePort);
    await bed.relay(bed.ns.a, bed.addr.a, relayPort, routePort);
    await bed.relay(bed.ns.b, bed.addr.b, relayPort, routePort);
    const node = (name: string, host: string, netns?: string): Promise<NatsServer> =>
      NatsServer.start(undefined, { host, port: clientPort, cluster: { name, port: routePort, routes, advertise: `${host}:${relayPort}` }, netns });
    nodes.push(await node('root', bed.addr.root), await node('a', bed.addr.a, bed.ns.a), await node('b', bed.addr.b, bed.ns.b));
    c = await Coordinator.start({ broker: nodes[0].url, registerTimeoutS: 30 });
    const secretFile = join(mkdtempSync(join(tmpdir(), 'dmpemu-netns-')), 'secret');
    writeFileSync(secretFile, c.secret);
    const external = await c.externalHosts(8, 4);
    external.forEach((h, i) => {
      const ns = i === 0 ? bed.ns.a : bed.ns.b;
      hosts.push(spawn('ip', ['netns', 'exec', ns, process.execPath, CLI, 'agents', '--nats', nodes[i + 1].url, '--run', c!.runId, '--ids', formatIds(h.ids), '--host-id', h.host, '--secret-file', secretFile], { stdio: 'ignore' }));
    });
    await c.waitRegistered(8, 30);
  }, 60_000);

  afterAll(async () => {
    await c?.shutdown();
    for (const h of hosts) if (h.exitCode === null) h.kill('SIGKILL');
    await Promise.all(nodes.map((n) => n.dispose()));
    if (!why) bed.down();
  });

  it.skipIf(why !== undefined)(`a cluster node and an agent host in each namespace, the coordinator in this one: the run completes equal to the in-process executor, barrier and local${why ? ` (skipped: ${why})` : ''}`, async () => {
    const ref = runInProcess(inst, spec).history;
    for (const clock of ['barrier', 'local'] as const) {
      const r = await c!.runJob(inst, spec, { roundDeadlineMs: 5000, policy: 'skip', clock });
      expect(r.rounds.map((x) => x.objective)).toEqual(ref);
    }
  });

  it.skipIf(why !== undefined)(`with a delay on every link (${bed.delayBy === 'netem' ? 'tc netem' : `a delaying relay, since ${noNetem}`}) a round takes at least the added delay per hop it crosses${why ? ` (skipped: ${why})` : ''}`, async () => {
    const ref = runInProcess(inst, spec).history;
    const plain = await c!.runJob(inst, spec, { roundDeadlineMs: 5000, policy: 'skip' });
    const ms = 20;
    bed.delay(ms);
    try {
      const delayed = await c!.runJob(inst, spec, { roundDeadlineMs: 5000, policy: 'skip' });
      const local = await c!.runJob(inst, spec, { roundDeadlineMs: 5000, policy: 'skip', clock: 'local' });
      for (const r of [delayed, local]) expect(r.rounds.map((x) => x.objective)).toEqual(ref);
      // a barrier round crosses at least two delayed hops (the round start out of root, the broadcasts between a and b, the
      // reports back: three); a local round at least one (the broadcasts between a and b)
      expect(perRound(delayed) - perRound(plain)).toBeGreaterThanOrEqual(2 * ms);
      expect(perRound(local)).toBeGreaterThanOrEqual(ms);
    } finally {
      bed.delay(0);
    }
  });
});
