import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { NatsServer } from '../coordinator/src/run/natsServer.ts';
import { replyWithoutCredentials } from './natsProbe.ts';
import { describe, expect, it } from 'vitest';
import { runInProcess } from '@dmpemu/dmp';
import { MemoryBus, MemoryTransport, newRunSecret, Sealer, subjects } from '@dmpemu/wire';
import { AgentHost } from '@dmpemu/agents';
import { localViews, rayleighInstance, Rng } from '@dmpemu/wireless';
import { closeBroker, Coordinator, openBroker } from '../coordinator/src/run/coordinator.ts';
import type { BrokerUser } from '../coordinator/src/run/access.ts';

/** The permission errors the server reports to a client. */
function violations(nc: NatsConnection): string[] {
  const seen: string[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'error') seen.push(String((s as { error: Error }).error.message));
  })();
  return seen;
}

describe('access control on the embedded broker', () => {
  it('refuses a client without credentials; a host can neither read another host\'s configurations nor speak as another agent; the run completes', async () => {
    const broker = await openBroker(undefined);
    if (broker.kind !== 'nats') throw new Error('needs nats-server');
    try {
      expect(await replyWithoutCredentials(broker.url)).toMatch(/-ERR 'Authorization Violation'/);
      const inst = rayleighInstance(new Rng(91), { K: 6, snrDb: 10 });
      inst.csi = new Uint8Array(36);
      for (let j = 0; j < 6; j++) for (let k = 0; k < 6; k++) if (j !== k && (j + k) % 2 === 1) inst.csi[j * 6 + k] = 1;
      const c = await Coordinator.start({ broker });
      try {
        await c.launch(6, 3); // h0: agents 0-2, h1: 3-5
        await c.limitToNeighbours([localViews(inst)]);
        const h0 = (c as unknown as { hostUsers: Map<string, { user: BrokerUser }> }).hostUsers.get('h0')!.user;
        // the reload limitToNeighbours triggered may be landing: a dial lost in it is retried, as the coordinator's own login check does
        const nc = await connect({ servers: broker.url, user: h0.user, pass: h0.password, timeout: 2000, waitOnFirstConnect: true });
        const errors = violations(nc);
        const s = subjects(c.runId);
        const spied: string[] = [];
        nc.subscribe(s.configure(4), { callback: (e, m) => void (e ? undefined : spied.push(m.subject)) }); // h1's agent: CSI
        nc.subscribe(s.broadcast(5), { callback: () => {} }); // not a neighbour of 0-2? 5 is heard by 0 and 2 (odd sums): allowed
        nc.publish(s.broadcast(4), new Uint8Array([1])); // speaking as h1's agent
        nc.publish(s.control, new Uint8Array([1])); // only the coordinator starts rounds
        await nc.flush();
        const r = await c.runJob(inst, { name: 'wmmse-dmp', iterations: 5 }, { roundDeadlineMs: 5000, policy: 'skip' });
        expect(r.rounds.map((x) => x.objective)).toEqual(runInProcess(inst, { name: 'wmmse-dmp', iterations: 5 }).history);
        await nc.flush();
        expect(spied).toEqual([]);
        expect(errors.some((e) => /Permissions Violation for Subscription to "[^"]*\.cfg\.4"/.test(e))).toBe(true);
        expect(errors.some((e) => /Permissions Violation for Publish to "[^"]*\.b\.4"/.test(e))).toBe(true);
        expect(errors.some((e) => /Permissions Violation for Publish to "[^"]*\.ctl"/.test(e))).toBe(true);
        expect(errors.some((e) => /\.b\.5"/.test(e))).toBe(false);
        expect(r.counters.unauthenticated + r.counters.malformedData).toBe(0); // nothing reached anyone
        await nc.close();
      } finally {
        await c.shutdown();
      }
    } finally {
      await closeBroker(broker);
    }
  });

  it('a host that registers agents of another host (it holds the run secret, so it can seal the claim) is refused: the job is untouched, and a registration timeout names the refused claim', async () => {
    const broker = await openBroker(undefined);
    if (broker.kind !== 'nats') throw new Error('needs nats-server');
    try {
      const inst = rayleighInstance(new Rng(92), { K: 6, snrDb: 10 });
      const c = await Coordinator.start({ broker }); // launching hosts takes seconds on a loaded machine: the default wait
      try {
        await c.launch(6, 3); // h0: agents 0-2, h1: 3-5
        const h0 = (c as unknown as { hostUsers: Map<string, { user: BrokerUser }> }).hostUsers.get('h0')!.user;
        const nc = await connect({ servers: broker.url, user: h0.user, pass: h0.password, timeout: 2000, waitOnFirstConnect: true });
        const s = subjects(c.runId);
        // h0's own subject, sealed with the run secret: before, the coordinator took h1's agents as h0's and dropped h1's reports
        nc.publish(s.register('h0'), new Sealer(c.secret).seal(s.register('h0'), { type: 'register', host: 'h0', agents: [0, 1, 2, 3, 4, 5], pid: 1, hostname: 'forger' }));
        await nc.flush();
        await new Promise((r) => setTimeout(r, 200));
        const spec = { name: 'wmmse-dmp', iterations: 4 };
        const r = await c.runJob(inst, spec, { roundDeadlineMs: 2000, policy: 'skip' });
        expect(r.rounds.map((x) => x.objective)).toEqual(runInProcess(inst, spec).history);
        expect(r.rounds.every((x) => x.reported === 6)).toBe(true);
        await nc.close();
      } finally {
        await c.shutdown();
      }
      // external hosts, one started with the wrong ids (dmpemu agents --creds h0.creds --ids 0-5): the registration timeout names its refused claim
      const ext = await Coordinator.start({ broker });
      try {
        const [h0] = await ext.externalHosts(6, 3);
        const nc = await connect({ servers: broker.url, user: h0.user!.user, pass: h0.user!.password, timeout: 2000, waitOnFirstConnect: true });
        const s = subjects(ext.runId);
        nc.publish(s.register('h0'), new Sealer(ext.secret).seal(s.register('h0'), { type: 'register', host: 'h0', agents: [0, 1, 2, 3, 4, 5], pid: 1, hostname: 'wrong-ids' }));
        await nc.flush();
        await expect(ext.waitRegistered(6, 1)).rejects.toThrow('6 agent(s) did not register within 1 s: 0, 1, 2, 3, 4, 5 (host h0 claimed agent(s) 3-5, but its broker user serves 0-2: refused)');
        await nc.close();
      } finally {
        await ext.shutdown();
      }
    } finally {
      await closeBroker(broker);
    }
  });

  it('a host started with another run\'s secret: the registration timeout says its registrations did not carry the run\'s seal (it only counted them unauthenticated)', async () => {
    const bus = new MemoryBus();
    const c = await Coordinator.start({ broker: { kind: 'memory', bus }, runId: 'sealed' });
    const host = new AgentHost(new MemoryTransport(bus), { runId: 'sealed', host: 'elsewhere', ids: [0, 1], secret: newRunSecret() });
    try {
      await expect(c.waitRegistered(2, 1.5)).rejects.toThrow("2 agent(s) did not register within 1.5 s: 0, 1 (registrations from host(s) elsewhere did not carry this run's seal: started with another run's secret?)");
    } finally {
      await host.close();
      await c.shutdown();
    }
  });

  it('dmpemu nats-config writes what a broker the user runs needs; the run goes through it with external hosts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-natscfg-'));
    const scenario = join(dir, 's.yaml');
    writeFileSync(scenario, ['name: own-broker', 'networks:', '  - { model: d2d, K: 6, field: 200, csiRange: 120 }', 'algorithms:', '  - { name: wmmse-dmp, iterations: 5 }', 'runtime: { agentsPerProcess: 3, registerTimeoutS: 30 }', `outputs: { dir: ${join(dir, 'runs')} }`].join('\n'));
    const out = join(dir, 'cfg');
    const cfg = await dmpemu(['nats-config', scenario, '--run-id', 'own1', '--out', out]);
    expect(cfg.code, cfg.stderr).toBe(0);
    const [, coordinatorLine] = cfg.stdout.split('\n');
    const password = /nats:\/\/coordinator:([^@]+)@/.exec(coordinatorLine)![1];
    const server = await NatsServer.start(undefined, { config: readFileSync(join(out, 'authorization.conf'), 'utf8') });
    try {
      expect(await replyWithoutCredentials(server.url)).toMatch(/-ERR 'Authorization Violation'/);
      const url = server.url.replace('nats://', `nats://coordinator:${password}@`);
      // hosts launched with such a URL: the password goes in their environment, not on their command line (ps showed it)
      const launched = await Coordinator.start({ broker: url });
      try {
        await launched.launch(6, 3);
        for (const pid of new Set(launched.agentPids())) {
          const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
          expect(argv.join(' ')).not.toContain(password);
          expect(argv).toContain(server.url);
        }
      } finally {
        await launched.shutdown();
      }
      const run = dmpemu(['run', scenario, '--nats', url, '--external-agents', '--run-id', 'own1', '--secret-file', join(out, 'secret')]); // not --quiet: the host commands it prints are checked
      const hosts = ['h0', 'h1'].map((h) => dmpemu(['agents', '--nats', server.url, '--creds', join(out, `own1-p0n0.${h}.creds`)]));
      const r = await run;
      expect(r.code, r.stderr).toBe(0);
      expect((await Promise.all(hosts)).map((h) => h.code)).toEqual([0, 0]);
      const summary = JSON.parse(readFileSync(join(dir, 'runs', 'own1', 'summary.json'), 'utf8'));
      expect(summary.status).toBe('completed');
      expect(summary.networks[0].algorithms[0].rounds).toBe(10);
      // the coordinator's password is in no output: it was in summary.json, summary.md, report.html
      // and in the host commands the run printed (a host following them connected as the coordinator)
      for (const text of [r.stdout, r.stderr, ...['summary.json', 'summary.md', 'report.html'].map((f) => readFileSync(join(dir, 'runs', 'own1', f), 'utf8'))]) expect(text).not.toContain(password);
      expect(summary.transport).toBe(`nats ${url.replace(password, '***')}`);
      // the hosts' commands name nats-config's credentials files (beside --secret-file), the ones with the hosts' own users
      expect(r.stdout).toContain(`run own1-p0n0: 6 agents wait for 2 external host(s) with their own broker users (30 s); start each with its \`dmpemu nats-config\` credentials:\n  dmpemu agents --nats ${server.url} --creds ${join(out, 'own1-p0n0.h0.creds')}\n  dmpemu agents --nats ${server.url} --creds ${join(out, 'own1-p0n0.h1.creds')}`);
    } finally {
      await server.dispose();
    }
  });

  it('with a broker you run, nats-config\'s users hold registrations to their agents too: a host with h0\'s credentials that claims all six agents is refused, and the registration timeout names the claim', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-natscfg-'));
    const scenario = join(dir, 's.yaml');
    writeFileSync(scenario, ['name: own-broker', 'networks:', '  - { model: d2d, K: 6, field: 200, csiRange: 120 }', 'algorithms:', '  - { name: wmmse-dmp, iterations: 5 }', 'runtime: { agentsPerProcess: 3, registerTimeoutS: 4 }', `outputs: { dir: ${join(dir, 'runs')} }`].join('\n'));
    const out = join(dir, 'cfg');
    const cfg = await dmpemu(['nats-config', scenario, '--run-id', 'own2', '--out', out]);
    expect(cfg.code, cfg.stderr).toBe(0);
    const password = /nats:\/\/coordinator:([^@]+)@/.exec(cfg.stdout)![1];
    const server = await NatsServer.start(undefined, { config: readFileSync(join(out, 'authorization.conf'), 'utf8') });
    try {
      const h0 = JSON.parse(readFileSync(join(out, 'own2-p0n0.h0.creds'), 'utf8'));
      const nc = await connect({ servers: server.url, user: h0.user, pass: h0.password, timeout: 2000 });
      const s = subjects('own2-p0n0');
      // h0's own subject, sealed with the run secret, every 200 ms as hosts register: before, the coordinator took agents 3-5 as h0's and waited for their configuration
      const forge = setInterval(() => nc.publish(s.register('h0'), new Sealer(h0.secret).seal(s.register('h0'), { type: 'register', host: 'h0', agents: [0, 1, 2, 3, 4, 5], pid: 1, hostname: 'forger' })), 200);
      try {
        const r = await dmpemu(['run', scenario, '--quiet', '--nats', server.url.replace('nats://', `nats://coordinator:${password}@`), '--external-agents', '--run-id', 'own2', '--secret-file', join(out, 'secret')]);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain('6 agent(s) did not register within 4 s: 0, 1, 2, 3, 4, 5 (host h0 claimed agent(s) 3-5, but its broker user serves 0-2: refused)');
      } finally {
        clearInterval(forge);
        await nc.close();
      }
    } finally {
      await server.dispose();
    }
  });

  it('nats-config files that do not split this run\'s agents (another --hosts left in the folder, another scenario) are refused before anything starts, naming the file: the run waited for hosts that could not all register', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-natscfg-'));
    const scenario = (K: number): string => {
      const f = join(dir, `s${K}.yaml`);
      writeFileSync(f, ['name: own-broker', 'networks:', `  - { model: d2d, K: ${K}, field: 200, csiRange: 120 }`, 'algorithms:', '  - { name: wmmse-dmp, iterations: 5 }', 'runtime: { agentsPerProcess: 3, registerTimeoutS: 30 }', `outputs: { dir: ${join(dir, 'runs')} }`].join('\n'));
      return f;
    };
    const out = join(dir, 'cfg');
    for (const hosts of ['3', '2']) expect((await dmpemu(['nats-config', scenario(6), '--run-id', 'own3', '--hosts', hosts, '--out', out])).code).toBe(0);
    const run = (file: string) => dmpemu(['run', file, '--quiet', '--nats', 'nats://coordinator:x@127.0.0.1:1', '--external-agents', '--run-id', 'own3', '--secret-file', join(out, 'secret')]);
    // h0 (0-2), h1 (3-5) of --hosts 2, and h2 (4-5) left from --hosts 3
    let r = await run(scenario(6));
    expect([r.code, r.stderr]).toEqual([2, `dmpemu: ${join(out, 'own3-p0n0.h2.creds')}: serves agent 4, which ${join(out, 'own3-p0n0.h1.creds')} serves too: files of two \`dmpemu nats-config\` runs (another --hosts)? make them again into an empty folder\n`]);
    rmSync(join(out, 'own3-p0n0.h2.creds'));
    r = await run(scenario(5));
    expect([r.code, r.stderr]).toEqual([2, `dmpemu: ${join(out, 'own3-p0n0.h1.creds')}: serves agent 5, but network run own3-p0n0 has 5 agents (0-4): made by \`dmpemu nats-config\` for another scenario? make them again\n`]);
    r = await run(scenario(7));
    expect([r.code, r.stderr]).toEqual([2, `dmpemu: ${out}: the \`dmpemu nats-config\` credentials files of network run own3-p0n0 serve no host for agent(s) 6 of its 7: made for another scenario? make them again\n`]);
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });
});

const CLI = new URL('../bin/dmpemu.js', import.meta.url).pathname;
function dmpemu(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.NATS_URL;
    execFile(process.execPath, [CLI, ...args], { env }, (e, stdout, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}
