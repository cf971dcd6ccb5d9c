import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { stringify as toYaml } from 'yaml';
import type { MissingPolicy } from '@dmpemu/dmp';
import { generateInstance, objective, Rng, wmmsePower, type CentralizedAlgorithm, type Instance } from '@dmpemu/wireless';
import { evalCentralized, evalDmp, ITERATIVE, mean, type Evaluation } from './evaluation.ts';
import { closeBroker, Coordinator, openBroker, type Broker, type RoundRecord } from './coordinator.ts';
import { isDmp, networkName, type NetworkSpec, type Scenario } from './scenario.ts';
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
  deaths?: Evaluation['deaths'];
  malformed?: number;
}

function summarise(e: Evaluation, refMean: number): Omit<AlgorithmSummary, 'algorithm' | 'kind' | 'runtime' | 'iterations'> {
  const { rates, seconds, history, rounds, meanRoundLatencyMs, messagesPerRound, bytesPerRound, deaths, malformed } = e;
  return { meanRate: mean(rates), normalised: mean(rates) / refMean, rates, seconds, history, rounds, meanRoundLatencyMs, messagesPerRound, bytesPerRound, deaths, malformed };
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
        const e = evalCentralized(insts, alg.name as CentralizedAlgorithm, { iterations: alg.iterations, seed: sc.seed });
        const iterative = ITERATIVE.has(alg.name);
        const iterations = iterative ? alg.iterations ?? 100 : undefined;
        out.algorithms.push({ algorithm: iterative ? `${alg.name}-${iterations}` : alg.name, kind: 'centralized', runtime: 'centralized', iterations, ...summarise(e, refMean) });
        continue;
      }
      if (sc.runtime.kind === 'nats' && !coordinator) {
        coordinator = await Coordinator.start({ broker: broker!, runId, log });
        await coordinator.launch(net.K, sc.runtime.agentsPerProcess, sc.runtime.registerTimeoutS);
      }
      const label = `${alg.name}-${alg.iterations ?? 100}`;
      const runtime = coordinator ? (coordinator.transportKind === 'nats' ? 'nats' : 'memory') : 'inprocess';
      const e = await evalDmp(insts, { name: alg.name, iterations: alg.iterations }, {
        coordinator,
        roundDeadlineMs: sc.runtime.roundDeadlineMs,
        policy: sc.runtime.missingPolicy as MissingPolicy,
        onRound: (instance, rec) =>
          appendFileSync(roundsFile, JSON.stringify({ network: name, instance, algorithm: label, runtime, round: rec.t, ...withoutT(rec), normalised: rec.objective / refMean }) + '\n'),
      });
      out.algorithms.push({ algorithm: label, kind: 'dmp', runtime, ...summarise(e, refMean) });
    }
  } finally {
    await coordinator?.shutdown();
  }
  return out;
}

function withoutT(r: RoundRecord): Omit<RoundRecord, 't'> {
  const { t: _t, ...rest } = r;
  return rest;
}
