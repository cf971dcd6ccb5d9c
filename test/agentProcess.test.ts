import { spawn } from 'node:child_process';
import { describe, expect, inject, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { newRunSecret, parseControl, registerSchema, RUN_SECRET_ENV, Sealer, subjects } from '@dmpemu/wire';

const CLI = new URL('../bin/dmpemu.js', import.meta.url).pathname;

describe('dmpemu agents process', () => {
  it('registers its agents and exits cleanly (code 0) on SIGTERM', async () => {
    const nc = await connect({ servers: inject('natsUrl') });
    const runId = 'sigterm-test';
    const secret = newRunSecret();
    const sealer = new Sealer(secret);
    const registered = new Promise<[string, number[]]>((resolve) =>
      nc.subscribe(subjects(runId).registerAll, {
        callback: (_e, m) => {
          const r = sealer.open(m.subject, m.data);
          const msg = r.ok ? parseControl(registerSchema, r.value) : undefined;
          if (msg?.ok) resolve([msg.value.host, msg.value.agents]);
        },
      }),
    );
    await nc.flush();
    const child = spawn(process.execPath, [CLI, 'agents', '--nats', inject('natsUrl'), '--run', runId, '--first', '4', '--count', '3', '--host-id', 'hx'], { stdio: 'ignore', env: { ...process.env, [RUN_SECRET_ENV]: secret } });
    const exited = new Promise<[number | null, string | null]>((r) => child.once('exit', (code, signal) => r([code, signal])));
    expect(await registered).toEqual(['hx', [4, 5, 6]]);
    child.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
    await nc.close();
  });
});
