import { spawn } from 'node:child_process';
import { describe, expect, inject, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { decodeControl, registerSchema, subjects } from '@dmpemu/wire';

const CLI = new URL('../bin/dmpemu.js', import.meta.url).pathname;

describe('dmpemu agents process', () => {
  it('registers its agents and exits cleanly (code 0) on SIGTERM', async () => {
    const nc = await connect({ servers: inject('natsUrl') });
    const runId = 'sigterm-test';
    const registered = new Promise<number[]>((resolve) =>
      nc.subscribe(subjects(runId).register, { callback: (_e, m) => void resolve(decodeControl(registerSchema, m.data)!.agents) }),
    );
    await nc.flush();
    const child = spawn(process.execPath, [CLI, 'agents', '--nats', inject('natsUrl'), '--run', runId, '--first', '4', '--count', '3'], { stdio: 'ignore' });
    const exited = new Promise<[number | null, string | null]>((r) => child.once('exit', (code, signal) => r([code, signal])));
    expect(await registered).toEqual([4, 5, 6]);
    child.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
    await nc.close();
  });
});
