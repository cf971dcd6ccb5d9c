import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInProcess } from '@dmpemu/dmp';
import { formatIds } from '@dmpemu/agents';
import { generateInstance, Rng } from '@dmpemu/wireless';
import { Coordinator } from '../coordinator/src/run/coordinator.ts';
import { NatsServer } from '../coordinator/src/run/natsServer.ts';

const CLI = new URL('../bin/dmpemu.js', import.meta.url).pathname;

/** A free TCP port on loopback (for the cluster's route ports, which every node must know in advance). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('agents the coordinator did not launch, through a 3-node NATS cluster', () => {
  it('the coordinator on node 1, two agent hosts on nodes 2 and 3: the run completes and equals the same job with its own agents', async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    const routes = ports.map((p) => `nats://127.0.0.1:${p}`);
    const nodes = await Promise.all(ports.map((port, i) => NatsServer.start(undefined, { cluster: { name: `n${i + 1}`, port, routes } })));
    const inst = generateInstance('d2d', new Rng(101), { K: 8, field: 250, csiRange: 150 });
    const spec = { name: 'wmmse-dmp', iterations: 10 };
    const c = await Coordinator.start({ broker: nodes[0].url, registerTimeoutS: 30 });
    const hosts: ChildProcess[] = [];
    try {
      const secretFile = join(mkdtempSync(join(tmpdir(), 'dmpemu-cluster-')), 'secret');
      writeFileSync(secretFile, c.secret);
      const external = await c.externalHosts(8, 4);
      external.forEach((h, i) =>
        hosts.push(spawn(process.execPath, [CLI, 'agents', '--nats', nodes[i + 1].url, '--run', c.runId, '--ids', formatIds(h.ids), '--host-id', h.host, '--secret-file', secretFile], { stdio: 'ignore' })),
      );
      await c.waitRegistered(8, 30);
      const r = await c.runJob(inst, spec, { roundDeadlineMs: 5000, policy: 'skip' });
      expect(r.rounds.map((x) => x.objective)).toEqual(runInProcess(inst, spec).history);
      const local = await c.runJob(inst, spec, { roundDeadlineMs: 5000, policy: 'skip', clock: 'local' });
      expect(local.rounds.map((x) => x.objective)).toEqual(r.rounds.map((x) => x.objective));
    } finally {
      await c.shutdown();
      await Promise.all(hosts.map((h) => (h.exitCode === null ? new Promise((res) => h.once('exit', res)) : undefined)));
      await Promise.all(nodes.map((n) => n.dispose()));
    }
  });
});
