import { cellFreeInstance, cellFreeMinRate, cellFreeOptimal, cellFreeViews, Rng, type CellFreeInstance } from '@dmpemu/wireless';
import { Coordinator } from '../run/coordinator.ts';
import { evalCellFreeCentralized, evalCellFreeDmp, mean, type Evaluation } from '../run/evaluation.ts';
import type { CellFreeCentralized } from '../scenario/algorithmNames.ts';
import { agentsOf, algorithmLabel, isDmp, networkName, roundsOf, specOf, type AlgorithmEntry, type NetworkSpec, type Scenario } from '../scenario/scenario.ts';
import { summarise, type AlgorithmSummary, type NetworkSummary } from '../results/summary.ts';
import { roundOptions, startCoordinator, roundSink, runtimeOf, trainedOf, type RunContext } from './runContext.ts';

/** The instances of a cell-free network: instance n from the stream derived from (seed, network, n), as pair networks draw theirs. */
export function drawCellFree(n: NetworkSpec, seed: number): CellFreeInstance[] {
  return Array.from({ length: n.instances }, (_, i) => cellFreeInstance(Rng.derive(seed, `${networkName(n)}/${i}`), { M: n.M!, K: n.K, tau: n.tau }));
}

/**
 * One cell-free network of `dmpemu run` (Table IV): M + K agents (APs 0..M-1, then the users), the
 * DMPs decentralised over them (or in process), the centralized algorithms beside them; every
 * result is a minimum user rate, normalised by the optimal algorithm's on the same instance.
 * rounds.jsonl gets every round of every DMP job as for pair networks; no instance file is written
 * (instance files hold pair networks: the run's seed redraws these).
 */
export async function runCellFreeNetwork(sc: Scenario, net: NetworkSpec, runId: string, ctx: RunContext): Promise<NetworkSummary> {
  const { log, checkpoints, signal, emit } = ctx;
  const name = networkName(net);
  const nodes = agentsOf(net);
  const algorithms = sc.algorithms.filter((a) => !a.networks || a.networks.includes(name));
  let coordinator: Coordinator | undefined;
  if (sc.runtime.kind === 'nats' && algorithms.some(isDmp)) {
    coordinator = await startCoordinator(sc, nodes, runId, ctx, []);
  }
  const done: { entry: Omit<AlgorithmSummary, keyof ReturnType<typeof summarise> | 'overtakes'>; e: Evaluation }[] = [];
  let optimal: number[];
  try {
    const insts = drawCellFree(net, sc.seed);
    await coordinator?.limitToNeighbours(insts.map(cellFreeViews)); // each host now hears only its agents' neighbours
    optimal = insts.map((i) => cellFreeMinRate(i, cellFreeOptimal(i).p));
    const startJob = (alg: AlgorithmEntry, label: string, instance: number): number => {
      const job = ++ctx.jobs.n;
      const at = positions(insts[instance]);
      emit({ type: 'job', job, of: ctx.jobs.of, point: ctx.point, network: name, instance, algorithm: label, kind: isDmp(alg) ? 'dmp' : 'centralized', rounds: isDmp(alg) ? roundsOf(alg, checkpoints) : 0, K: nodes, M: net.M, tx: at, rx: at, edges: apToUser(net.M!, net.K) });
      return job;
    };
    let registered = false;
    for (const alg of algorithms) {
      if (signal?.aborted) throw new Error(`run interrupted (${String(signal.reason)})`);
      const label = algorithmLabel(alg);
      log(`${name}: ${label} on ${insts.length} instance(s)`);
      if (!isDmp(alg)) {
        const e = evalCellFreeCentralized(insts, alg.name as CellFreeCentralized, alg.checkpoint ? checkpoints.get(alg.checkpoint) : undefined);
        e.rates.forEach((objective, instance) => emit({ type: 'result', job: startJob(alg, label, instance), network: name, instance, algorithm: label, objective }));
        done.push({ entry: { algorithm: label, kind: 'centralized', runtime: 'centralized', ...trainedOf(alg, checkpoints) }, e });
        continue;
      }
      if (coordinator && !registered) {
        await coordinator.waitRegistered(nodes, sc.runtime.registerTimeoutS);
        registered = true;
      }
      const runtime = runtimeOf(coordinator);
      let job = 0;
      const e = await evalCellFreeDmp(insts, specOf(alg, checkpoints), {
        coordinator,
        ...roundOptions(sc),
        onInstance: (instance) => void (job = startJob(alg, label, instance)),
        onRound: roundSink(ctx, name, label, runtime, () => job, (instance) => optimal[instance]),
      });
      done.push({ entry: { algorithm: label, kind: 'dmp', runtime, ...trainedOf(alg, checkpoints) }, e });
    }
  } finally {
    await coordinator?.shutdown();
  }
  const normaliser = mean(optimal);
  return {
    network: name,
    model: net.model,
    K: net.K,
    M: net.M,
    instances: net.instances,
    normaliser,
    wmmseHistory: [],
    removedEdges: 0,
    algorithms: done.map(({ entry, e }) => ({ ...entry, ...summarise(e, normaliser, optimal) })),
  };
}

/** Every agent's position for the dashboard's layout, APs then users (x, y interleaved, metres). */
function positions(inst: CellFreeInstance): number[] | undefined {
  return inst.ap && inst.ue ? [...inst.ap, ...inst.ue] : undefined;
}

/** The links of a cell-free network's layout: every AP m -> user k (agent M + k), as pairs. */
function apToUser(M: number, K: number): number[] {
  const out: number[] = [];
  for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) out.push(m, M + k);
  return out;
}
