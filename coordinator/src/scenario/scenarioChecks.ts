import { checkMlpNetwork, createAlgorithm, packedBytes, type CellFreeMlpArchitecture, type Checkpoint, type DmpAlgorithm, type MlpArchitecture } from '@dmpemu/dmp';
import { checkCentralizedNetwork, checkD2dLayout, Rng, type CentralizedAlgorithm } from '@dmpemu/wireless';
import { ntOf } from './networkSchema.ts';
import type { Scenario } from './scenario.ts';
import { algorithmLabel, isDmp, networkName, specOf } from './scenarioEntries.ts';
import { UsageError } from './usageError.ts';

/**
 * The checks of a parsed scenario that need its checkpoints or its random draws, run before
 * anything starts: every algorithm built for every network it runs on, fault rounds that some
 * job never reaches, D2D/MISO layouts that cannot be drawn. Errors are UsageErrors, `source` first.
 * `drawn` remembers the layouts already checked (the points of a sweep share most of them).
 */
export function checkScenario(sc: Scenario, checkpoints: Map<string, Checkpoint>, source: string, drawn = new Set<string>()): void {
  checkFaultsFelt(sc, source);
  checkAlgorithms(sc, checkpoints, source);
  checkLayouts(sc, source, drawn);
}

/** Builds each algorithm for each network it runs on, and checks each DMP as built (checkBuiltDmp). */
function checkAlgorithms(sc: Scenario, checkpoints: Map<string, Checkpoint>, source: string): void {
  sc.algorithms.forEach((a, i) => {
    if (a.module) return; // own modules are loaded and built per network before the run starts (checkModules)
    for (const n of sc.networks) {
      const name = networkName(n);
      if (a.networks && !a.networks.includes(name)) continue;
      let built: DmpAlgorithm<unknown> | undefined;
      try {
        if (isDmp(a)) {
          built = createAlgorithm(specOf(a, checkpoints), ntOf(n));
          if (n.model === 'cell-free' && !built.types?.includes('ap')) throw new Error(`${built.name} does not know the node types of a cell-free network (ap, ue)`);
        }
        else if (n.model === 'cell-free') checkCellFreeCentralized(a.name!, a.checkpoint ? checkpoints.get(a.checkpoint) : undefined, n);
        else if (a.name === 'mlp') checkMlpNetwork(checkpoints.get(a.checkpoint!)!.architecture as MlpArchitecture, n.K, ntOf(n), 'mlp', n.model === 'miso');
        else checkCentralizedNetwork(a.name as CentralizedAlgorithm, n.model, ntOf(n), n.model === 'miso');
      } catch (e) {
        throw new UsageError(`${source}: algorithms[${i}] (${algorithmLabel(a)}) on network ${name}: ${(e as Error).message}`);
      }
      if (built) checkBuiltDmp(sc, built, i, source);
    }
  });
}

/**
 * The checks of DMP algorithms[i] as built for a network (a built-in one here, an own module in
 * checkModules): its broadcasts within faults.maxMessageBytes, refresh under a varying channel,
 * and every fault round within its rounds.
 */
export function checkBuiltDmp(sc: Scenario, built: DmpAlgorithm<unknown>, i: number, source: string): void {
  checkMessageBudget(sc, built, i, source);
  if (sc.faults.channel && !built.refresh)
    throw new UsageError(`${source}: invalid scenario: faults.channel: algorithms[${i}] (${algorithmLabel(sc.algorithms[i])}) cannot take the CSI its agents measure anew during the run (its DMP has no refresh; wmmse-dmp, wcgcn and pcgnn have)`);
  checkFaultRounds(sc, i, built, source);
}

/** A centralized cell-free algorithm on network n: the MLP of [30] knows exactly one M and K. */
function checkCellFreeCentralized(name: string, c: Checkpoint | undefined, n: Scenario['networks'][number]): void {
  if (name !== 'cf-mlp') return;
  const a = c!.architecture as CellFreeMlpArchitecture;
  if (a.M !== n.M || a.K !== n.K) throw new Error(`the cf-mlp checkpoint is for M = ${a.M} APs and K = ${a.K} users, the network has M = ${n.M}, K = ${n.K} (an MLP runs on networks of its own size only)`);
}

/** faults.maxMessageBytes: every broadcast's payload (float64s, or the packed codes under messageQuantization) within the budget. */
function checkMessageBudget(sc: Scenario, alg: DmpAlgorithm<unknown>, i: number, source: string): void {
  const budget = sc.faults.maxMessageBytes;
  if (budget === undefined) return;
  const q = sc.faults.messageQuantization;
  for (let t = 0; t < alg.rounds; t++) {
    const n = alg.broadcastSize(t);
    const bytes = q ? packedBytes(q, n) : 8 * n;
    if (bytes > budget)
      throw new UsageError(
        `${source}: invalid scenario: faults.maxMessageBytes: algorithms[${i}] (${algorithmLabel(sc.algorithms[i])}) broadcasts ${n} number${n === 1 ? '' : 's'} in round ${t}: ${bytes} bytes ${q ? `as ${q.bits}-bit codes${q.range === 'per-message' ? ' and their range' : ''}` : 'as float64'}, more than the budget of ${budget} bytes${q ? '' : ' (faults.messageQuantization brings them under)'}`,
      );
  }
}

/**
 * Every fault acts on the decentralised algorithms (their local views, messages, processes and
 * rounds); centralized algorithms see the true channel of round 0 and send nothing, so a scenario
 * with no DMP algorithm would list faults as injected that nothing felt.
 */
function checkFaultsFelt(sc: Scenario, source: string): void {
  if (sc.algorithms.some(isDmp)) return;
  const key = Object.keys(sc.faults).find((k) => sc.faults[k as keyof typeof sc.faults] !== undefined);
  if (key) throw new UsageError(`${source}: invalid scenario: faults.${key}: the scenario has no DMP algorithm, so no job would feel it (centralized algorithms see the true channel and send no messages)`);
}

/** A crash, broker restart or churn at a round that algorithms[i]'s jobs (`r` rounds of period `period`) never reach would silently not happen. */
function checkFaultRounds(sc: Scenario, i: number, { rounds: r, period }: { rounds: number; period: number }, source: string): void {
  const name = `algorithms[${i}] (${algorithmLabel(sc.algorithms[i])})`;
  const faults = [
    ...(sc.faults.crash ?? []).map((c, k) => ({ key: `faults.crash[${k}].round`, round: c.round })),
    ...(sc.faults.brokerRestart ?? []).map((b, k) => ({ key: `faults.brokerRestart[${k}].round`, round: b.round })),
  ];
  for (const f of faults)
    if (f.round >= r) throw new UsageError(`${source}: invalid scenario: ${f.key}: round ${f.round} is never reached by ${name}, which runs ${r} round${r === 1 ? '' : 's'} (0-${r - 1})`);
  // churn: every job reaches the rounds agents leave and come back in, and a fresh state starts in round 0's phase
  const churn = sc.faults.churn;
  if (churn) {
    const list = Array.isArray(churn) ? churn.map((c, k) => ({ c, key: `faults.churn[${k}]` })) : [{ c: churn, key: 'faults.churn' }];
    for (const { c, key } of list) {
      for (const [what, round] of [['leaveRound', c.leaveRound], ['joinRound', c.joinRound]] as const)
        if (round !== undefined && round >= r) throw new UsageError(`${source}: invalid scenario: ${key}.${what}: round ${round} is never reached by ${name}, which runs ${r} round${r === 1 ? '' : 's'} (0-${r - 1})`);
      if (c.joinRound !== undefined && c.joinRound % period !== 0)
        throw new UsageError(`${source}: invalid scenario: ${key}.joinRound: an agent comes back with a fresh state, which ${name} can only start in a round of round 0's phase (period ${period}): ${c.joinRound} is not a multiple of ${period}`);
    }
  }
  // a restarted agent rejoins at the next round of round 0's phase (the coordinator's rule): it must come
  (sc.faults.crash ?? []).forEach((c, k) => {
    if (!c.restart) return;
    const from = c.round + 1 + ((period - ((c.round + 1) % period)) % period);
    if (from >= r)
      throw new UsageError(
        `${source}: invalid scenario: faults.crash[${k}]: agent ${c.agent} restarted after round ${c.round} would rejoin at round ${from} (the next of round 0's phase${period > 1 ? `, period ${period}` : ''}), but ${name} runs ${r} rounds (0-${r - 1}): it would never rejoin`,
      );
  });
}

/** Draws the layout of every instance of every D2D and MISO network as the run will (no channel matrices). */
function checkLayouts(sc: Scenario, source: string, drawn: Set<string>): void {
  sc.networks.forEach((n, j) => {
    if (n.model !== 'd2d' && n.model !== 'miso') return;
    const name = networkName(n);
    for (let i = 0; i < n.instances; i++) {
      const key = JSON.stringify([sc.seed, name, i, n.K, n.field, n.dmin, n.dmax]);
      if (drawn.has(key)) continue;
      try {
        checkD2dLayout(Rng.derive(sc.seed, `${name}/${i}`), n);
      } catch (e) {
        throw new UsageError(`${source}: networks[${j}] (${name}), instance ${i}: ${(e as Error).message}`);
      }
      drawn.add(key);
    }
  });
}
