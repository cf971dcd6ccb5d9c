import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from './browser.ts';

/** Exit code and stderr of `dmpemu <args>`. */
const dmpemu = (args: string[]) =>
  new Promise<{ code: number; stderr: string }>((resolve) => execFile(process.execPath, [CLI, ...args], (e, _out, stderr) => resolve({ code: e ? Number(e.code) : 0, stderr })));

describe('dashboard flags', () => {
  it('refuse bad values in one line with exit code 2, before anything runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmpemu-dashflags-'));
    const file = join(dir, 's.yaml');
    const out = join(dir, 'runs');
    writeFileSync(file, ['name: flags', 'networks: [{ model: rayleigh-ic, K: 4 }]', 'algorithms: [{ name: wmmse-dmp, iterations: 2 }]', 'runtime: { kind: inprocess }'].join('\n'));
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as AddressInfo).port;
    try {
      const cases: [string[], string][] = [
        [['run', file, '--out', out, '--dashboard', 'abc'], "error: option '--dashboard [port]' argument 'abc' is invalid. expected a port number 0-65535 (0: a free one)."],
        [['run', file, '--out', out, '--dashboard', '70000'], "error: option '--dashboard [port]' argument '70000' is invalid. expected a port number 0-65535 (0: a free one)."],
        [['run', file, '--out', out, '--listen', '0.0.0.0'], 'dmpemu: --listen is where the embedded nats-server and --dashboard serve: this scenario runs in process (runtime.kind inprocess): give --dashboard too, or drop --listen'],
        [['run', file, '--out', out, '--dashboard', String(port)], `dmpemu: --dashboard ${port}: port ${port} is in use on 127.0.0.1`],
        [['eval', '--instances', file, '--algorithm', 'wmmse', '--dashboard'], "dmpemu: --dashboard shows a DMP's rounds: give --runtime nats or --runtime inprocess (wmmse runs centralized)"],
        [['dashboard', join(dir, 'nothing')], `dmpemu: dashboard: ${join(dir, 'nothing')} is not a directory (give the directory that holds the run directories, e.g. runs)`],
        [['dashboard', dir, '--port', String(port)], `dmpemu: --port ${port}: port ${port} is in use on 127.0.0.1`],
      ];
      const results = await Promise.all(cases.map(([args]) => dmpemu(args)));
      results.forEach((r, i) => expect([r.code, r.stderr.trim().split('\n')[0]]).toEqual([2, cases[i][1]]));
      for (const r of results) expect(r.stderr.trim().split('\n').filter((l) => !l.startsWith('(run with --help')).length).toBe(1);
    } finally {
      busy.close();
    }
    expect(readdirSync(dir)).toEqual(['s.yaml']); // no run started
  }, 60_000);
});
