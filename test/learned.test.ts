import { execFile, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { loadCheckpoint, runInProcess, type Checkpoint } from '@dmpemu/dmp';
import { Sealer, subjects } from '@dmpemu/wire';
import { MODELS_DIR } from '../coordinator/src/scenario/checkpoints.ts';
import { localView, rayleighInstance, Rng, withMissingCsi } from '@dmpemu/wireless';
import { Coordinator } from '../coordinator/src/run/coordinator.ts';
import { parseScenario } from '../coordinator/src/scenario/scenario.ts';

const CLI = new URL('../bin/dmpemu.js', import.meta.url).pathname;
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'dmpemu-learned-'));

/** A small checkpoint trained by the CLI itself (a few steps: this checks plumbing, not quality). */
async function trainTiny(): Promise<{ path: string; c: Checkpoint; out: string }> {
  const sc = join(dir, 'tiny.yaml');
  writeFileSync(sc, ['name: tiny', 'network: { model: rayleigh-ic, K: 6, snrDb: 10 }', 'architecture: { layers: 2, mlp1: [5, 8, 8], mlp2: [11, 8, 1] }', 'training: { samples: 64, steps: 4, batch: 16, seed: 3 }', 'validation: { instances: 8, every: 2 }', `output: { dir: ${dir} }`].join('\n'));
  const { stdout } = await run(process.execPath, [CLI, 'train', sc, '--quiet']);
  const path = join(dir, 'tiny.json');
  return { path, c: loadCheckpoint(path), out: stdout };
}

describe('learned DMP (WCGCN) end to end', () => {
  it('dmpemu train writes a verified checkpoint and a manifest line; --resume continues to the new total', async () => {
    const { c, out } = await trainTiny();
    expect(out).toMatch(/^trained 4 steps: .*tiny\.json \(hash [0-9a-f]{12}\), \d+\.\d% of WMMSE-100 on 8 validation instances/);
    expect(c.training.steps).toBe(4);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest).toHaveLength(1);
    expect(manifest[0]).toMatchObject({ name: 'tiny', file: 'tiny.json', hash: c.hash, validationInstances: 8 });
    const adam = () => JSON.parse(readFileSync(join(dir, 'tiny.adam.json'), 'utf8'));
    expect(adam()).toMatchObject({ checkpoint: c.hash, iterations: 4 }); // Adam's state beside the checkpoint it belongs to
    const { stdout } = await run(process.execPath, [CLI, 'train', join(dir, 'tiny.yaml'), '--resume', '--steps', '6', '--quiet']);
    expect(stdout).toMatch(/^trained 6 steps/); // no "moments restart" line: the state was found
    const resumed = loadCheckpoint(join(dir, 'tiny.json'));
    expect(resumed.training.steps).toBe(6);
    expect(adam()).toMatchObject({ checkpoint: resumed.hash, iterations: 6 });
  });

  it('--resume refuses an optimizer state it cannot read and a scenario whose architecture differs, naming the file or key, and leaves the checkpoint as it was (exit 2)', async () => {
    const { path, c } = await trainTiny();
    const adamFile = join(dir, 'tiny.adam.json');
    const resume = (sc = join(dir, 'tiny.yaml')) => run(process.execPath, [CLI, 'train', sc, '--resume', '--steps', '6', '--quiet']);
    const saved = JSON.parse(readFileSync(adamFile, 'utf8'));
    writeFileSync(adamFile, 'not json');
    await expect(resume()).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(new RegExp(`^dmpemu: --resume: cannot read the optimizer state ${adamFile} \\(.*JSON.*\\); delete it to restart Adam's moments\n$`)) });
    writeFileSync(adamFile, JSON.stringify({ ...saved, moments: { ...saved.moments, 'mlp1.0.kernel': { m: [1], v: saved.moments['mlp1.0.kernel'].v } } }));
    await expect(resume()).rejects.toMatchObject({ code: 2, stderr: `dmpemu: --resume: the optimizer state ${adamFile}: moments.mlp1.0.kernel.m must list 40 finite numbers; delete it to restart Adam's moments\n` });
    writeFileSync(adamFile, JSON.stringify(saved));
    // the same name with 3 layers: training would have continued the 2-layer checkpoint without a word
    const deeper = join(dir, 'tiny3.yaml');
    writeFileSync(deeper, readFileSync(join(dir, 'tiny.yaml'), 'utf8').replace('layers: 2', 'layers: 3'));
    await expect(resume(deeper)).rejects.toMatchObject({ code: 2, stderr: `dmpemu: --resume: ${path} holds a wcgcn with layers 2, the scenario describes layers 3 (training continues the checkpoint's model: train the new one under another name)\n` });
    writeFileSync(deeper, readFileSync(join(dir, 'tiny.yaml'), 'utf8').replace('architecture: {', 'architecture: { features: linear,'));
    await expect(resume(deeper)).rejects.toMatchObject({ code: 2, stderr: `dmpemu: --resume: ${path} holds a wcgcn with features db, the scenario describes features linear (training continues the checkpoint's model: train the new one under another name)\n` });
    expect(loadCheckpoint(path).hash).toBe(c.hash);
    expect((await resume()).stdout).toMatch(/^trained 6 steps/); // the restored state is taken
  });

  it('a manifest.json in the output directory that is not one is refused before training, naming it (it failed after the training, without the file)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'dmpemu-manifest-'));
    const sc = join(out, 'm.yaml');
    writeFileSync(sc, ['name: m', 'network: { model: rayleigh-ic, K: 4, snrDb: 10 }', 'architecture: { layers: 2, mlp1: [5, 8, 8], mlp2: [11, 8, 1] }', 'training: { samples: 8, steps: 2, batch: 4, seed: 3 }', 'validation: { instances: 4, every: 2 }'].join('\n'));
    const manifest = join(out, 'manifest.json');
    for (const [text, why] of [['not json', /^not a manifest \(Unexpected token .*\)$/], ['{"a":1}', /^not a manifest \(expected a JSON list of entries, each with a name\)$/]] as const) {
      writeFileSync(manifest, text);
      const r = await run(process.execPath, [CLI, 'train', sc, '--out', out, '--quiet']).then(() => ({ code: 0, stderr: '' }), (e) => ({ code: e.code as number, stderr: e.stderr as string }));
      expect(r.code).toBe(2);
      expect(r.stderr.startsWith(`dmpemu: ${manifest}: `)).toBe(true);
      expect(r.stderr.trim().slice(`dmpemu: ${manifest}: `.length)).toMatch(why);
      expect(existsSync(join(out, 'm.json'))).toBe(false);
    }
  });

  it('dmpemu train writes to runs/train/<name>/ by default with curve.jsonl and curve.svg, and never into the shipped scenarios/models/ without --out', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'dmpemu-traindir-'));
    const lines = ['name: fresh', 'network: { model: rayleigh-ic, K: 6, snrDb: 10 }', 'architecture: { layers: 2, mlp1: [5, 8, 8], mlp2: [11, 8, 1] }', 'training: { samples: 64, steps: 4, batch: 16, seed: 3 }', 'validation: { instances: 8, every: 2 }'];
    writeFileSync(join(cwd, 'fresh.yaml'), lines.join('\n'));
    const { stdout } = await run(process.execPath, [CLI, 'train', 'fresh.yaml', '--quiet'], { cwd });
    const own = join(cwd, 'runs', 'train', 'fresh');
    expect(stdout).toContain(`curve: runs/train/fresh/curve.jsonl, runs/train/fresh/curve.svg`);
    const c = loadCheckpoint(join(own, 'fresh.json'));
    expect([c.training.trainingSetSize, c.training.samplesSeen, c.training.samples]).toEqual([64, 64, undefined]); // one word each: the set's size, the samples seen
    expect(JSON.parse(readFileSync(join(own, 'manifest.json'), 'utf8'))[0].training).toMatchObject({ trainingSetSize: 64, samplesSeen: 64 });
    const curve = () => readFileSync(join(own, 'curve.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(curve().map((r) => [r.step, r.samples, Object.keys(r).sort()])).toEqual([2, 4].map((s) => [s, 16 * s, ['loss', 'samples', 'seconds', 'step', 'validationRatio']]));
    expect(curve().every((r) => Number.isFinite(r.loss) && r.validationRatio > 0)).toBe(true);
    expect(readFileSync(join(own, 'curve.svg'), 'utf8')).toMatch(/^<svg[\s\S]*validationRatio[\s\S]*<\/svg>$/);
    await run(process.execPath, [CLI, 'train', 'fresh.yaml', '--resume', '--steps', '7', '--quiet'], { cwd });
    expect(curve().map((r) => r.step)).toEqual([2, 4, 6, 7]); // --resume appends
    await run(process.execPath, [CLI, 'train', 'fresh.yaml', '--resume', '--steps', '10', '--quiet'], { cwd });
    // validation at multiples of every, and seconds counted on from the last line (before: steps 9, 10 and seconds from 0 again)
    expect(curve().map((r) => r.step)).toEqual([2, 4, 6, 7, 8, 10]);
    const seconds = curve().map((r) => r.seconds);
    expect(seconds.every((x, i) => i === 0 || x >= seconds[i - 1])).toBe(true);
    // a run stopped after writing step 12's line but before saving its checkpoint: the resumed run writes step 12 once (before: twice)
    appendFileSync(join(own, 'curve.jsonl'), JSON.stringify({ step: 12, samples: 192, loss: -1, validationRatio: 0.5, seconds: 1e6 }) + '\n');
    await run(process.execPath, [CLI, 'train', 'fresh.yaml', '--resume', '--steps', '12', '--quiet'], { cwd });
    expect(curve().map((r) => r.step)).toEqual([2, 4, 6, 7, 8, 10, 12]);
    expect(curve().at(-1)!.seconds).toBeLessThan(1e6); // counted on from step 10's line, not the cut one
    // a scenario naming the shipped directory is refused before anything is written
    const shipped = readFileSync(join(MODELS_DIR, 'manifest.json'), 'utf8');
    writeFileSync(join(cwd, 'over.yaml'), [...lines, `output: { dir: ${MODELS_DIR} }`].join('\n'));
    await expect(run(process.execPath, [CLI, 'train', 'over.yaml', '--quiet'], { cwd })).rejects.toMatchObject({
      code: 2,
      stderr: `dmpemu: fresh: output.dir ${MODELS_DIR} holds the shipped checkpoints: write there only with an explicit --out ${MODELS_DIR} (default runs/train/fresh/)\n`,
    });
    expect(readFileSync(join(MODELS_DIR, 'manifest.json'), 'utf8')).toBe(shipped);
    expect(existsSync(join(MODELS_DIR, 'fresh.json'))).toBe(false);
  });

  it('SIGINT during dmpemu train stops it at the next step, saves the checkpoint and says how to continue', async () => {
    const sc = join(dir, 'long.yaml');
    writeFileSync(sc, ['name: long', 'network: { model: rayleigh-ic, K: 6, snrDb: 10 }', 'architecture: { layers: 2, mlp1: [5, 8, 8], mlp2: [11, 8, 1] }', 'training: { samples: 64, steps: 1000000, batch: 16, seed: 3 }', 'validation: { instances: 4, every: 5 }', `output: { dir: ${dir} }`].join('\n'));
    const child = spawn(process.execPath, [CLI, 'train', sc, '--quiet']);
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    while (!existsSync(join(dir, 'long.json'))) await new Promise((r) => setTimeout(r, 100)); // training has run `every` steps
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const steps = loadCheckpoint(join(dir, 'long.json')).training.steps as number;
    expect(steps).toBeGreaterThanOrEqual(5);
    expect(steps).toBeLessThan(1000000);
    expect(stdout).toContain(`interrupted (SIGINT) at step ${steps} of 1000000; continue with --resume`);
  });

  it('runs decentralised over NATS exactly as in process, with partial CSI', async () => {
    const { c } = await trainTiny();
    const inst = withMissingCsi(rayleighInstance(new Rng(5), { K: 6, snrDb: 10 }), { select: 'uniform', fraction: 0.4 }, new Rng(1));
    const co = await Coordinator.start({ broker: inject('natsUrl') });
    try {
      await co.launch(6, 3);
      for (const rounds of [undefined, 5]) {
        const spec = { name: 'wcgcn', checkpoint: c, rounds };
        const r = await co.runJob(inst, spec, { roundDeadlineMs: 5000, policy: 'skip' });
        const local = runInProcess(inst, spec);
        expect(r.rounds.map((x) => x.objective)).toEqual(local.history);
        expect(r.rounds).toHaveLength(rounds ?? 2);
      }
    } finally {
      await co.shutdown();
    }
  });

  it('an agent refuses weights whose hash does not match', async () => {
    const { c } = await trainTiny();
    const tampered = structuredClone(c);
    tampered.weights['mlp2.0.bias'].data[0] += 1e-3;
    const co = await Coordinator.start({ broker: inject('natsUrl') });
    const nc = await connect({ servers: inject('natsUrl') });
    try {
      await co.launch(2, 2);
      const inst = rayleighInstance(new Rng(1), { K: 2, snrDb: 10 });
      const msg = { type: 'configure', job: 99, k: 0, view: localView(inst, 0), algorithm: { name: 'wcgcn', checkpoint: tampered }, roundDeadlineMs: 1000, policy: 'skip', fromRound: 0, clock: 'barrier' };
      // a sealed configure (with the run's secret) and the host's sealed answer on its up subject
      const subj = subjects(co.runId);
      const sealer = new Sealer(co.secret);
      const answered = new Promise<unknown>((resolve) =>
        nc.subscribe(subj.upAll, {
          callback: (_e, m) => {
            const r = sealer.open(m.subject, m.data);
            if (r.ok) resolve(r.value);
          },
        }),
      );
      await nc.flush();
      nc.publish(subj.configure(0), sealer.seal(subj.configure(0), msg));
      const reply = await answered;
      expect(reply).toMatchObject({ type: 'refused', job: 99, k: 0 });
      expect((reply as { reason: string }).reason).toMatch(new RegExp(`^checkpoint hash mismatch: expected ${c.hash}, got [0-9a-f]{64}$`));
      await expect(co.runJob(inst, { name: 'wcgcn', checkpoint: tampered }, { roundDeadlineMs: 1000, policy: 'skip' })).rejects.toThrow(`checkpoint hash mismatch: expected ${c.hash}`);
    } finally {
      await nc.close();
      await co.shutdown();
    }
  });

  it('trains PCGNN, ECGNN, UWMMSE and the MLP baseline too; each runs where it belongs', async () => {
    const sets = {
      pcgnn: 'architecture: { kind: pcgnn, layers: 2, hidden: 8, edgeEmbedding: 4, head: [4] }',
      ecgnn: 'architecture: { kind: ecgnn, hidden: [8, 6], head: [4] }',
      uwmmse: 'architecture: { kind: uwmmse, layers: 2, gcnHidden: 3 }',
      mlp: 'architecture: { kind: mlp, hidden: [16, 8] }',
    };
    for (const [kind, arch] of Object.entries(sets)) {
      const sc = join(dir, `${kind}.yaml`);
      writeFileSync(sc, [`name: ${kind}-tiny`, 'network: { model: rayleigh-ic, K: 5, snrDb: 10 }', arch, 'training: { samples: 32, steps: 3, batch: 8, seed: 2 }', 'validation: { instances: 4, every: 3 }', `output: { dir: ${dir} }`].join('\n'));
      const { stdout } = await run(process.execPath, [CLI, 'train', sc, '--quiet']);
      expect(stdout).toMatch(/^trained 3 steps/);
      expect(loadCheckpoint(join(dir, `${kind}-tiny.json`)).architecture.kind).toBe(kind);
    }
    const insts = join(dir, 'k5.json');
    await run(process.execPath, [CLI, 'generate', '--model', 'rayleigh-ic', '--K', '5', '--count', '3', '--out', insts]);
    const mlp = JSON.parse((await run(process.execPath, [CLI, 'eval', '--instances', insts, '--algorithm', 'mlp', '--checkpoint', join(dir, 'mlp-tiny.json'), '--json'])).stdout);
    expect(mlp).toMatchObject({ algorithm: 'mlp', instances: 3, checkpoint: loadCheckpoint(join(dir, 'mlp-tiny.json')).hash });
    const pc = JSON.parse((await run(process.execPath, [CLI, 'eval', '--instances', insts, '--algorithm', 'pcgnn', '--checkpoint', join(dir, 'pcgnn-tiny.json'), '--json'])).stdout);
    expect(pc).toMatchObject({ algorithm: 'pcgnn', runtime: 'inprocess', rounds: 2 });
    const ec = JSON.parse((await run(process.execPath, [CLI, 'eval', '--instances', insts, '--algorithm', 'ecgnn', '--checkpoint', join(dir, 'ecgnn-tiny.json'), '--json'])).stdout);
    expect(ec).toMatchObject({ algorithm: 'ecgnn', runtime: 'inprocess', rounds: 2, checkpoint: loadCheckpoint(join(dir, 'ecgnn-tiny.json')).hash });
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { name: string; architecture: string }[];
    expect(manifest.find((e) => e.name === 'ecgnn-tiny')?.architecture).toBe('ecgnn T=2 hidden 8-6 head 4 mean db');
    const uw = JSON.parse((await run(process.execPath, [CLI, 'eval', '--instances', insts, '--algorithm', 'uwmmse', '--checkpoint', join(dir, 'uwmmse-tiny.json'), '--json'])).stdout);
    expect(uw).toMatchObject({ algorithm: 'uwmmse', runtime: 'inprocess', rounds: 4 });
    expect(manifest.find((e) => e.name === 'uwmmse-tiny')?.architecture).toBe('uwmmse L=2 gcn 1-3-1 log1p');
    await expect(run(process.execPath, [CLI, 'eval', '--instances', insts, '--algorithm', 'wcgcn', '--checkpoint', join(dir, 'pcgnn-tiny.json')])).rejects.toMatchObject({
      code: 2,
      stderr: `dmpemu: --checkpoint ${join(dir, 'pcgnn-tiny.json')} holds a pcgnn model, not wcgcn\n`,
    });
  }, 120_000); // nine CLI processes, each loading TensorFlow.js: 31 s alone beside a training job, over 60 s in the full suite beside it

  it('trains a REGNN (primal-dual) and a beamforming WCGCN from training scenarios; a regnn scenario with a fixed training set is refused', async () => {
    const sets = {
      regnn: ['network: { model: regnn-adhoc, K: 6 }', 'architecture: { kind: regnn, layers: 2, taps: [3, 2], widths: [4, 1] }', 'training: { samples: 0, steps: 5, batch: 4, seed: 2, primalDual: { Pmax: 6 } }'],
      miso: ['network: { model: miso, K: 5, Nt: 2, field: 150, dmin: 2, dmax: 40 }', 'architecture: { mlp1: [12, 8, 8], mlp2: [16, 8, 4] }', 'training: { samples: 16, steps: 3, batch: 8, seed: 2 }'],
    };
    for (const [name, lines] of Object.entries(sets)) {
      const sc = join(dir, `${name}.yaml`);
      writeFileSync(sc, [`name: ${name}-tiny`, ...lines, 'validation: { instances: 4, every: 100 }', `output: { dir: ${dir} }`].join('\n'));
      const { stdout } = await run(process.execPath, [CLI, 'train', sc, '--quiet']);
      expect(stdout).toMatch(new RegExp(`^trained ${name === 'regnn' ? 5 : 3} steps`));
    }
    const regnn = loadCheckpoint(join(dir, 'regnn-tiny.json'));
    expect(regnn.architecture).toMatchObject({ kind: 'regnn', taps: [3, 2], widths: [4, 1] });
    expect(regnn.training).toMatchObject({ Pmax: 6, actionSamples: 4, samplesSeen: 20, trainingSetSize: 'fresh per batch' });
    expect(loadCheckpoint(join(dir, 'miso-tiny.json')).architecture).toMatchObject({ kind: 'wcgcn', task: 'beamforming', Nt: 2 });
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { name: string; architecture: string }[];
    expect(manifest.find((e) => e.name === 'regnn-tiny')?.architecture).toBe('regnn L=2 taps 3-2 widths 4-1 p0=4 outgoing threshold');
    expect(manifest.find((e) => e.name === 'miso-tiny')?.architecture).toBe('wcgcn beamforming Nt=2 T=3 mlp1 12-8-8 mlp2 16-8-4 max log1p');
    const bad = join(dir, 'regnn-bad.yaml');
    writeFileSync(bad, ['name: regnn-bad', ...sets.regnn.slice(0, 2), 'training: { steps: 5 }'].join('\n'));
    await expect(run(process.execPath, [CLI, 'train', bad, '--quiet'])).rejects.toMatchObject({
      code: 2,
      stderr: 'dmpemu: regnn-bad: training.samples must be 0 for a regnn (primal-dual training draws fresh instances every step), got 10000\n',
    });
    await expect(run(process.execPath, [CLI, 'train', join(dir, 'regnn.yaml'), '--workers', '2', '--quiet'])).rejects.toMatchObject({
      code: 2,
      stderr: 'dmpemu: --workers: primal-dual (regnn) training runs in one process; drop --workers 2\n',
    });
  });

  it('a scenario naming a missing checkpoint is rejected before anything starts', () => {
    expect(() => parseScenario({ name: 'x', networks: [{ model: 'rayleigh-ic', K: 4 }], algorithms: [{ name: 'wcgcn', checkpoint: join(dir, 'nope.json') }] }, 's.yaml')).toThrow(
      `algorithms[0].checkpoint ${join(dir, 'nope.json')}: no checkpoint at ${join(dir, 'nope.json')}`,
    );
    expect(() => parseScenario({ name: 'x', networks: [{ model: 'rayleigh-ic', K: 4 }], algorithms: ['wcgcn'] }, 's.yaml')).toThrow('s.yaml: invalid scenario: algorithms[0].checkpoint: a learned algorithm needs a checkpoint (name or path)');
  });
});
