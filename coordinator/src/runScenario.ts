import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { stringify as toYaml } from 'yaml';
import { runInProcess } from '@dmpemu/dmp';
import { generateInstance, objective, Rng, runCentralized, wmmsePower, type CentralizedAlgorithm, type Instance } from '@dmpemu/wireless';
import { closeBroker, Coordinator, openBroker, type Broker, type RoundRecord } from './coordinator.ts';
import { isDmp, networkName, type AlgorithmEntry, type NetworkSpec, type Scenario } from './scenario.ts';
import { formatSummaryMarkdown, formatSummaryTable } from './report.ts';

/** One algorithm on one network, over all its instances. */
export interface AlgorithmSummary {
  algorithm: string;
  kind: 'dmp' | 'centralized';
  runtime: 'nats' | 'memory' | 'inprocess' | 'centralized';
  /** Rounds (DMP) or iterations (iterative centralized algorithms). */
  rounds?: number;
  iterations?: number;
  meanRate: number;
  /** meanRate / mean rate of centralized WMMSE with 100 iterations on the same instances. */
  normalised: number;
  rates: number[];
  /** Mean objective after each round, over instances (DMP only). */
  history?: number[];
  seconds: number;
  meanRoundLatencyMs?: number;
  messagesPerRound?: number;
  bytesPerRound?: number;
  deaths?: { instance: number; k: number; round: number; cause: string }[];
  malformed?: number;
}

export interface NetworkSummary {
  network: string;
  model: string;
  K: number;
  instances: number;
  wmmse100: number;
  /** Mean objective of centralized WMMSE after i iterations, i = 0.. (0: the start p = Pmax). */
  wmmseHistory: number[];
  algorithms: AlgorithmSummary[];
}

export interface RunSummary {
  runId: string;
  scenario: string;
  status: 'completed' | 'failed';
  reason?: string;
  transport?: string;
  startedAt: string;
  finishedAt?: string;
  seconds?: number;
  networks: NetworkSummary[];
}

export interface RunOptions {
  /** NATS URL overriding the scenario's (CLI --nats / NATS_URL). */
  nats?: string;
  log?: (s: string) => void;
}

/** Draw the instances of a network: instance n from the stream derived from (seed, network, n). */
export function drawInstances(n: NetworkSpec, seed: number): Instance[] {
  const { name: _n, model, instances, ...options } = n;
  return Array.from({ length: instances }, (_, i) => generateInstance(model, Rng.derive(seed, `${networkName(n)}/${i}`), options));
}

/**
 * `dmpemu run`: every algorithm of the scenario on every network, writing runs/<run-id>/ with the
 * resolved scenario, rounds.jsonl (appended as rounds complete), summary.json and summary.md.
 */
export async function runScenario(sc: Scenario, o: RunOptions = {}): Promise<{ dir: string; summary: RunSummary }> {
  const log = o.log ?? (() => {});
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const runId = `${sc.name}-${stamp}-${randomBytes(2).toString('hex')}`;
  const dir = join(sc.outputs.dir, runId);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'scenario.yaml'), toYaml(sc));
  const roundsFile = join(dir, 'rounds.jsonl');
  writeFileSync(roundsFile, '');
  const t0 = performance.now();
  const summary: RunSummary = { runId, scenario: sc.name, status: 'failed', startedAt: new Date().toISOString(), networks: [] };
  const needsBroker = sc.runtime.kind === 'nats' && sc.algorithms.some(isDmp);
  let broker: Broker | undefined;
  try {
    if (needsBroker) {
      broker = await openBroker(o.nats ?? sc.runtime.nats ?? process.env.NATS_URL, log);
      summary.transport = broker.kind === 'nats' ? `nats ${broker.url}` : 'in-process bus';
    }
    for (const [i, net] of sc.networks.entries()) {
      summary.networks.push(await runNetwork(sc, net, `${runId}-n${i}`, broker, roundsFile, log));
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
  }
  log(formatSummaryTable(summary));
  return { dir, summary };
}

async function runNetwork(sc: Scenario, net: NetworkSpec, runId: string, broker: Broker | undefined, roundsFile: string, log: (s: string) => void): Promise<NetworkSummary> {
  const name = networkName(net);
  const insts = drawInstances(net, sc.seed);
  const maxRounds = Math.max(0, ...sc.algorithms.filter(isDmp).map((a) => 2 * (a.iterations ?? 100)));
  const refIterations = Math.max(100, Math.ceil(maxRounds / 2));
  // Centralized WMMSE, the yardstick: objective after every iteration, from p = Pmax.
  const wmmseHistory = new Array<number>(refIterations + 1).fill(0);
  const wmmse100 = insts.map((inst) => {
    let at100 = 0;
    wmmseHistory[0] += objective(inst, { kind: 'power', p: new Float64Array(inst.K).fill(inst.pmax) });
    wmmsePower(inst, {
      iterations: refIterations,
      onIteration: (t, p) => {
        const v = objective(inst, { kind: 'power', p });
        wmmseHistory[t] += v;
        if (t === 100) at100 = v;
      },
    });
    return at100;
  });
  const refMean = mean(wmmse100);
  const out: NetworkSummary = { network: name, model: net.model, K: net.K, instances: insts.length, wmmse100: refMean, wmmseHistory: wmmseHistory.map((s) => s / insts.length), algorithms: [] };
  let coordinator: Coordinator | undefined;
  try {
    for (const alg of sc.algorithms) {
      log(`${name}: ${alg.name}${alg.iterations ? ` (${alg.iterations} iterations)` : ''} on ${insts.length} instance(s)`);
      if (!isDmp(alg)) {
        out.algorithms.push(runCentralizedOn(insts, alg, sc.seed, refMean));
        continue;
      }
      if (sc.runtime.kind === 'nats' && !coordinator) {
        coordinator = await Coordinator.start({ broker: broker!, runId, log });
        await coordinator.launch(net.K, sc.runtime.agentsPerProcess, sc.runtime.registerTimeoutS);
      }
      out.algorithms.push(await runDmpOn(insts, alg, sc, coordinator, refMean, (rec) => appendFileSync(roundsFile, JSON.stringify({ network: name, ...rec }) + '\n')));
    }
  } finally {
    await coordinator?.shutdown();
  }
  return out;
}

function runCentralizedOn(insts: Instance[], alg: AlgorithmEntry, seed: number, refMean: number): AlgorithmSummary {
  let seconds = 0;
  const rates = insts.map((inst, n) => {
    const t0 = performance.now();
    const d = runCentralized(alg.name as CentralizedAlgorithm, inst, { iterations: alg.iterations, rng: Rng.derive(seed, `random/${n}`) });
    seconds += (performance.now() - t0) / 1000;
    return objective(inst, d);
  });
  const iterative = alg.name === 'wmmse' || alg.name === 'fplinq';
  return {
    algorithm: iterative ? `${alg.name}-${alg.iterations ?? 100}` : alg.name,
    kind: 'centralized',
    runtime: 'centralized',
    iterations: iterative ? alg.iterations ?? 100 : undefined,
    meanRate: mean(rates),
    normalised: mean(rates) / refMean,
    rates,
    seconds,
  };
}

type RoundLine = { instance: number; algorithm: string; runtime: string; round: number } & Omit<RoundRecord, 't'> & { normalised: number };

async function runDmpOn(insts: Instance[], alg: AlgorithmEntry, sc: Scenario, c: Coordinator | undefined, refMean: number, write: (l: RoundLine) => void): Promise<AlgorithmSummary> {
  const spec = { name: alg.name, iterations: alg.iterations };
  const label = `${alg.name}-${alg.iterations ?? 100}`;
  const runtime = c ? (c.transportKind === 'nats' ? 'nats' : 'memory') : 'inprocess';
  const rates: number[] = [];
  let history: number[] = [];
  let seconds = 0, latency = 0, messages = 0, bytes = 0, roundCount = 0, malformed = 0;
  const deaths: NonNullable<AlgorithmSummary['deaths']> = [];
  for (const [n, inst] of insts.entries()) {
    const t0 = performance.now();
    let records: RoundRecord[];
    if (c) {
      const r = await c.runJob(inst, spec, {
        roundDeadlineMs: sc.runtime.roundDeadlineMs,
        policy: sc.runtime.missingPolicy as 'skip' | 'last',
        onRound: (rec) => write({ instance: n, algorithm: label, runtime, round: rec.t, ...withoutT(rec), normalised: rec.objective / refMean }),
      });
      records = r.rounds;
      deaths.push(...r.deaths.map((d) => ({ instance: n, k: d.k, round: d.round, cause: d.cause })));
      malformed += r.malformed;
    } else {
      const r = runInProcess(inst, spec, { policy: sc.runtime.missingPolicy as 'skip' | 'last' });
      records = r.history.map((objective, t) => ({ t, objective, messages: 0, bytes: 0, latencyMs: 0, reported: inst.K, expected: inst.K, timedOut: 0, missing: 0 }));
      for (const rec of records) write({ instance: n, algorithm: label, runtime, round: rec.t, ...withoutT(rec), normalised: rec.objective / refMean });
    }
    seconds += (performance.now() - t0) / 1000;
    rates.push(records.at(-1)!.objective);
    if (history.length === 0) history = new Array(records.length).fill(0);
    records.forEach((r, t) => {
      history[t] += r.objective / insts.length;
      latency += r.latencyMs;
      messages += r.messages;
      bytes += r.bytes;
    });
    roundCount += records.length;
  }
  const s: AlgorithmSummary = { algorithm: label, kind: 'dmp', runtime, rounds: history.length, meanRate: mean(rates), normalised: mean(rates) / refMean, rates, history, seconds };
  if (c) Object.assign(s, { meanRoundLatencyMs: latency / roundCount, messagesPerRound: messages / roundCount, bytesPerRound: bytes / roundCount, deaths, malformed });
  return s;
}

function withoutT(r: RoundRecord): Omit<RoundRecord, 't'> {
  const { t: _t, ...rest } = r;
  return rest;
}

function mean(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}
