import { resolve as resolvePath } from 'node:path';
import { loadModule } from '@dmpemu/dmp';
import { bundleModule } from '../scenario/algorithmModules.ts';
import Table from 'cli-table3';
import { checkMlpNetwork, createAlgorithm, DMP_ALGORITHMS, LEARNED_DMP_ALGORITHMS, type AlgorithmSpec, type Checkpoint, type MissingPolicy, type MlpArchitecture } from '@dmpemu/dmp';
import { readCheckpoint } from '../scenario/checkpoints.ts';
import { checkCentralizedNetwork, isMiso, type CentralizedAlgorithm, type InstanceFile } from '@dmpemu/wireless';
import { closeBroker, Coordinator, openBroker } from '../run/coordinator.ts';
import type { Clock } from '../run/coordinator.ts';
import { evalCentralized, evalDmp, evalMlp, mean, overtakes, type Evaluation } from '../run/evaluation.ts';
import { ITERATIVE, LEARNED_CENTRALIZED } from '../scenario/algorithmNames.ts';
import { fromCurves, wmmseCurve } from '../run/yardstick.ts';
import type { RunObserver } from '../run/observer.ts';
import { csiEdges } from './run.ts';
import { readInstancesFile } from '../scenario/instancesFile.ts';
import { foreignAlgorithmKey } from '../scenario/scenario.ts';
import { UsageError } from '../scenario/usageError.ts';

export const EVAL_ALGORITHMS = ['wmmse', 'fplinq', 'best-fplinq', 'strongest', 'full', 'random', 'equal', ...LEARNED_CENTRALIZED, ...DMP_ALGORITHMS] as const;

export interface EvalArgs {
  instances: string;
  /** A built-in's name, or the path of an own algorithm module. */
  algorithm: (typeof EVAL_ALGORITHMS)[number] | string;
  /** wmmse, fplinq, wmmse-dmp (default 100); refused for the others. */
  iterations?: number;
  seed: number;
  history: boolean;
  /** Absent: centralized. `inprocess`: as a DMP in this process. `nats`: decentralised agents. */
  runtime?: 'nats' | 'inprocess';
  nats?: string;
  agentsPerProcess: number;
  roundDeadlineMs: number;
  policy: MissingPolicy;
  /** An own module's parameters (--param key=value). */
  params?: Record<string, unknown>;
  /** With --runtime: who starts rounds, and the async clock's schedule. */
  clock?: Clock;
  async?: { periodMs: number; jitter: number; activation: number };
  /** Learned algorithms: checkpoint name (scenarios/models/) or path, and rounds to run. */
  checkpoint?: string;
  rounds?: number;
  log?: (s: string) => void;
  /** With --runtime: hears the DMP's jobs, rounds, deaths and faults (the live dashboard); it only watches. */
  observer?: RunObserver;
}

/**
 * The stable JSON contract of `dmpemu eval --json`: later versions add fields, never rename these.
 * `rates[n]` is the weighted sum rate (sum rate when all w_k = 1) of instance n in bit/s/Hz;
 * `seconds` the compute time of the algorithm over all instances, file I/O excluded.
 */
export interface EvalResult extends Evaluation {
  algorithm: string;
  instances: number;
  meanRate: number;
  iterations?: number;
  /** With --runtime: where the DMP ran (its round count is `rounds`, its traffic and faults the Evaluation's fields). */
  runtime?: string;
  /** DMP: centralized WMMSE-100 (global CSI) on the same instances, and the run relative to it. */
  wmmse100?: number;
  normalised?: number;
  normalisedHistory?: number[];
  /** DMP: the smallest round count after which it beats centralized WMMSE with 10 / 30 / 100 iterations. */
  overtakes?: Record<string, number | null>;
  /** Learned algorithms: the checkpoint's hash. */
  checkpoint?: string;
}

/** DMP form of an algorithm name: `wmmse` runs as `wmmse-dmp` under --runtime. */
function dmpName(name: string): string {
  if ((DMP_ALGORITHMS as readonly string[]).includes(name)) return name;
  if (name === 'wmmse') return 'wmmse-dmp';
  throw new UsageError(`--algorithm ${name} has no DMP form for --runtime; expected one of wmmse, ${DMP_ALGORITHMS.join(', ')}`);
}

/**
 * Throws a UsageError unless the algorithm runs on the file's networks, by building it as the run
 * would (a DMP for the file's Nt, the MLP for its K, a centralized baseline for SISO or MISO):
 * before any agent starts.
 */
function checkRuns(a: EvalArgs, file: InstanceFile, spec: AlgorithmSpec | undefined, checkpoint: Checkpoint | undefined): void {
  const inst = file.instances[0];
  try {
    if (spec) createAlgorithm(spec, inst.Nt);
    else if (a.algorithm === 'mlp') checkMlpNetwork(checkpoint!.architecture as MlpArchitecture, inst.K, inst.Nt, 'mlp', isMiso(inst));
    else checkCentralizedNetwork(a.algorithm as CentralizedAlgorithm, file.model, inst.Nt, isMiso(inst));
  } catch (e) {
    throw new UsageError(`--algorithm ${a.algorithm}${a.checkpoint ? ` --checkpoint ${a.checkpoint}` : ''} on ${a.instances}: ${(e as Error).message}`);
  }
}

export async function evaluate(a: EvalArgs): Promise<EvalResult> {
  if (isModulePath(a.algorithm)) return evaluateModule(a);
  if (a.params && Object.keys(a.params).length) throw new UsageError(`--param is for own algorithm modules (--algorithm <file>), not ${a.algorithm}`);
  const learned = (LEARNED_DMP_ALGORITHMS as readonly string[]).includes(a.algorithm);
  const mlp = a.algorithm === 'mlp';
  if ((learned || mlp) && !a.checkpoint) throw new UsageError(`--algorithm ${a.algorithm} needs --checkpoint <name or path>`);
  if (!learned && !mlp && a.checkpoint) throw new UsageError(`--checkpoint is for learned algorithms (${[...LEARNED_DMP_ALGORITHMS, ...LEARNED_CENTRALIZED].join(', ')}), not ${a.algorithm}`);
  if (!learned && a.rounds) throw new UsageError(`--rounds is for learned DMP algorithms (${LEARNED_DMP_ALGORITHMS.join(', ')}), not ${a.algorithm}`);
  const dmpForm = a.runtime && a.algorithm === 'wmmse' ? 'wmmse-dmp' : a.algorithm;
  if (a.iterations !== undefined && foreignAlgorithmKey(dmpForm, 'iterations')) throw new UsageError(`--iterations is for wmmse, fplinq and wmmse-dmp, not ${a.algorithm}`);
  const iterations = a.iterations ?? 100;
  const checkpoint = a.checkpoint ? readCheckpoint(a.checkpoint) : undefined;
  if (checkpoint && checkpoint.architecture.kind !== (mlp ? 'mlp' : a.algorithm))
    throw new UsageError(`--checkpoint ${a.checkpoint} holds a ${checkpoint.architecture.kind} model, not ${a.algorithm}`);
  if (mlp) {
    if (a.runtime) throw new UsageError('--algorithm mlp is centralized (it needs the whole channel): drop --runtime');
    const file = readInstancesFile(a.instances);
    checkRuns(a, file, undefined, checkpoint);
    const e = evalMlp(file.instances, checkpoint!);
    return { algorithm: 'mlp', instances: file.instances.length, meanRate: mean(e.rates), rates: e.rates, seconds: e.seconds, checkpoint: checkpoint!.hash };
  }
  const runtime = a.runtime ?? (learned ? 'inprocess' : undefined);
  const file = readInstancesFile(a.instances);
  const count = file.instances.length;
  if (!runtime) {
    if ((DMP_ALGORITHMS as readonly string[]).includes(a.algorithm)) throw new UsageError(`--algorithm ${a.algorithm} is a DMP algorithm: give --runtime nats or --runtime inprocess`);
    checkRuns(a, file, undefined, checkpoint);
    const e = evalCentralized(file.instances, a.algorithm as CentralizedAlgorithm, { iterations, seed: a.seed, history: a.history });
    const r: EvalResult = { algorithm: a.algorithm, instances: count, meanRate: mean(e.rates), rates: e.rates, seconds: e.seconds };
    if (ITERATIVE.has(a.algorithm)) r.iterations = iterations;
    if (e.history) r.history = e.history;
    return r;
  }
  const spec = { name: dmpName(a.algorithm), iterations: learned ? undefined : iterations, checkpoint, rounds: a.rounds };
  checkRuns(a, file, spec, checkpoint);
  return evaluateDmp(a, file, spec, runtime, learned ? undefined : iterations);
}

/** Whether `--algorithm` names a module file (a path) rather than a built-in. */
export function isModulePath(algorithm: string): boolean {
  return algorithm.includes('/') || /\.(ts|mts|js|mjs)$/.test(algorithm);
}

/** An own algorithm module (README, "Write your own algorithm"), with its `--param`s: a DMP, in process unless --runtime nats. */
async function evaluateModule(a: EvalArgs): Promise<EvalResult> {
  for (const [flag, v] of [['--checkpoint', a.checkpoint], ['--rounds', a.rounds], ['--iterations', a.iterations]] as const)
    if (v !== undefined) throw new UsageError(`${flag} is not for a module (--algorithm ${a.algorithm}): give it what it takes with --param key=value`);
  const path = resolvePath(a.algorithm);
  const module = bundleModule(path, '--algorithm');
  const spec: AlgorithmSpec = { name: 'module', module, params: a.params ?? {} };
  try {
    await loadModule(module);
  } catch (e) {
    throw new UsageError(`--algorithm ${a.algorithm}: ${(e as Error).message}`);
  }
  const file = readInstancesFile(a.instances);
  checkRuns(a, file, spec, undefined);
  return evaluateDmp({ ...a, algorithm: module.label }, file, spec, a.runtime ?? 'inprocess', undefined);
}

/** A DMP on every instance of the file, in process or over NATS, against centralized WMMSE-100. */
async function evaluateDmp(a: EvalArgs, file: InstanceFile, spec: AlgorithmSpec, runtime: 'nats' | 'inprocess', iterations: number | undefined): Promise<EvalResult> {
  const count = file.instances.length;
  const checkpoint = spec.checkpoint;
  const learned = checkpoint !== undefined;
  const planned = createAlgorithm(spec, file.instances[0].Nt).rounds;
  // centralized WMMSE's curves first, so that an observer has them beside the rounds
  const curves = file.instances.map((inst) => wmmseCurve(inst, Math.max(100, Math.ceil(planned / 2))));
  const emit: RunObserver = a.observer ?? (() => {});
  const network = `${file.model}-k${file.K}`;
  const label = spec.module ? spec.module.label : learned ? a.algorithm : `${spec.name}-${iterations}`;
  const t0 = Date.now();
  emit({ type: 'run', runId: `eval-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}`, scenario: `eval ${label} on ${a.instances}`, dir: '', jobs: count, networks: [{ name: network, model: file.model, K: file.K, instances: count }] });
  curves.forEach((curve, instance) => emit({ type: 'wmmse', network, instance, curve: Array.from(curve) }));
  const broker = runtime === 'nats' ? await openBroker(a.nats, a.log) : undefined;
  let c: Coordinator | undefined;
  let status: 'completed' | 'failed' = 'failed';
  let reason: string | undefined;
  try {
    if (broker) {
      c = await Coordinator.start({ broker, log: a.log });
      await c.launch(file.K, a.agentsPerProcess);
    }
    const at = (n: number) => ({ job: n + 1, network, instance: n });
    const e = await evalDmp(file.instances, spec, {
      coordinator: c,
      roundDeadlineMs: a.roundDeadlineMs,
      policy: a.policy,
      clock: a.clock,
      async: a.async,
      onInstance: (n) => {
        const inst = file.instances[n];
        emit({ type: 'job', ...at(n), of: count, algorithm: label, kind: 'dmp', rounds: planned, K: inst.K, tx: inst.tx && Array.from(inst.tx), rx: inst.rx && Array.from(inst.rx), edges: csiEdges(inst) });
      },
      onRound: (n, record, agents) => emit({ type: 'round', ...at(n), algorithm: label, t: record.t, record, normalised: record.objective / curves[n][100], agents }),
      onDeath: (n, death) => emit({ type: 'death', ...at(n), death }),
      onEvent: (n, event) => emit({ type: 'fault', ...at(n), event }),
    });
    const { rates, seconds, history, rounds, ...rest } = e;
    const y = fromCurves(curves);
    status = 'completed';
    return {
      algorithm: a.algorithm,
      instances: count,
      meanRate: mean(rates),
      rates,
      seconds,
      iterations: learned ? undefined : iterations,
      runtime: c ? (c.transportKind === 'nats' ? 'nats' : 'memory') : 'inprocess',
      rounds,
      history,
      ...rest,
      wmmse100: y.wmmse100,
      normalised: mean(rates) / y.wmmse100,
      normalisedHistory: history!.map((h) => h / y.wmmse100),
      overtakes: overtakes(history!, y),
      checkpoint: checkpoint?.hash,
    };
  } catch (e) {
    reason = (e as Error).message;
    throw e;
  } finally {
    await c?.shutdown();
    if (broker) await closeBroker(broker);
    emit({ type: 'end', status, reason, seconds: (Date.now() - t0) / 1000 });
  }
}

export function formatEval(r: EvalResult): string {
  const table = new Table({ head: ['algorithm', 'runtime', 'instances', 'mean rate (bit/s/Hz)', 'min', 'max', 'ms / instance', 'ms / round'], style: { head: [], border: [] } });
  table.push([
    r.iterations ? `${r.algorithm} (${r.iterations} it.)` : r.algorithm,
    r.runtime ? `${r.runtime}, ${r.rounds} rounds` : 'centralized',
    r.instances,
    r.meanRate.toFixed(4),
    Math.min(...r.rates).toFixed(4),
    Math.max(...r.rates).toFixed(4),
    ((r.seconds * 1000) / r.instances).toFixed(3),
    r.meanRoundLatencyMs !== undefined ? r.meanRoundLatencyMs.toFixed(2) : '-',
  ]);
  if (r.normalised !== undefined) {
    const o = r.overtakes!;
    const when = (k: string): string => (o[k] === null ? 'never' : `after ${o[k]} rounds`);
    return `${table.toString()}\n${(100 * r.normalised).toFixed(1)}% of centralized WMMSE-100 (${r.wmmse100!.toFixed(4)}); beats WMMSE-10 ${when('wmmse10')}, WMMSE-30 ${when('wmmse30')}, WMMSE-100 ${when('wmmse100')}`;
  }
  return table.toString();
}
