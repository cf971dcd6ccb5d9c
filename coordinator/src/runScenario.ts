import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { stringify as toYaml } from 'yaml';
import type { MissingPolicy } from '@dmpemu/dmp';
import { generateInstance, objective, Rng, runCentralized, type CentralizedAlgorithm, type Instance } from '@dmpemu/wireless';
import { resolveFaults } from './faultPlan.ts';
import { evalCentralized, evalDmp, evalMlp, ITERATIVE, mean, overtakes, type Evaluation } from './evaluation.ts';
import { Yardstick, type Normaliser } from './yardstick.ts';
import { closeBroker, Coordinator, openBroker, type Broker, type RoundRecord } from './coordinator.ts';
import { algorithmLabel, isDmp, loadCheckpoints, networkName, roundsOf, specOf, sweepScenarios, type Faults, type NetworkSpec, type Scenario } from './scenario.ts';
import type { Checkpoint } from '@dmpemu/dmp';
import { formatSummaryMarkdown, formatSummaryTable, writeSweepPlots } from './report.ts';
import { makeDir } from './makeDir.ts';

/** One algorithm on one network, over all its instances. */
export interface AlgorithmSummary {
  algorithm: string;
  kind: 'dmp' | 'centralized';
  runtime: 'nats' | 'memory' | 'inprocess' | 'centralized';
  /** Rounds (DMP) or iterations (iterative centralized algorithms). */
  rounds?: number;
  iterations?: number;
  meanRate: number;
  /** meanRate / the mean normaliser (the run's normaliseBy: centralized WMMSE-100 or Best FPLinQ) on the same instances. */
  normalised: number;
  rates: number[];
  /** Mean objective after each round, over instances (DMP only). */
  history?: number[];
  seconds: number;
  meanRoundLatencyMs?: number;
  messagesPerRound?: number;
  bytesPerRound?: number;
  deaths?: Evaluation['deaths'];
  events?: Evaluation['events'];
  malformed?: number;
  lost?: number;
  late?: number;
  /** Messages dropped, by kind (malformedData, malformedControl, unauthenticated, late, duplicate, conflicting, lost, overflow). */
  dropped?: Evaluation['dropped'];
  /** Instances and rounds a broker outage fell into: those results are marked, not silently different. */
  disturbed?: Evaluation['disturbed'];
  /** DMP: the smallest round count after which it beats centralized WMMSE with 10 / 30 / 100 iterations. */
  overtakes?: Record<string, number | null>;
}

function summarise(e: Evaluation, refMean: number): Omit<AlgorithmSummary, 'algorithm' | 'kind' | 'runtime' | 'iterations'> {
  const { rates, ...rest } = e;
  return { meanRate: mean(rates), normalised: mean(rates) / refMean, rates, ...rest };
}

export interface NetworkSummary {
  network: string;
  model: string;
  K: number;
  instances: number;
  wmmse100: number;
  /** The mean of the run's normaliser (normaliseBy) on these instances: wmmse100, or Best FPLinQ's. */
  normaliser: number;
  /** Mean objective of centralized WMMSE after i iterations, i = 0.. (0: the start p = Pmax). */
  wmmseHistory: number[];
  /** Edges removed from the agents' local views by missing CSI, summed over instances. */
  removedEdges: number;
  algorithms: AlgorithmSummary[];
}

export interface RunSummary {
  runId: string;
  scenario: string;
  status: 'completed' | 'failed';
  reason?: string;
  /** What `normalised` divides by: wmmse-100 or best-fplinq (the scenario's normaliseBy). */
  normaliseBy: Normaliser;
  transport?: string;
  startedAt: string;
  finishedAt?: string;
  seconds?: number;
  /** The fault plan as resolved (per sweep point when sweeping). */
  faults: Faults;
  /** Results per network (no sweep). */
  networks: NetworkSummary[];
  /** With a sweep: the swept key and, per value, the fault plan and results per network. */
  sweep?: { key: string; points: { value: number; faults: Faults; networks: NetworkSummary[] }[] };
}

export interface RunOptions {
  /** NATS URL overriding the scenario's (CLI --nats / NATS_URL). */
  nats?: string;
  log?: (s: string) => void;
  /** Aborting ends the run after the current round; the summary records the reason. */
  signal?: AbortSignal;
}

/** Draw the instances of a network: instance n from the stream derived from (seed, network, n). */
export function drawInstances(n: NetworkSpec, seed: number): Instance[] {
  const { name: _n, model, instances, ...options } = n;
  return Array.from({ length: instances }, (_, i) => generateInstance(model, Rng.derive(seed, `${networkName(n)}/${i}`), options));
}

/**
 * `dmpemu run`: every algorithm of the scenario on every network (for every sweep value), writing
 * runs/<run-id>/ with the resolved scenario, rounds.jsonl (appended and flushed as rounds
 * complete), summary.json and summary.md (written also when the run fails, with the reason).
 */
export async function runScenario(sc: Scenario, o: RunOptions = {}): Promise<{ dir: string; summary: RunSummary }> {
  const log = o.log ?? (() => {});
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const runId = `${sc.name}-${stamp}-${randomBytes(2).toString('hex')}`;
  const dir = join(sc.outputs.dir, runId);
  makeDir(dir, 'outputs.dir', sc.outputs.dir);
  writeFileSync(join(dir, 'scenario.yaml'), toYaml(sc));
  const roundsFile = join(dir, 'rounds.jsonl');
  writeFileSync(roundsFile, '');
  const t0 = performance.now();
  const summary: RunSummary = { runId, scenario: sc.name, status: 'failed', normaliseBy: sc.normaliseBy, startedAt: new Date().toISOString(), faults: sc.faults, networks: [] };
  const points = sweepScenarios(sc);
  const checkpoints = loadCheckpoints(sc);
  const needsBroker = sc.runtime.kind === 'nats' && sc.algorithms.some(isDmp);
  let broker: Broker | undefined;
  try {
    if (needsBroker) {
      broker = await openBroker(o.nats ?? sc.runtime.nats ?? process.env.NATS_URL, log);
      summary.transport = broker.kind === 'nats' ? `nats ${broker.url}` : 'in-process bus';
      if (sc.faults.brokerRestart?.length && !(broker.kind === 'nats' && broker.server))
        throw new Error('faults.brokerRestart needs the embedded nats-server: run without --nats / NATS_URL');
    }
    if (sc.sweep) summary.sweep = { key: sc.sweep.key, points: [] };
    for (const [p, { value, scenario }] of points.entries()) {
      if (value !== undefined) log(`sweep ${sc.sweep!.key} = ${value}`);
      const networks: NetworkSummary[] = [];
      for (const [i, net] of scenario.networks.entries()) {
        const write = (line: object): void => appendFileSync(roundsFile, JSON.stringify(value === undefined ? line : { sweep: value, ...line }) + '\n');
        networks.push(await runNetwork(scenario, net, `${runId}-p${p}n${i}`, broker, write, log, checkpoints, o.signal));
      }
      if (summary.sweep) summary.sweep.points.push({ value: value!, faults: scenario.faults, networks });
      else summary.networks = networks;
    }
    summary.status = 'completed';
  } catch (e) {
    summary.reason = (e as Error).message;
    throw e;
  } finally {
    if (broker) await closeBroker(broker);
    summary.finishedAt = new Date().toISOString();
    summary.seconds = (performance.now() - t0) / 1000;
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary, null, 2));
    writeFileSync(join(dir, 'summary.md'), formatSummaryMarkdown(summary));
    if (summary.sweep?.points.length) await writeSweepPlots(summary, dir).catch((e) => log(`could not draw the sweep plots: ${(e as Error).message}`));
  }
  log(formatSummaryTable(summary));
  return { dir, summary };
}

async function runNetwork(
  sc: Scenario,
  net: NetworkSpec,
  runId: string,
  broker: Broker | undefined,
  write: (line: object) => void,
  log: (s: string) => void,
  checkpoints: Map<string, Checkpoint>,
  signal?: AbortSignal,
): Promise<NetworkSummary> {
  const name = networkName(net);
  const algorithms = sc.algorithms.filter((a) => !a.networks || a.networks.includes(name));
  let coordinator: Coordinator | undefined;
  if (sc.runtime.kind === 'nats' && algorithms.some(isDmp)) {
    // the agent hosts boot (other processes) while this one draws the instances
    coordinator = await Coordinator.start({ broker: broker!, runId, log, signal, registerTimeoutS: sc.runtime.registerTimeoutS });
    coordinator.spawnHosts(net.K, sc.runtime.agentsPerProcess, (sc.faults.crash ?? []).map((c) => c.agent));
  }
  let registered = false;
  let insts: Instance[];
  try {
    insts = drawInstances(net, sc.seed);
  } catch (e) {
    await coordinator?.shutdown();
    throw e;
  }
  // the yardstick runs beside the algorithms (a worker thread for large networks); rounds.jsonl's
  // `normalised` is the round's objective over its instance's normaliser, null until that is known
  const iterations = Math.ceil(Math.max(0, ...algorithms.filter(isDmp).map((a) => roundsOf(a, checkpoints))) / 2);
  const yard = new Yardstick(insts, iterations, { normaliseBy: sc.normaliseBy, seed: sc.seed });
  const faults = insts.map((inst, n) => resolveFaults(sc.faults, inst, sc.seed, `${name}/${n}`));
  const done: { entry: Omit<AlgorithmSummary, keyof ReturnType<typeof summarise> | 'overtakes'>; e: Evaluation }[] = [];
  try {
    for (const alg of algorithms) {
      if (signal?.aborted) throw new Error(`run interrupted (${String(signal.reason)})`);
      log(`${name}: ${alg.name}${alg.iterations ? ` (${alg.iterations} iterations)` : ''} on ${insts.length} instance(s)`);
      if (alg.name === 'mlp') {
        done.push({ entry: { algorithm: algorithmLabel(alg), kind: 'centralized', runtime: 'centralized' }, e: evalMlp(insts, checkpoints.get(alg.checkpoint!)!) });
        continue;
      }
      if (!isDmp(alg)) {
        const e = evalCentralized(insts, alg.name as CentralizedAlgorithm, { iterations: alg.iterations, seed: sc.seed });
        const iterative = ITERATIVE.has(alg.name);
        const iterations = iterative ? alg.iterations ?? 100 : undefined;
        done.push({ entry: { algorithm: iterative ? `${alg.name}-${iterations}` : alg.name, kind: 'centralized', runtime: 'centralized', iterations }, e });
        continue;
      }
      if (coordinator && !registered) {
        await coordinator.waitRegistered(net.K, sc.runtime.registerTimeoutS);
        registered = true;
      }
      const label = algorithmLabel(alg);
      const runtime = coordinator ? (coordinator.transportKind === 'nats' ? 'nats' : 'memory') : 'inprocess';
      const e = await evalDmp(insts, specOf(alg, checkpoints), {
        coordinator,
        roundDeadlineMs: sc.runtime.roundDeadlineMs,
        policy: sc.runtime.missingPolicy as MissingPolicy,
        faultsFor: (n) => faults[n],
        onRound: (instance, rec) => {
          const w = yard.of(instance);
          write({ network: name, instance, algorithm: label, runtime, round: rec.t, ...withoutT(rec), normalised: w === undefined ? null : rec.objective / w });
        },
      });
      done.push({ entry: { algorithm: label, kind: 'dmp', runtime }, e });
    }
  } finally {
    await coordinator?.shutdown();
  }
  const y = await yard.done;
  const out: NetworkSummary = {
    network: name, model: net.model, K: net.K, instances: insts.length, wmmse100: y.wmmse100, normaliser: y.normaliser,
    wmmseHistory: y.history, removedEdges: faults.reduce((s, f) => s + f.removedEdges, 0), algorithms: [],
  };
  for (const { entry, e } of done) out.algorithms.push({ ...entry, ...summarise(e, y.normaliser), ...(entry.kind === 'dmp' ? { overtakes: overtakes(e.history!, y) } : {}) });
  return out;
}

function withoutT(r: RoundRecord): Omit<RoundRecord, 't'> {
  const { t: _t, ...rest } = r;
  return rest;
}
