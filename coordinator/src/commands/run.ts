import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { stringify as toYaml } from 'yaml';
import { generateInstance, knowsEdge, Rng, type CentralizedAlgorithm, type Instance } from '@dmpemu/wireless';
import type { RunObserver } from '../run/observer.ts';
import { resolveFaults } from '../scenario/faultPlan.ts';
import { evalCentralized, evalDmp, evalMlp, mean, overtakes, wmmse100At, type Evaluation } from '../run/evaluation.ts';
import { ITERATIVE } from '../scenario/algorithmNames.ts';
import { Yardstick } from '../run/yardstick.ts';
import { closeBroker, Coordinator, openBroker, type Broker, type RoundRecord } from '../run/coordinator.ts';
import { agentsOf, algorithmLabel, isDmp, loadCheckpoints, networkName, normaliserOf, roundsOf, specOf, sweepKeys, sweepScenarios, sweepTitle, type AlgorithmEntry, type Faults, type NetworkSpec, type Scenario } from '../scenario/scenario.ts';
import { nextTurn, type Checkpoint } from '@dmpemu/dmp';
import { summarise, type AlgorithmSummary, type NetworkSummary, type RunSummary } from '../results/summary.ts';
import { formatSummaryMarkdown, formatSummaryTable, writeSweepPlots, writeComparisonPlots } from '../report/report.ts';
import { writeRunReport } from '../report/reportHtml.ts';
import { runRecorder } from '../report/runRecorder.ts';
import { makeDir } from '../scenario/makeDir.ts';
import { channelMatrixBytes } from '../scenario/networkSchema.ts';
import { readNetworkFile } from '../scenario/networkFiles.ts';
import { writeInstanceFile } from '../scenario/instanceFileWrite.ts';
import { checkModules } from '../scenario/moduleChecks.ts';
import { natsConfigHosts, roundOptions, startCoordinator, roundSink, runtimeOf, trainedOf, type RunContext } from './runContext.ts';
import { runCellFreeNetwork } from './runCellFree.ts';
import { checkRunId, redactUrl } from '@dmpemu/wire';

export interface RunOptions {
  /** NATS URL overriding the scenario's (CLI --nats / NATS_URL). */
  nats?: string;
  log?: (s: string) => void;
  /** Aborting ends the run after the current round; the summary records the reason. */
  signal?: AbortSignal;
  /** Launch no agent: print the `dmpemu agents` commands (and write their credentials files) and wait for hosts started elsewhere. */
  externalAgents?: boolean;
  /** The run id (default: the scenario's name, a time stamp and 4 hex digits); each network runs as `<id>-p<point>n<network>`. */
  runId?: string;
  /** The run secret (external hosts given it in advance: dmpemu nats-config). */
  secret?: string;
  /** Where `dmpemu nats-config` wrote the hosts' credentials (the directory of --secret-file): with a broker you run, the external hosts' commands name them. */
  credsDir?: string;
  /** The embedded nats-server's address (default loopback, a free port): agents on other machines connect there. */
  listen?: { host: string; port?: number };
  /** Hears the run as it goes (the live dashboard); it only watches. */
  observer?: RunObserver;
}

/** Draw the instances of a network: instance n from the stream derived from (seed, network, n). */
export function drawInstances(n: NetworkSpec, seed: number, o: { largeScale?: boolean } = {}): Instance[] {
  if (n.file) return readNetworkFile({ ...n, file: n.file });
  const { name: _n, model, instances, file: _f, sha256: _s, ...options } = n;
  if (model === 'cell-free') throw new Error('drawInstances: a cell-free network is drawn by drawCellFree');
  return Array.from({ length: instances }, (_, i) => generateInstance(model, Rng.derive(seed, `${networkName(n)}/${i}`), { ...options, largeScale: o.largeScale }));
}

/** Whether a run of the scenario talks over NATS: runtime.kind nats and a decentralised algorithm to run. */
export function usesBroker(sc: Scenario): boolean {
  return sc.runtime.kind === 'nats' && sc.algorithms.some(isDmp);
}

/**
 * The scenario's name as the start of a default run id: a subject token ('.' becomes '-'), cut so
 * that `<base>-<stamp>-<4 hex>` stays within the 50 characters of a --run-id (a scenario named
 * "a.b", or one of 40 characters, failed at the start of its run).
 */
export function runIdBase(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 29);
}

/**
 * `dmpemu run`: every algorithm of the scenario on every network (for every sweep value), writing
 * runs/<run-id>/ with the resolved scenario, rounds.jsonl (appended and flushed as rounds
 * complete), summary.json, summary.md and report.html (written also when the run fails, with the
 * reason), and what the dashboard draws of a finished run (layouts, agents, wmmse .jsonl).
 */
export async function runScenario(sc: Scenario, o: RunOptions = {}): Promise<{ dir: string; summary: RunSummary }> {
  const log = o.log ?? (() => {});
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const runId = checkRunId(o.runId ?? `${runIdBase(sc.name)}-${stamp}-${randomBytes(2).toString('hex')}`);
  // with a broker you run, nats-config's credentials files for this run beside its secret: checked before anything starts
  if (o.externalAgents && o.credsDir && (o.nats ?? sc.runtime.nats ?? process.env.NATS_URL)) for (const [p, { scenario }] of sweepScenarios(sc).entries()) scenario.networks.forEach((net, i) => natsConfigHosts(o.credsDir!, `${runId}-p${p}n${i}`, agentsOf(net)));
  const dir = join(sc.outputs.dir, runId);
  makeDir(dir, 'outputs.dir', sc.outputs.dir);
  writeFileSync(join(dir, 'scenario.yaml'), toYaml(sc));
  const roundsFile = join(dir, 'rounds.jsonl');
  writeFileSync(roundsFile, '');
  const t0 = performance.now();
  const summary: RunSummary = { runId, scenario: sc.name, status: 'failed', normaliseBy: normaliserOf(sc), startedAt: new Date().toISOString(), faults: sc.faults, networks: [] };
  const points = sweepScenarios(sc);
  await checkModules(sc, sc.name); // own algorithms: loaded and built for every network before anything starts
  const checkpoints = loadCheckpoints(sc);
  const needsBroker = usesBroker(sc);
  // layouts.jsonl, agents.jsonl and wmmse.jsonl (for the dashboard of finished runs), then the caller's observer
  const record = runRecorder(dir, log);
  const emit: RunObserver = (e) => {
    record(e);
    o.observer?.(e);
  };
  const jobs = { n: 0, of: points.reduce((s, { scenario }) => s + scenario.networks.reduce((t, net) => t + net.instances * scenario.algorithms.filter((a) => !a.networks || a.networks.includes(networkName(net))).length, 0), 0) };
  emit({ type: 'run', runId, scenario: sc.name, dir, jobs: jobs.of, sweep: sc.sweep && { key: sweepTitle(sc.sweep), values: points.map((x) => x.value!) }, networks: sc.networks.map((n) => ({ name: networkName(n), model: n.model, K: n.K, instances: n.instances })) });
  let broker: Broker | undefined;
  try {
    if (needsBroker) {
      broker = await openBroker(o.nats ?? sc.runtime.nats ?? process.env.NATS_URL, log, undefined, o.listen);
      summary.transport = broker.kind === 'nats' ? `nats ${redactUrl(broker.url)}` : 'in-process bus'; // the summary and report are shared: never a password
      if (sc.faults.brokerRestart?.length && !(broker.kind === 'nats' && broker.server))
        throw new Error('faults.brokerRestart needs the embedded nats-server: run without --nats / NATS_URL');
    } else if (sc.algorithms.some(isDmp)) summary.transport = 'none: in process (the reference executor)'; // summary.md said "no decentralised algorithm" though one ran
    if (sc.sweep) summary.sweep = { key: sweepTitle(sc.sweep), keys: sweepKeys(sc.sweep), points: [] };
    for (const [p, { value, values, label, scenario }] of points.entries()) {
      if (label !== undefined) log(`sweep ${label}`);
      const networks: NetworkSummary[] = [];
      for (const [i, net] of scenario.networks.entries()) {
        const write = (line: object): void => appendFileSync(roundsFile, JSON.stringify(value === undefined ? line : { sweep: value, ...line }) + '\n');
        const run = net.model === 'cell-free' ? runCellFreeNetwork : runNetwork;
        networks.push(await run(scenario, net, `${runId}-p${p}n${i}`, { dir, broker, write, log, checkpoints, signal: o.signal, emit, jobs, point: value === undefined ? undefined : p, external: o.externalAgents ? { dir, credsDir: o.credsDir } : undefined, secret: o.secret }));
      }
      if (summary.sweep) summary.sweep.points.push({ value: value!, ...(summary.sweep.keys.length > 1 ? { values, label } : {}), faults: scenario.faults, networks });
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
    await writeComparisonPlots(summary, dir).catch((e) => log(`could not draw the training-set plots: ${(e as Error).message}`));
    await writeRunReport(summary, dir).catch((e) => log(`could not write report.html: ${(e as Error).message}`));
    emit({ type: 'end', status: summary.status, reason: summary.reason, seconds: summary.seconds });
  }
  log(formatSummaryTable(summary));
  return { dir, summary };
}

async function runNetwork(sc: Scenario, net: NetworkSpec, runId: string, ctx: RunContext): Promise<NetworkSummary> {
  const { log, checkpoints, signal, emit } = ctx;
  const name = networkName(net);
  const algorithms = sc.algorithms.filter((a) => !a.networks || a.networks.includes(name));
  let coordinator: Coordinator | undefined;
  if (sc.runtime.kind === 'nats' && algorithms.some(isDmp)) {
    // the agent hosts boot (other processes) while this one draws the instances
    coordinator = await startCoordinator(sc, net.K, runId, ctx, (sc.faults.crash ?? []).map((c) => c.agent));
  }
  let registered = false;
  let insts: Instance[];
  let instancesFile: string | undefined;
  try {
    insts = drawInstances(net, sc.seed, { largeScale: !!sc.faults.channel });
    if (sc.outputs.instances) instancesFile = writeDrawn(net, insts, sc.seed, ctx);
  } catch (e) {
    await coordinator?.shutdown();
    throw e;
  }
  // the yardstick runs beside the algorithms (a worker thread for large networks); rounds.jsonl's
  // `normalised` is the round's objective over its instance's WMMSE-100, null until that is known
  const iterations = Math.ceil(Math.max(0, ...algorithms.filter(isDmp).map((a) => roundsOf(a, checkpoints))) / 2);
  const faults = insts.map((inst, n) => resolveFaults(sc.faults, inst, sc.seed, `${name}/${n}`));
  // churn: centralized algorithms and the normaliser see the network that remains at the end
  const remaining = faults.map((f) => f.remaining);
  const yard = new Yardstick(remaining, iterations, { normaliseBy: normaliserOf(sc), seed: sc.seed }, (instance, curve) => emit({ type: 'wmmse', network: name, instance, curve: Array.from(curve) }));
  // each host may now subscribe only to its agents' neighbours' broadcasts (embedded broker)
  await coordinator?.limitToNeighbours(faults.map((f) => f.views));
  /** Announce a job per instance as it starts (with the layout the dashboard draws); returns its number. */
  const startJob = (alg: AlgorithmEntry, label: string, instance: number): number => {
    const job = ++ctx.jobs.n;
    const inst = insts[instance];
    emit({ type: 'job', job, of: ctx.jobs.of, point: ctx.point, network: name, instance, algorithm: label, kind: isDmp(alg) ? 'dmp' : 'centralized', rounds: isDmp(alg) ? roundsOf(alg, checkpoints) : 0, K: inst.K, tx: inst.tx && Array.from(inst.tx), rx: inst.rx && Array.from(inst.rx), edges: csiEdges(faults[instance].known) });
    return job;
  };
  const done: { entry: Omit<AlgorithmSummary, keyof ReturnType<typeof summarise> | 'overtakes'>; e: Evaluation; atEnd?: number[] }[] = [];
  try {
    for (const alg of algorithms) {
      await nextTurn(); // in process nothing else awaits: the signal is heard here
      if (signal?.aborted) throw new Error(`run interrupted (${String(signal.reason)})`);
      log(`${name}: ${algorithmLabel(alg)} on ${insts.length} instance(s)`);
      if (!isDmp(alg)) {
        const iterations = ITERATIVE.has(alg.name!) ? alg.iterations ?? 100 : undefined;
        const label = algorithmLabel(alg);
        // an MLP takes the whole network (its input size is K): those that left for good are silenced in its decision
        const e = alg.name === 'mlp' ? evalMlp(insts, checkpoints.get(alg.checkpoint!)!, faults.map((f) => f.leftForGood)) : evalCentralized(remaining, alg.name as CentralizedAlgorithm, { iterations: alg.iterations, seed: sc.seed });
        e.rates.forEach((objective, instance) => emit({ type: 'result', job: startJob(alg, label, instance), network: name, instance, algorithm: label, objective }));
        done.push({ entry: { algorithm: label, kind: 'centralized', runtime: 'centralized', iterations, ...trainedOf(alg, checkpoints) }, e });
        continue;
      }
      if (coordinator && !registered) {
        await coordinator.waitRegistered(net.K, sc.runtime.registerTimeoutS);
        registered = true;
      }
      const label = algorithmLabel(alg);
      const runtime = runtimeOf(coordinator);
      let job = 0;
      const e = await evalDmp(insts, specOf(alg, checkpoints), {
        coordinator,
        ...roundOptions(sc),
        async: sc.runtime.clock === 'async' ? sc.runtime.async ?? { periodMs: 20, jitter: 0, activation: 1 } : undefined,
        faultsFor: (n) => faults[n],
        signal,
        onInstance: (instance) => void (job = startJob(alg, label, instance)),
        onRound: roundSink(ctx, name, label, runtime, () => job, (instance) => yard.of(instance)),
        onDeath: (instance, death) => emit({ type: 'death', job, network: name, instance, death }),
        onEvent: (instance, event) => emit({ type: 'fault', job, network: name, instance, event }),
      });
      // a time-varying channel: the result is on the channel of the last round, and so is what it is divided by
      const atEnd = faults[0].channel && wmmse100At(insts, (n) => faults[n].channel!, e.history!.length - 1, sc.seed, (n) => faults[n].leftForGood);
      done.push({ entry: { algorithm: label, kind: 'dmp', runtime, ...trainedOf(alg, checkpoints), ...(atEnd ? { normaliserAtEnd: mean(atEnd) } : {}) }, e, atEnd });
    }
  } finally {
    await coordinator?.shutdown();
  }
  const y = await yard.done;
  const out: NetworkSummary = {
    network: name,
    model: net.model,
    K: net.K,
    instances: insts.length,
    wmmse100: y.wmmse100,
    normaliser: y.normaliser,
    wmmseHistory: y.history,
    removedEdges: faults.reduce((s, f) => s + f.removedEdges, 0),
    ...(sc.faults.churn ? { churnedAgents: faults.reduce((s, f) => s + f.churn!.filter((a) => a).length, 0) } : {}),
    ...(net.file ? { file: { path: net.file, sha256: net.sha256! } } : {}),
    ...(instancesFile ? { instancesFile } : {}),
    algorithms: [],
  };
  for (const { entry, e, atEnd } of done) out.algorithms.push({ ...entry, ...summarise(e, atEnd ? mean(atEnd) : y.normaliser, atEnd ?? y.perInstanceNormaliser), ...(entry.kind === 'dmp' ? { overtakes: overtakes(e.history!, y) } : {}) });
  return out;
}

/**
 * The instances a network runs on, as an instance file in <run dir>/instances/ (msgpack beyond
 * 32 MiB of channel matrices), so that `dmpemu eval --instances` re-runs any result; returns its
 * path relative to the run directory.
 */
function writeDrawn(net: NetworkSpec, insts: Instance[], seed: number, ctx: RunContext): string {
  const big = channelMatrixBytes(net) * insts.length > 32 * 2 ** 20;
  const rel = join('instances', `${networkName(net)}${ctx.point === undefined ? '' : `.p${ctx.point}`}.${big ? 'msgpack' : 'json'}`);
  makeDir(join(ctx.dir, 'instances'), 'outputs.dir', ctx.dir);
  const { name: _n, model, instances: _i, file, sha256, ...params } = net;
  if (model === 'cell-free') throw new Error('writeDrawn: instance files hold pair networks, not cell-free ones');
  writeInstanceFile(join(ctx.dir, rel), { model, seed, params: file ? { file, sha256 } : params, instances: insts });
  return rel;
}

/** The CSI edges j -> k of an instance as interleaved pairs (every pair when it has full CSI). */
export function csiEdges(inst: Instance): number[] {
  const { K } = inst;
  const out: number[] = [];
  for (let j = 0; j < K; j++) for (let k = 0; k < K; k++) if (j !== k && knowsEdge(inst, j, k)) out.push(j, k);
  return out;
}
