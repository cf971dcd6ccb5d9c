import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { generateInstance, instanceFileToJson, Rng } from '@dmpemu/wireless';
import { REFERENCE_DIR } from './referenceDir.ts';
import { checkExternalBroker } from '../coordinator/src/cli.ts';
import { UsageError } from '../coordinator/src/scenario/usageError.ts';

const run = promisify(execFile);
const CLI = new URL('../bin/dmpemu.js', import.meta.url).pathname;
const REF = REFERENCE_DIR;

async function dmpemu(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [CLI, ...args], { env: { ...process.env, NATS_URL: '', ...env } });
    return { code: 0, ...r };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('dmpemu CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmpemu-cli-'));

  it('eval --json keeps the contract and reproduces the reference WMMSE rates', async () => {
    const r = await dmpemu(['eval', '--instances', join(REF, 'rayleigh-k10-snr10.json'), '--algorithm', 'wmmse', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const ref = JSON.parse(readFileSync(join(REF, 'rayleigh-k10-snr10.json'), 'utf8'));
    expect(Object.keys(out)).toEqual(expect.arrayContaining(['algorithm', 'instances', 'meanRate', 'rates', 'seconds']));
    expect(out.algorithm).toBe('wmmse');
    expect(out.instances).toBe(ref.instances.length);
    out.rates.forEach((x: number, n: number) => expect(Math.abs(x - ref.instances[n].wmmse100.rate) / x).toBeLessThan(1e-9));
    expect(out.seconds).toBeGreaterThan(0);
  });

  it('eval --runtime nats gives the centralized rates, with rounds and a per-round history', async () => {
    const file = join(REF, 'rayleigh-k10-snr0.json');
    const central = JSON.parse((await dmpemu(['eval', '--instances', file, '--algorithm', 'wmmse', '--iterations', '20', '--json'])).stdout);
    const r = await dmpemu(['eval', '--instances', file, '--algorithm', 'wmmse', '--iterations', '20', '--runtime', 'nats', '--agents-per-process', '5', '--json'], { NATS_URL: inject('natsUrl') });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.runtime).toBe('nats');
    expect(out.rounds).toBe(40);
    expect(out.history).toHaveLength(40);
    out.rates.forEach((x: number, n: number) => expect(Math.abs(x - central.rates[n]) / x).toBeLessThan(1e-12));
  });

  it('eval --algorithm best-fplinq: seeded, at least FPLinQ on every instance', async () => {
    const file = join(REF, 'rayleigh-k10-snr10.json');
    const best = JSON.parse((await dmpemu(['eval', '--instances', file, '--algorithm', 'best-fplinq', '--seed', '3', '--json'])).stdout);
    const again = JSON.parse((await dmpemu(['eval', '--instances', file, '--algorithm', 'best-fplinq', '--seed', '3', '--json'])).stdout);
    const fplinq = JSON.parse((await dmpemu(['eval', '--instances', file, '--algorithm', 'fplinq', '--json'])).stdout);
    expect(best.algorithm).toBe('best-fplinq');
    expect(again.rates).toEqual(best.rates);
    best.rates.forEach((x: number, n: number) => expect(x).toBeGreaterThanOrEqual(fplinq.rates[n]));
    expect(best.meanRate).toBeGreaterThan(fplinq.meanRate);
    const r = await dmpemu(['eval', '--instances', file, '--algorithm', 'best-fplinq', '--iterations', '5']);
    expect([r.code, r.stderr.trim()]).toEqual([2, 'dmpemu: --iterations is for wmmse, fplinq and wmmse-dmp, not best-fplinq']);
  });

  it('generate writes instances that eval reads back', async () => {
    const f = join(dir, 'g.json');
    const g = await dmpemu(['generate', '--model', 'rayleigh-ic', '--K', '6', '--count', '3', '--seed', '4', '--snr-db', '0', '--out', f]);
    expect(g.code).toBe(0);
    expect(g.stdout).toContain(`wrote 3 rayleigh-ic instance(s) with K=6 to ${f}`);
    const again = join(dir, 'g2.json');
    await dmpemu(['generate', '--model', 'rayleigh-ic', '--K', '6', '--count', '3', '--seed', '4', '--snr-db', '0', '--out', again]);
    expect(readFileSync(f, 'utf8')).toBe(readFileSync(again, 'utf8'));
    const e = await dmpemu(['eval', '--instances', f, '--algorithm', 'wmmse', '--json']);
    expect(JSON.parse(e.stdout).instances).toBe(3);
    const bin = join(dir, 'g.msgpack');
    expect((await dmpemu(['generate', '--model', 'rayleigh-ic', '--K', '6', '--count', '3', '--seed', '4', '--snr-db', '0', '--out', bin])).code).toBe(0);
    const b = await dmpemu(['eval', '--instances', bin, '--algorithm', 'wmmse', '--json']);
    expect(JSON.parse(b.stdout).rates).toEqual(JSON.parse(e.stdout).rates);
  });

  it.each([
    [['generate', '--model', 'rayleigh-ic', '--K', '0', '--out', 'x.json'], "error: option '--K <n>' argument '0' is invalid. expected a positive integer (decimal digits)."],
    [['generate', '--model', 'lte', '--K', '3', '--out', 'x.json'], "error: option '--model <name>' argument 'lte' is invalid. Allowed choices are rayleigh-ic, d2d, miso, regnn-adhoc."],
    [['eval', '--algorithm', 'wmmse'], "error: required option '--instances <file>' not specified"],
    [['eval', '--instances', '/nonexistent.json', '--algorithm', 'wmmse'], 'dmpemu: --instances: cannot read /nonexistent.json (ENOENT)'],
    [['eval', '--instances', join(REF, 'rayleigh-k10-snr0.json'), '--algorithm', 'fplinq', '--runtime', 'inprocess'], 'dmpemu: --algorithm fplinq has no DMP form for --runtime; expected one of wmmse, wmmse-dmp, wcgcn, pcgnn, regnn, ecgnn, uwmmse, mpnn'],
  ])('bad input %j exits 2 with one line', async (args, line) => {
    const r = await dmpemu(args);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(line);
  });

  describe('bad flags and files are refused in one line before anything starts (exit 2)', () => {
    const miso = join(dir, 'miso.json'), k10 = join(REF, 'rayleigh-k10-snr0.json');
    const big = join(dir, 'big.json'), bigCheckpoint = join(dir, 'big-checkpoint.json'), badTrain = join(dir, 'mlp1.yaml');
    const secretFile = join(dir, 'secret'), reversedIds = join(dir, 'reversed.creds'), inprocessScenario = join(dir, 'inproc.yaml');
    // nothing listens on port 1: an id must be refused before connecting (a bad one used to hang after its error, or crash in nats.js)
    const agents = (...flags: string[]): string[] => ['agents', '--nats', 'nats://127.0.0.1:1', '--secret-file', secretFile, ...flags];
    beforeAll(() => {
      writeFileSync(secretFile, 'ab'.repeat(32));
      writeFileSync(reversedIds, JSON.stringify({ run: 'r', host: 'h', ids: '5-1', secret: 'ab'.repeat(32) }));
      writeFileSync(miso, JSON.stringify(instanceFileToJson({ model: 'miso', instances: [generateInstance('miso', new Rng(1), { K: 4 })] })));
      writeFileSync(big, '{');
      truncateSync(big, 512 * 2 ** 20 + 1); // sparse: stat says too large before a byte is read
      writeFileSync(bigCheckpoint, '{');
      truncateSync(bigCheckpoint, 64 * 2 ** 20 + 1);
      writeFileSync(badTrain, 'name: t\nnetwork: { model: rayleigh-ic, K: 10 }\narchitecture: { mlp1: [7, 32, 32] }\ntraining: { steps: 1 }\n');
      writeFileSync(inprocessScenario, 'name: inproc\nnetworks: [{ model: rayleigh-ic, K: 4 }]\nalgorithms: [wmmse-dmp]\nruntime: { kind: inprocess }\n');
    });
    const gen = (...flags: string[]): string[] => ['generate', '--out', join(dir, 'never.json'), ...flags];
    it.each([
      [gen('--model', 'rayleigh-ic', '--K', '0x10'), "error: option '--K <n>' argument '0x10' is invalid. expected a positive integer (decimal digits)."],
      [gen('--model', 'rayleigh-ic', '--K', '1e3'), "error: option '--K <n>' argument '1e3' is invalid. expected a positive integer (decimal digits)."],
      [gen('--model', 'rayleigh-ic', '--K', '+5'), "error: option '--K <n>' argument '+5' is invalid. expected a positive integer (decimal digits)."],
      [gen('--model', 'rayleigh-ic', '--K', ' 5'), "error: option '--K <n>' argument ' 5' is invalid. expected a positive integer (decimal digits)."],
      [gen('--model', 'rayleigh-ic', '--K', '100000'), "error: option '--K <n>' argument '100000' is invalid. Too big: expected number to be <=10000."],
      [gen('--model', 'rayleigh-ic', '--K', '5', '--count', '1000000000'), "error: option '--count <n>' argument '1000000000' is invalid. Too big: expected number to be <=100000."],
      [gen('--model', 'miso', '--K', '5', '--Nt', '1000'), "error: option '--Nt <n>' argument '1000' is invalid. Too big: expected number to be <=64."],
      [gen('--model', 'rayleigh-ic', '--K', '5', '--snr-db', '1e308'), "error: option '--snr-db <dB>' argument '1e308' is invalid. Too big: expected number to be <=100."],
      [gen('--model', 'rayleigh-ic', '--K', '5', '--snr-db', '0x10'), "error: option '--snr-db <dB>' argument '0x10' is invalid. expected a finite decimal number."],
      [gen('--model', 'd2d', '--K', '5', '--field', '1'), 'dmpemu: --field: the field (1 m) is smaller than dmin (2 m)'],
      [gen('--model', 'd2d', '--K', '5', '--dmin', '0.1', '--dmax', '0.5'), 'dmpemu: --dmax: dmax (0.5 m) is below 1 m, the closest a receiver may be to a transmitter'],
      [gen('--model', 'd2d', '--K', '200', '--field', '3', '--dmin', '1', '--dmax', '2'), 'dmpemu: instance 0: d2d layout (K=200, field=3, dmin=1, dmax=2): each of 100 layouts had a transmitter closer than 1 m to a receiver (too dense: enlarge the field or lower K)'],
      [gen('--model', 'rayleigh-ic', '--K', '5', '--csi-range', '3'), 'dmpemu: --csi-range: not a parameter of model rayleigh-ic (it takes --snr-db, --weighted)'],
      [gen('--model', 'regnn-adhoc', '--K', '5', '--weighted'), 'dmpemu: --weighted: not a parameter of model regnn-adhoc (it takes --noise)'],
      [gen('--model', 'miso', '--K', '6000', '--field', '10000'), 'dmpemu: --K: K=6000, Nt=2: K^2 (1 + 2 Nt) float64s are 1.34 GiB of channel matrices per instance, more than the limit (1 GiB per instance and 4 GiB per network)'],
      [['eval', '--instances', k10, '--algorithm', 'wmmse', '--iterations', '100000'], "error: option '--iterations <n>' argument '100000' is invalid. Too big: expected number to be <=10000."],
      [['eval', '--instances', k10, '--algorithm', 'wmmse-dmp', '--runtime', 'inprocess', '--round-deadline-ms', '2147483648'], "error: option '--round-deadline-ms <ms>' argument '2147483648' is invalid. Too big: expected at most 2147482647 ms (Node keeps timers up to 2^31 - 1 ms, and the coordinator waits 1 s longer than the agents)."],
      [['eval', '--instances', k10, '--algorithm', 'wcgcn', '--checkpoint', 'wcgcn-rayleigh-k10-snr0', '--iterations', '5'], 'dmpemu: --iterations is for wmmse, fplinq and wmmse-dmp, not wcgcn'],
      [['eval', '--instances', k10, '--algorithm', 'mlp', '--checkpoint', 'mlp-rayleigh-k30-snr10'], `dmpemu: --algorithm mlp --checkpoint mlp-rayleigh-k30-snr10 on ${k10}: mlp: the checkpoint is an MLP for K = 30 pairs, the instance has K = 10 (an MLP only runs on the K it was trained for)`],
      [['eval', '--instances', k10, '--algorithm', 'pcgnn', '--checkpoint', 'pcgnn-d2d-k50', '--rounds', '5', '--runtime', 'nats'], `dmpemu: --algorithm pcgnn --checkpoint pcgnn-d2d-k50 on ${k10}: pcgnn: rounds must equal the checkpoint's layers (T = 2: its layers do not share weights), got 5`],
      [['eval', '--instances', k10, '--algorithm', 'regnn', '--checkpoint', 'regnn-adhoc-m20', '--rounds', '99'], `dmpemu: --algorithm regnn --checkpoint regnn-adhoc-m20 on ${k10}: regnn: rounds must equal the checkpoint's sum of (K_l - 1) = 16 (one per shift of H), got 99`],
      [['eval', '--instances', k10, '--algorithm', 'wcgcn', '--checkpoint', 'wcgcn-miso-k50-nt2', '--runtime', 'nats'], `dmpemu: --algorithm wcgcn --checkpoint wcgcn-miso-k50-nt2 on ${k10}: wcgcn: the checkpoint does beamforming with Nt = 2, the network has Nt = 1`],
      [['eval', '--instances', miso, '--algorithm', 'wcgcn', '--checkpoint', 'wcgcn-d2d-k50'], `dmpemu: --algorithm wcgcn --checkpoint wcgcn-d2d-k50 on ${miso}: wcgcn: the checkpoint does power control, the network has Nt = 2 antennas (train a beamforming WCGCN)`],
      [['eval', '--instances', miso, '--algorithm', 'pcgnn', '--checkpoint', 'pcgnn-d2d-k50'], `dmpemu: --algorithm pcgnn --checkpoint pcgnn-d2d-k50 on ${miso}: pcgnn: a pcgnn does power control, the network has Nt = 2 antennas (a beamforming WCGCN or wmmse-dmp runs on MISO networks)`],
      [['eval', '--instances', miso, '--algorithm', 'fplinq'], `dmpemu: --algorithm fplinq on ${miso}: runCentralized: fplinq is SISO-only (power control); this miso instance has Nt = 2 transmit antennas: use wmmse, full or equal`],
      [['eval', '--instances', big, '--algorithm', 'wmmse'], `dmpemu: ${big}: larger than 512 MiB (the limit for JSON instance files; write large instance sets as .msgpack)`],
      [['eval', '--instances', k10, '--algorithm', 'wcgcn', '--checkpoint', bigCheckpoint], `dmpemu: --checkpoint ${bigCheckpoint}: ${bigCheckpoint}: larger than 64 MiB (the limit for checkpoints)`],
      [['run', '/dev/zero'], 'dmpemu: /dev/zero: larger than 1 MiB (the limit for scenario files)'],
      [['train', '/dev/zero'], 'dmpemu: /dev/zero: larger than 1 MiB (the limit for training scenario files)'],
      [['train', badTrain], `dmpemu: ${badTrain}: invalid training scenario: architecture.mlp1[0] must be 5 ([x_j, e_jk]), got 7`],
      [['train', 'scenarios/train/wcgcn-d2d-k50.yaml', '--workers', '1000'], "error: option '--workers <n>' argument '1000' is invalid. Too big: expected number to be <=32."],
      [['train', 'scenarios/train/wcgcn-d2d-k50.yaml', '--steps', '100000000'], "error: option '--steps <n>' argument '100000000' is invalid. Too big: expected number to be <=10000000."],
      [['eval', '--instances', k10, '--algorithm', 'wmmse-dmp', '--runtime', 'inprocess', '--clock', 'async', '--period-ms', '100000'], "error: option '--period-ms <ms>' argument '100000' is invalid. Too big: expected number to be <=60000."],
      // flags that act only in some runs were taken and ignored (given on the command line; NATS_URL does not count)
      [['eval', '--instances', k10, '--algorithm', 'wmmse', '--round-deadline-ms', '100'], 'dmpemu: --round-deadline-ms does nothing here: it acts with --runtime nats'],
      [['eval', '--instances', k10, '--algorithm', 'wmmse-dmp', '--runtime', 'inprocess', '--agents-per-process', '5'], 'dmpemu: --agents-per-process does nothing here: it acts with --runtime nats'],
      [['eval', '--instances', k10, '--algorithm', 'fplinq', '--clock', 'async'], 'dmpemu: --clock does nothing here: it acts with --runtime (or a learned algorithm or a module, which run as DMPs)'],
      [['eval', '--instances', k10, '--algorithm', 'wmmse-dmp', '--runtime', 'inprocess', '--period-ms', '5'], 'dmpemu: --period-ms does nothing here: it acts with --clock async'],
      [['eval', '--instances', k10, '--algorithm', 'wmmse', '--history'], 'dmpemu: --history does nothing here: it acts with --json and wmmse or fplinq centralized (a DMP reports every round anyway)'],
      [['eval', '--instances', k10, '--algorithm', 'full', '--history', '--json'], 'dmpemu: --history does nothing here: it acts with --json and wmmse or fplinq centralized (a DMP reports every round anyway)'],
      [['agent', '--nats', 'nats://127.0.0.1:1', '--run', 'r', '--id', '20000', '--secret-file', secretFile], 'dmpemu: --id: agent ids "20000": ids are at most 19999'],
      [['eval', '--instances', k10, '--algorithm', 'wmmse-dmp', '--runtime', 'inprocess', '--listen', '127.0.0.1'], 'dmpemu: --listen does nothing here: it acts with --dashboard'],
      [['eval', '--instances', k10, '--algorithm', 'wmmse', '--seed', '3'], 'dmpemu: --seed does nothing here: it acts with random and best-fplinq (their random draws)'],
      [['dashboard', dir, '--listen', ''], "error: option '--listen <host>' argument '' is invalid. expected a host name or address, e.g. 127.0.0.1, or 0.0.0.0 for every interface."],
      [['run', 'scenarios/quickstart.yaml', '--nats', 'nats://127.0.0.1:99999'], "error: option '--nats <url>' argument 'nats://127.0.0.1:99999' is invalid. expected a NATS URL such as nats://127.0.0.1:4222 (nats, tls, ws or wss; a port 0-65535)."],
      // the help said 1-64 where 50 are allowed (each network runs as <id>-p<point>n<network>, at most 64)
      [['run', 'scenarios/quickstart.yaml', '--run-id', 'x'.repeat(51)], `error: option '--run-id <id>' argument '${'x'.repeat(51)}' is invalid. expected 1-50 letters, digits, '-' or '_' (each network runs as <id>-p<point>n<network>).`],
      [['nats-config', 'scenarios/quickstart.yaml', '--run-id', 'a.b'], "error: option '--run-id <id>' argument 'a.b' is invalid. expected 1-50 letters, digits, '-' or '_' (each network runs as <id>-p<point>n<network>)."],
      [agents('--run', 'bad id', '--ids', '0'), `dmpemu: --run: run id "bad id": expected 1-64 letters, digits, '-' or '_'`],
      // run and nats-config flags for NATS on a scenario that runs nothing over NATS were taken and ignored (it ran in process, exit 0)
      [['run', inprocessScenario, '--external-agents'], `dmpemu: --external-agents does nothing here: ${inprocessScenario} runs nothing over NATS (runtime.kind inprocess)`],
      [['run', inprocessScenario, '--nats', 'nats://127.0.0.1:1'], `dmpemu: --nats does nothing here: ${inprocessScenario} runs nothing over NATS (runtime.kind inprocess)`],
      [['nats-config', inprocessScenario, '--run-id', 'x', '--out', join(dir, 'nc')], 'dmpemu: nats-config: scenario inproc runs nothing over NATS (runtime.kind inprocess): there is no access to control'],
      [agents('--run', 'r', '--ids', '9007199254740992'), 'dmpemu: --ids: agent ids "9007199254740992": ids are at most 19999'],
      [agents('--run', 'r', '--ids', '0-2,1'), 'dmpemu: --ids: agent ids "0-2,1": 1 is listed twice'],
      [agents('--run', 'r', '--ids', '0', '--host-id', 'a b'), `dmpemu: --host-id: host id "a b": expected 1-64 letters, digits, '-' or '_'`],
      [agents('--run', 'r', '--ids', '0', '--host-id', 'a.>'), `dmpemu: --host-id: host id "a.>": expected 1-64 letters, digits, '-' or '_'`],
      [agents('--run', 'r', '--ids', '0', '--parent-pid', '1', '--coordinator-timeout', '5'), 'dmpemu: --coordinator-timeout is for a host started by hand: with --parent-pid it follows that process instead (drop one)'],
      [agents('--run', 'r', '--ids', '0', '--coordinator-timeout', '0'), "error: option '--coordinator-timeout <s>' argument '0' is invalid. expected a positive integer (decimal digits)."],
      [['agents', '--nats', 'nats://127.0.0.1:1', '--creds', reversedIds], `dmpemu: --creds ${reversedIds}: agent ids "5-1": range end below its start`],
    ])('%j', async (args, line) => {
      const r = await dmpemu(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe(line);
    });
  });

  it('an error that quotes a file with newlines (JSON.parse on a YAML file given as a checkpoint) is still one line', async () => {
    const yaml = join(dir, 'not-a-checkpoint.json');
    writeFileSync(yaml, 'name: ok\nsee: 1\n');
    const r = await dmpemu(['eval', '--instances', join(REF, 'rayleigh-k10-snr0.json'), '--algorithm', 'wcgcn', '--checkpoint', yaml]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^dmpemu: --checkpoint .*not JSON \(Unexpected token 'a', "name: ok see: 1 " is not valid JSON\)\n$/);
  });

  it('run --listen at an address of no interface here, or at a port in use, is refused before anything starts (it started nats-server and wrote the run directory, then exited 1)', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as AddressInfo).port;
    const out = join(dir, 'listen-runs');
    try {
      for (const [listen, line] of [[`127.0.0.1:${port}`, `--listen 127.0.0.1:${port}: port ${port} is in use on 127.0.0.1`], ['192.0.2.1:0', '--listen 192.0.2.1: cannot listen on this address (EADDRNOTAVAIL)']]) {
        const r = await dmpemu(['run', 'scenarios/quickstart.yaml', '--out', out, '--listen', listen]);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toBe(`dmpemu: ${line}\n`);
        expect(existsSync(out)).toBe(false);
      }
    } finally {
      busy.close();
    }
  });

  it('run --listen at an IPv6 address ([::1]:0) runs (nats-server was given -a [::1] and exited before listening)', async () => {
    const out = join(dir, 'listen6-runs');
    const r = await dmpemu(['run', 'scenarios/quickstart.yaml', '--out', out, '--listen', '[::1]:0']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/started nats-server at nats:\/\/\[::1\]:\d+ \(listening on ::1:\d+\), credentials required/);
    const [runDir] = readdirSync(out);
    expect(JSON.parse(readFileSync(join(out, runDir, 'summary.json'), 'utf8')).status).toBe('completed');
  });

  it('nats-config --hosts n makes n hosts per network, the agents split evenly (6 for 10 agents made 5, of 2 each); more hosts than agents is refused', async () => {
    const scenario = join(dir, 'hosts.yaml');
    writeFileSync(scenario, ['name: hosts', 'networks:', '  - { model: rayleigh-ic, K: 10 }', 'algorithms:', '  - { name: wmmse-dmp, iterations: 3 }'].join('\n'));
    const out = join(dir, 'hosts-cfg');
    const r = await dmpemu(['nats-config', scenario, '--run-id', 'hs', '--hosts', '6', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const files = readdirSync(out).filter((f) => f.endsWith('.creds')).sort();
    expect(files).toEqual([0, 1, 2, 3, 4, 5].map((h) => `hs-p0n0.h${h}.creds`));
    expect(files.map((f) => JSON.parse(readFileSync(join(out, f), 'utf8')).ids)).toEqual(['0-1', '2-3', '4-5', '6-7', '8', '9']);
    const many = await dmpemu(['nats-config', scenario, '--run-id', 'hs', '--hosts', '11', '--out', join(dir, 'hosts-cfg2')]);
    expect(many.stderr).toBe('dmpemu: --hosts 11: network rayleigh-ic-k10 has 10 agents, so at most 10 hosts (one agent each)\n');
    expect(many.code).toBe(2);
  });

  it('fault plans the broker setup cannot carry out, and an empty --secret-file, are refused before anything starts (they failed mid-run, exit 1, with a run directory)', async () => {
    const out = join(dir, 'plan-runs');
    const scenario = (faults: string) => {
      const f = join(dir, `plan-${faults.length}.yaml`);
      writeFileSync(f, ['name: plan', 'networks:', '  - { model: rayleigh-ic, K: 4 }', 'algorithms:', '  - { name: wmmse-dmp, iterations: 3 }', `faults: ${faults}`, `outputs: { dir: ${out} }`].join('\n'));
      return f;
    };
    const empty = join(dir, 'empty-secret');
    writeFileSync(empty, '\n');
    const cases: [string[], Record<string, string>, string][] = [
      [['run', scenario('{ brokerRestart: [{ round: 2, downMs: 100 }] }'), '--nats', 'nats://127.0.0.1:1'], {}, 'faults.brokerRestart stops and starts the embedded nats-server, which --nats replaces: run without --nats, or drop the fault'],
      [['run', scenario('{ brokerRestart: [{ round: 2, downMs: 100 }] }')], { NATS_URL: 'nats://127.0.0.1:1' }, 'faults.brokerRestart stops and starts the embedded nats-server, which NATS_URL replaces: run without NATS_URL, or drop the fault'],
      [['run', scenario('{ crash: [{ agent: 1, round: 2 }] }'), '--external-agents'], {}, 'faults.crash kills an agent process this machine launched: with --external-agents it launches none (drop the fault, or --external-agents)'],
      [['run', 'scenarios/quickstart.yaml', '--out', out, '--secret-file', empty], {}, `run: --secret-file ${empty} is empty: expected the run secret, 64 hex digits (dmpemu nats-config writes one)`],
    ];
    for (const [args, env, line] of cases) {
      const r = await dmpemu(args, env);
      expect(r.stderr).toBe(`dmpemu: ${line}\n`);
      expect(r.code).toBe(2);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('--external-agents without nats-server on this machine (and no --nats) is refused before anything starts: it printed host commands with `--nats memory` that no host can follow, and waited registerTimeoutS', () => {
    const line = '--external-agents: no nats-server on this machine (PATH, /usr/sbin) for hosts elsewhere to reach: install nats-server, or give --nats <url> of a broker you run';
    expect(() => checkExternalBroker(true, () => undefined)).toThrow(new UsageError(line));
    expect(() => checkExternalBroker(false, () => undefined)).not.toThrow(); // a broker you run
    expect(() => checkExternalBroker(true, () => '/usr/sbin/nats-server')).not.toThrow();
  });

  it('an instance file keeps keys it does not read (notes, a solution) unless they are a misspelt key holding what that key would: note, mode and seeds are not noise, model and seed', async () => {
    const f = join(dir, 'notes.json');
    writeFileSync(f, JSON.stringify({ K: 2, noise: 1, note: 'hand-made', mode: 'fast', seeds: [1, 2], instances: [{ gain: [[1, 0.1], [0.2, 1]], note: 'first', pmin: 0, wmmse100: 1.5 }] }));
    const r = await dmpemu(['eval', '--instances', f, '--algorithm', 'full', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).meanRate).toBeCloseTo(Math.log2(1 + 1 / (0.01 + 1)) + Math.log2(1 + 1 / (0.04 + 1)), 12);
  });

  it.each([
    ['missing field', { K: 2, noise: 1, instances: [{ weights: [1, 1] }] }, 'instances[0].gain: expected a 2 x 2 matrix (2 rows), got nothing (missing)'],
    ['wrong shape', { K: 2, noise: 1, instances: [{ gain: [[1, 2], [3]] }] }, 'instances[0].gain[1]: expected an array of 2 numbers, got an array of length 1'],
    ['negative noise', { K: 2, noise: -0.1, instances: [{ gain: [[1, 2], [3, 4]] }] }, 'noise: expected a finite number > 0, got -0.1'],
    ['NaN', { K: 2, noise: 1, instances: [{ gain: [[1, 2], [3, 'NaN']] }] }, 'instances[0].gain[1][1]: expected a finite number >= 0, got "NaN"'],
    // all-0 weights and a 0 direct gain failed after the run began: WMMSE's objective was NaN (exit 1)
    ['all weights 0', { K: 2, noise: 1, instances: [{ gain: [[1, 2], [3, 4]], weights: [0, 0] }] }, 'instances[0].weights: expected at least one weight > 0 (the weighted sum rate of all-0 weights is 0 whatever the powers), got all 0'],
    ['a direct gain of 0', { K: 2, noise: 1, instances: [{ gain: [[0, 2], [3, 4]] }] }, "instances[0].gain[0][0]: expected a finite number > 0 (pair k's own link), got 0"],
    ['K above the limit', { K: 100_000, noise: 1, instances: [{ gain: [] }] }, 'K: expected an integer from 1 to 10000, got 100000'],
    ['Nt above the limit', { model: 'miso', K: 1, Nt: 100, noise: 1, instances: [{ gain: [[1]] }] }, 'Nt: expected an integer from 1 to 64, got 100'],
    ['Nt on a SISO model', { model: 'rayleigh-ic', K: 2, Nt: 2, noise: 1, instances: [{ gain: [[1, 2], [3, 4]] }] }, 'Nt: expected 1 for model rayleigh-ic (single-antenna; multi-antenna networks are miso), got 2'],
    ['complex channels on a SISO model', { model: 'rayleigh-ic', K: 1, noise: 1, instances: [{ gain: [[1]], hRe: [[[1]]], hIm: [[[0]]] }] }, "instances[0].hRe: expected none for model rayleigh-ic (complex channels are miso's; rayleigh-ic has gain), got an array of length 1"],
    // a misspelt key was kept as an extra and its default used: weights 1, the top-level noise (the rate came out wrong, silently)
    ['weights misspelt', { K: 2, noise: 1, instances: [{ gain: [[1, 2], [3, 4]], weight: [3, 1] }] }, "instances[0].weight: expected a key this format reads (did you mean weights? this one would be ignored and the default of weights used), got an array of length 2"],
    ['noise as sigma2', { K: 2, noise: 1, instances: [{ gain: [[1, 2], [3, 4]], sigma2: 0.1 }] }, "instances[0].sigma2: expected a key this format reads (did you mean noise? this one would be ignored and the default of noise used), got 0.1"],
    ['Pmax capitalised', { K: 2, noise: 1, Pmax: 2, instances: [{ gain: [[1, 2], [3, 4]] }] }, "Pmax: expected a key this format reads (did you mean pmax? this one would be ignored and the default of pmax used), got 2"],
    ['weights at the top level', { K: 2, noise: 1, weights: [3, 1], instances: [{ gain: [[1, 2], [3, 4]] }] }, 'weights: expected it per instance (instances[n].weights): at the top level it would be ignored, got an array of length 2'],
    ['a format this version does not read', { format: 'dmpemu-instances/2', K: 2, noise: 1, instances: [{ gain: [[1, 2], [3, 4]] }] }, 'format: expected "dmpemu-instances/1" (the version this dmpemu reads) or none, got "dmpemu-instances/2"'],
  ])('a bad instance file (%s) names the field', async (_name, data, message) => {
    const f = join(dir, 'bad.json');
    writeFileSync(f, JSON.stringify(data));
    const r = await dmpemu(['eval', '--instances', f, '--algorithm', 'wmmse']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`dmpemu: ${f}: ${message}`);
  });

  it('run writes the run directory; a bad scenario is rejected before anything starts', async () => {
    const sc = join(dir, 'sc.yaml');
    writeFileSync(sc, ['name: t', 'seed: 3', 'networks:', '  - { model: rayleigh-ic, K: 6, instances: 2 }', 'algorithms:', '  - { name: wmmse-dmp, iterations: 5 }', '  - wmmse', 'runtime: { agentsPerProcess: 3 }'].join('\n'));
    const out = join(dir, 'runs');
    const r = await dmpemu(['run', sc, '--out', out, '--quiet'], { NATS_URL: inject('natsUrl') });
    expect(r.code, r.stderr).toBe(0);
    const [runDir] = readdirSync(out);
    expect(readdirSync(join(out, runDir)).sort()).toEqual(['agents.jsonl', 'instances', 'layouts.jsonl', 'report.html', 'rounds-rayleigh-ic-k6.svg', 'rounds.jsonl', 'scenario.yaml', 'summary.json', 'summary.md', 'wmmse.jsonl']);
    expect(readdirSync(join(out, runDir, 'instances'))).toEqual(['rayleigh-ic-k6.json']);
    const lines = readFileSync(join(out, runDir, 'rounds.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2 * 10); // 2 instances x 10 rounds
    expect(lines[0]).toMatchObject({ network: 'rayleigh-ic-k6', instance: 0, algorithm: 'wmmse-dmp-5', runtime: 'nats', round: 0, reported: 6, expected: 6 });
    const summary = JSON.parse(readFileSync(join(out, runDir, 'summary.json'), 'utf8'));
    expect(summary.status).toBe('completed');
    const [dmp, central] = summary.networks[0].algorithms;
    expect(dmp.rounds).toBe(10);
    expect(central.algorithm).toBe('wmmse-100');
    // after 2T rounds the DMP equals the centralized WMMSE after T iterations
    expect(dmp.history[9]).toBeCloseTo(summary.networks[0].wmmseHistory[5], 12);

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: t\nnetworks:\n  - { model: rayleigh-ic, K: 0 }\nalgorithms: [wmmse]\n');
    const b = await dmpemu(['run', bad, '--out', join(dir, 'runs-bad')]);
    expect(b.code).toBe(2);
    expect(b.stderr.trim()).toBe(`dmpemu: ${bad}: invalid scenario: networks[0].K: Too small: expected number to be >0`);
    expect(() => readdirSync(join(dir, 'runs-bad'))).toThrow();
  });

  it('outputs.dir /proc/x is refused in one line, exit 2 (mkdir -p hung there)', async () => {
    const sc = join(dir, 'proc.yaml');
    writeFileSync(sc, 'name: t\nnetworks:\n  - { model: rayleigh-ic, K: 3 }\nalgorithms: [wmmse]\noutputs: { dir: /proc/x }\n');
    const r = await dmpemu(['run', sc]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('dmpemu: outputs.dir /proc/x: cannot create directory (ENOENT)');
  });

  it('an unreachable NATS URL fails the run in one line', async () => {
    const sc = join(dir, 'sc2.yaml');
    writeFileSync(sc, 'name: t\nnetworks:\n  - { model: rayleigh-ic, K: 3 }\nalgorithms: [wmmse-dmp]\n');
    const r = await dmpemu(['run', sc, '--out', join(dir, 'runs2'), '--nats', 'nats://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^dmpemu: cannot connect to NATS at nats:\/\/127\.0\.0\.1:1: .+$/);
  });
});
