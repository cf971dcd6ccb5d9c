import { connect } from '@nats-io/transport-node';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coordinatorUser, hostUser } from '../coordinator/src/run/access.ts';
import { NatsServer } from '../coordinator/src/run/natsServer.ts';

describe('the embedded nats-server reloading its users', () => {
  it('never drops a connected client while the configuration is rewritten and reloaded again and again', async () => {
    const server = await NatsServer.start(undefined, { auth: true });
    try {
      const admin = coordinatorUser();
      await server.setUsers([admin]);
      const host = hostUser('r1', 'h0', [0, 1]);
      await server.setUsers([host]);
      const nc = await connect({ servers: server.url, user: host.user, pass: host.password, reconnect: false });
      const problems: string[] = [];
      void (async () => {
        for await (const s of nc.status()) if (s.type === 'error' || s.type === 'disconnect') problems.push(`${s.type}: ${String((s as { error?: Error }).error?.message ?? '')}`);
      })();
      // permissions tightened over and over (as limitToNeighbours does), each a rewrite and a SIGHUP
      for (let i = 0; i < 60; i++) await server.setUsers([{ ...host, subscribe: [...hostUser('r1', 'h0', [0, 1], [2 + (i % 5)]).subscribe] }]);
      await new Promise((r) => setTimeout(r, 300));
      await nc.flush();
      expect(problems).toEqual([]);
      expect(nc.isClosed()).toBe(false);
      await nc.close();
    } finally {
      await server.stop();
    }
  });
});

describe('the embedded nats-server failing to start', () => {
  it('on a port in use: the error says so and its configuration directory is removed (it stayed in the temporary directory)', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const tmp = mkdtempSync(join(tmpdir(), 'dmpemu-tmp-'));
    const before = process.env.TMPDIR;
    process.env.TMPDIR = tmp; // this test file's process only (pool: forks)
    try {
      await expect(NatsServer.start(undefined, { port: (busy.address() as AddressInfo).port })).rejects.toThrow('nats-server exited with code 1 before listening');
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
      busy.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
