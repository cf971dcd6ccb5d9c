import { appendFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import cliProgress from 'cli-progress';
import { ARCHITECTURE_OPTIONS, mlpPowers, resolveArchitecture, runInProcess, saveCheckpoint, type Checkpoint, type MlpArchitecture } from '@dmpemu/dmp';
import { generateInstance, objective, Rng, runCentralized, type Instance } from '@dmpemu/wireless';
import type { AdamState } from '@dmpemu/gnn';
import { MODELS_DIR, readCheckpoint, readManifest, updateManifest } from '../scenario/checkpoints.ts';
import { ntOf } from '../scenario/networkSchema.ts';
import type { TrainScenario } from '../scenario/trainScenario.ts';
import { makeDir } from '../scenario/makeDir.ts';
import { UsageError } from '../scenario/usageError.ts';
import { writeCurveSvg, writeTrainReport } from '../report/trainReport.ts';

export interface TrainArgs {
  /** --out: the checkpoint directory (overrides output.dir; the only way to write into scenarios/models/). */
  out?: string;
  resume: boolean;
  /** Override training.steps. */
  steps?: number;
  quiet: boolean;
  /** Gradient worker threads (train's `workers`; default 1 = in process). */
  workers?: number;
  command: string;
  log: (s: string) => void;
}

/** Mean objective of the checkpoint (a GNN: its T rounds in process; the MLP: centralized) over the mean of WMMSE-100. */
export function validationRatio(c: Checkpoint, insts: Instance[], wmmse100: number): number {
  const rate = (inst: Instance): number =>
    c.architecture.kind === 'mlp'
      ? objective(inst, { kind: 'power', p: mlpPowers(c as Checkpoint<MlpArchitecture>, inst) })
      : runInProcess(inst, { name: c.architecture.kind, checkpoint: c }, { checkOutputs: false }).history.at(-1)!; // a diverging model's NaN is recorded, not fatal
  return insts.reduce((s, inst) => s + rate(inst), 0) / insts.length / wmmse100;
}

/** What checkpoint and manifest call the training set: its instance count, or fresh instances every batch. */
function trainingSetSize(sc: TrainScenario): number | 'fresh per batch' {
  return sc.training.samples || 'fresh per batch';
}

/**
 * The checkpoint directory: --out, else output.dir, else runs/train/<name>/. The shipped
 * checkpoints (scenarios/models/) are written only with an explicit --out.
 */
export function trainingDir(sc: TrainScenario, out: string | undefined): string {
  if (out) return out;
  const dir = sc.output.dir ?? join('runs', 'train', sc.name);
  if (resolve(dir) === resolve(MODELS_DIR))
    throw new UsageError(`${sc.name}: output.dir ${sc.output.dir} holds the shipped checkpoints: write there only with an explicit --out ${sc.output.dir} (default runs/train/${sc.name}/)`);
  return dir;
}

/** curve.jsonl / curve.svg in a training's own directory; <name>.curve.* in a shared one (--out, output.dir). */
function curveFiles(dir: string, name: string, own: boolean): { jsonl: string; svg: string } {
  const base = own ? 'curve' : `${name}.curve`;
  return { jsonl: join(dir, `${base}.jsonl`), svg: join(dir, `${base}.svg`) };
}

/**
 * `dmpemu train`: train a WCGCN on the scenario's network with a progress bar (samples/s, loss,
 * validation ratio to WMMSE-100, backend), saving the checkpoint every `validation.every` steps and
 * on SIGINT/SIGTERM; `resume` continues from the saved checkpoint up to the total step count.
 */
export async function trainCommand(sc: TrainScenario, a: TrainArgs): Promise<string> {
  const dir = trainingDir(sc, a.out);
  const { train, trainRegnn, ensureBackend } = await import('@dmpemu/gnn'); // TensorFlow.js only when training
  const out = join(dir, `${sc.name}.json`);
  makeDir(dir, a.out ? '--out' : 'output.dir');
  readManifest(dir); // a manifest.json that is not one fails now, not after the training
  const total = a.steps ?? sc.training.steps;
  const adamFile = join(dir, `${sc.name}.adam.json`);
  const curve = curveFiles(dir, sc.name, !a.out && !sc.output.dir);
  if (!a.resume) rmSync(curve.jsonl, { force: true });
  let init: Checkpoint | undefined;
  let adam: AdamState | undefined;
  if (a.resume) {
    if (!existsSync(out)) throw new UsageError(`--resume: no checkpoint at ${out} to resume from`);
    init = readCheckpoint(out, '--resume');
    adam = resumedAdam(adamFile, init, a.log);
  }
  const done0 = Number(init?.training.steps ?? 0);
  if (done0 >= total) return `${out} already has ${done0} of ${total} steps; nothing to do`;
  const { model, K, ...options } = sc.network;
  const { kind, features, ...architecture } = sc.architecture;
  if (init && init.architecture.kind !== kind) throw new UsageError(`--resume: ${out} holds a ${init.architecture.kind}, the scenario trains a ${kind}`);
  if (init) checkResumable(init, sc, out);
  if (kind === 'regnn' && features !== undefined) throw new UsageError(`${sc.name}: architecture.features: a regnn fits its own graph normalisation; remove it`);
  if (kind === 'uwmmse' && features === 'db') throw new UsageError(`${sc.name}: architecture.features: a uwmmse's graph shift takes log1p (default) or linear, not db (a shifted dB value is no edge weight)`);
  if (kind === 'regnn' && sc.training.samples > 0) throw new UsageError(`${sc.name}: training.samples must be 0 for a regnn (primal-dual training draws fresh instances every step), got ${sc.training.samples}`);
  if (kind === 'regnn' && (a.workers ?? 1) > 1) throw new UsageError(`--workers: primal-dual (regnn) training runs in one process; drop --workers ${a.workers}`);
  if (kind !== 'regnn' && sc.training.primalDual) throw new UsageError(`${sc.name}: training.primalDual is for kind regnn, the scenario trains a ${kind}`);
  const draw = (seed: number, label: string, n: number): Instance[] => Array.from({ length: n }, (_, i) => generateInstance(model, Rng.derive(seed, `${label}/${i}`), { K, ...options }));
  const trainSet = sc.training.samples > 0 ? draw(sc.training.seed, 'train', sc.training.samples) : undefined;
  const valSet = draw(sc.validation.seed, 'validation', sc.validation.instances);
  const wmmse100 = valSet.reduce((s, inst) => s + objective(inst, runCentralized('wmmse', inst, { iterations: 100 })), 0) / valSet.length;
  const backend = await ensureBackend();
  const bar = new cliProgress.SingleBar(
    { format: `${sc.name} [{bar}] {value}/{total} steps | {sps} samples/s | loss {loss} | {val} of WMMSE-100 | ${backend}`, noTTYOutput: true, notTTYSchedule: 10_000, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  if (!a.quiet) bar.start(total, done0, { sps: '-', loss: '-', val: '-' });
  let lastRatio = NaN;
  let lastLoss = NaN;
  const abort = new AbortController();
  const stop = (sig: string) => () => abort.abort(sig);
  const onInt = stop('SIGINT'), onTerm = stop('SIGTERM');
  process.once('SIGINT', onInt).once('SIGTERM', onTerm);
  const t0 = performance.now();
  const secondsBefore = a.resume ? curveUpTo(curve.jsonl, done0) : 0; // a resumed run's curve counts on from the checkpoint's line
  let final: Checkpoint;
  try {
    const common = {
      steps: total - done0,
      batch: sc.training.batch,
      lr: sc.training.lr,
      seed: `${sc.training.seed}/${done0}`,
      training: { scenario: sc.name, network: sc.network, trainingSetSize: trainingSetSize(sc) },
      every: sc.validation.every,
      signal: abort.signal,
      onCheckpoint: (c: Checkpoint, _done: number, adam?: AdamState) => {
        lastRatio = validationRatio(c, valSet, wmmse100);
        c.metrics.validationRatio = lastRatio;
        const step = Number(c.training.steps);
        appendFileSync(curve.jsonl, JSON.stringify({ step, samples: step * sc.training.batch, loss: lastLoss, validationRatio: lastRatio, seconds: secondsBefore + (performance.now() - t0) / 1000 }) + '\n');
        saveCheckpoint(`${out}.tmp`, c);
        renameSync(`${out}.tmp`, out);
        if (adam) {
          writeFileSync(`${adamFile}.tmp`, JSON.stringify({ checkpoint: c.hash, ...adam }));
          renameSync(`${adamFile}.tmp`, adamFile);
        }
        if (!a.quiet) bar.update({ val: `${(100 * lastRatio).toFixed(1)}%` });
      },
    };
    const progress = (step: number, sps: number, loss: number): void => {
      lastLoss = loss;
      if (!a.quiet) bar.update(done0 + step + 1, { sps: sps.toFixed(0), loss: loss.toFixed(4) });
    };
    const generator = (rng: Rng): Instance => generateInstance(model, rng, { K, ...options });
    if (kind === 'regnn') {
      const pd = sc.training.primalDual;
      final = await trainRegnn({
        ...common,
        K,
        generator,
        init,
        architecture: architecture as never,
        ...(pd && { Pmax: pd.Pmax, samples: pd.actionSamples, dualStep: pd.dualStep, dualDecay: pd.dualDecay, rLr: pd.rLr }),
        onStep: (s) => progress(s.step, s.samplesPerSecond, -s.lagrangian), // loss: minus the Lagrangian
      });
    } else {
      final = await train({
        ...common,
        instances: trainSet,
        generator: trainSet ? undefined : generator,
        init,
        kind,
        architecture: architecture as never,
        features,
        adam,
        workers: a.workers,
        onStep: (s) => progress(s.step, s.samplesPerSecond, s.loss),
      });
    }
  } finally {
    process.off('SIGINT', onInt).off('SIGTERM', onTerm);
    if (!a.quiet) bar.stop();
  }
  const steps = Number(final.training.steps);
  updateManifest(dir, {
    name: sc.name,
    file: `${sc.name}.json`,
    hash: final.hash,
    architecture: describeArchitecture(final),
    network: sc.network,
    training: { steps, batch: sc.training.batch, lr: sc.training.lr, trainingSetSize: trainingSetSize(sc), samplesSeen: steps * sc.training.batch, seed: sc.training.seed, backend, workers: a.workers ?? 1, secondsThisRun: (performance.now() - t0) / 1000 },
    validationRatio: lastRatio,
    validationInstances: valSet.length,
    trainedAt: new Date().toISOString(),
    command: a.command,
  });
  const status = abort.signal.aborted ? `interrupted (${String(abort.signal.reason)}) at step ${steps} of ${total}; continue with --resume` : `trained ${steps} steps`;
  const drawn = await writeCurveSvg(curve.jsonl, curve.svg).then((f) => (f ? `\ncurve: ${curve.jsonl}, ${f}` : ''), (e) => `\ncould not draw the curve: ${(e as Error).message}`);
  const report = await writeTrainReport(dir, sc.name).then((f) => `${drawn}\nreport: ${f}`, (e) => `${drawn}\ncould not write the report: ${(e as Error).message}`);
  return `${status}: ${out} (hash ${final.hash.slice(0, 12)}), ${(100 * lastRatio).toFixed(1)}% of WMMSE-100 on ${valSet.length} validation instances${report}`;
}

/**
 * Cuts a curve.jsonl back to the lines up to `step`, the checkpoint `--resume` continues (a run
 * stopped between writing a line and saving its checkpoint left one the resumed run writes again),
 * and returns the seconds of the last line kept (0 without one, or when it does not parse).
 */
function curveUpTo(file: string, step: number): number {
  if (!existsSync(file)) return 0;
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const parsed = lines.map((l) => {
    try {
      return JSON.parse(l) as { step?: unknown; seconds?: unknown };
    } catch {
      return undefined;
    }
  });
  const cut = parsed.findIndex((r) => typeof r?.step === 'number' && r.step > step);
  if (cut >= 0) writeFileSync(file, lines.slice(0, cut).map((l) => l + '\n').join(''));
  const seconds = parsed[(cut >= 0 ? cut : parsed.length) - 1]?.seconds;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
}

/**
 * Throws unless the checkpoint `--resume` continues has the architecture the scenario describes
 * (its options and defaults, and `features` when given): training continues the checkpoint's
 * model, so a changed `layers` would otherwise be ignored without a word.
 */
function checkResumable(init: Checkpoint, sc: TrainScenario, out: string): void {
  const { kind, features, ...options } = sc.architecture;
  const n = sc.network;
  const wanted = resolveArchitecture(kind, options, init.architecture.features, { K: n.K, Nt: ntOf(n), miso: n.model === 'miso' }) as unknown as Record<string, unknown>;
  const held = init.architecture as unknown as Record<string, unknown>;
  const implicit: Record<string, unknown> = { edges: wanted.task === 'beamforming' ? 'in' : undefined, powerFeature: false }; // what an absent key means
  for (const key of ['task', 'Nt', 'K', ...ARCHITECTURE_OPTIONS[kind]]) {
    const [a, b] = [held[key] ?? implicit[key], wanted[key] ?? implicit[key]];
    if (JSON.stringify(a) !== JSON.stringify(b))
      throw new UsageError(`--resume: ${out} holds a ${kind} with ${key} ${JSON.stringify(a) ?? 'unset'}, the scenario describes ${key} ${JSON.stringify(b) ?? 'unset'} (training continues the checkpoint's model: train the new one under another name)`);
  }
  if (features !== undefined && features !== init.architecture.features.transform)
    throw new UsageError(`--resume: ${out} holds a ${kind} with features ${init.architecture.features.transform}, the scenario describes features ${features} (training continues the checkpoint's model: train the new one under another name)`);
}

/**
 * Adam's state saved beside the checkpoint (`<name>.adam.json`), when it belongs to that
 * checkpoint (same hash); else undefined, and `log` says that the moments restart.
 */
function resumedAdam(file: string, init: Checkpoint, log: (s: string) => void): AdamState | undefined {
  if (init.architecture.kind === 'regnn') return undefined; // primal-dual keeps its dual state in the checkpoint; its Adam moments restart
  if (!existsSync(file)) {
    log(`--resume: no optimizer state at ${file}; Adam's moments restart`);
    return undefined;
  }
  let saved: unknown;
  try {
    saved = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`--resume: cannot read the optimizer state ${file} (${(e as Error).message.split('\n')[0]}); delete it to restart Adam's moments`);
  }
  const checkpoint = (saved as { checkpoint?: unknown } | null)?.checkpoint;
  if (checkpoint !== init.hash) {
    log(`--resume: ${file} belongs to another checkpoint (${String(checkpoint).slice(0, 12)}); Adam's moments restart`);
    return undefined;
  }
  const problem = adamStateProblem(saved as Record<string, unknown>, init);
  if (problem) throw new UsageError(`--resume: the optimizer state ${file}: ${problem}; delete it to restart Adam's moments`);
  const { checkpoint: _c, ...state } = saved as AdamState & { checkpoint: string };
  return state;
}

/** What is wrong with a saved Adam state for `c`'s weights (iterations, and m, v of each weight's size, finite, v >= 0), or undefined. */
function adamStateProblem(s: Record<string, unknown>, c: Checkpoint): string | undefined {
  if (!Number.isInteger(s.iterations) || (s.iterations as number) < 0) return `iterations must be a non-negative integer, got ${JSON.stringify(s.iterations)}`;
  const moments = s.moments as Record<string, { m?: unknown; v?: unknown }> | undefined;
  for (const [name, w] of Object.entries(c.weights)) {
    for (const k of ['m', 'v'] as const) {
      const x = moments?.[name]?.[k];
      if (!Array.isArray(x) || x.length !== w.data.length || !x.every((y) => Number.isFinite(y) && (k === 'm' || y >= 0)))
        return `moments.${name}.${k} must list ${w.data.length} finite numbers${k === 'v' ? ' >= 0' : ''}`;
    }
  }
  return undefined;
}

/** One line naming a checkpoint's architecture, for the manifest. */
export function describeArchitecture(c: Checkpoint): string {
  const a = c.architecture;
  switch (a.kind) {
    case 'wcgcn':
      return `wcgcn ${a.task === 'beamforming' ? `beamforming Nt=${a.Nt} ` : ''}T=${a.layers} mlp1 ${a.mlp1.join('-')} mlp2 ${a.mlp2.join('-')} ${a.aggregation} ${a.features.transform}`;
    case 'pcgnn':
      return `pcgnn T=${a.layers} hidden ${a.hidden} edge ${a.edgeEmbedding} head ${a.head.join('-') || '-'} ${a.aggregation} ${a.features.transform}${a.powerFeature ? ' power feature' : ''}`;
    case 'mlp':
      return `mlp K=${a.K} hidden ${a.hidden.join('-')} ${a.features.transform}`;
    case 'regnn':
      return `regnn L=${a.layers} taps ${a.taps.join('-')} widths ${a.widths.join('-')} p0=${a.p0} ${a.shift} ${a.decision}`;
    case 'ecgnn':
      return `ecgnn T=${a.layers} hidden ${a.hidden.join('-')} head ${a.head.join('-') || '-'} mean ${a.features.transform}`;
    case 'uwmmse':
      return `uwmmse L=${a.layers} gcn 1-${a.gcnHidden}-1 ${a.features.transform}`;
    case 'mpnn':
      return `mpnn T=${a.layers} ${a.aggregation} state ${a.state.join(',')} edge ${a.edge.join(',')} (imported from ONNX)`;
    case 'cf-pcgnn':
      return `cf-pcgnn T=${a.layers} hidden ${a.hidden} head ${a.head.join('-') || '-'} ${a.aggregation} ${a.features.transform}`;
    case 'cf-mlp':
      return `cf-mlp M=${a.M} K=${a.K} hidden ${a.hidden.join('-')} ${a.features.transform}`;
    case 'hetgnn':
      return `hetgnn T=${a.layers} hidden ${a.hidden} head ${a.head.join('-') || '-'} ${a.aggregation} ${a.features.transform}`;
  }
}
