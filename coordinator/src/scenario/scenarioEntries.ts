/** What a scenario's algorithm and network entries mean: labels, specs for the agents, rounds, names, checkpoints. */
import { DMP_ALGORITHMS, learnedRounds, moduleAlgorithm, type AlgorithmSpec, type Checkpoint } from '@dmpemu/dmp';
import { bundleModule, moduleLabel } from './algorithmModules.ts';
import { CELL_FREE_DMP, ITERATIVE } from './algorithmNames.ts';
import { readCheckpoint } from './checkpoints.ts';
import type { AlgorithmEntry, NetworkSpec, Scenario } from './scenario.ts';
import { UsageError } from './usageError.ts';

export function isDmp(a: AlgorithmEntry): boolean {
  return a.module !== undefined || (DMP_ALGORITHMS as readonly string[]).includes(a.name!) || (CELL_FREE_DMP as readonly string[]).includes(a.name!);
}

/** The name an algorithm has in tables and rounds.jsonl: its label, else one made from its name, checkpoint or module. */
export function algorithmLabel(a: AlgorithmEntry): string {
  if (a.label) return a.label;
  if (a.module) return moduleLabel(a.module);
  if (a.checkpoint) return `${a.checkpoint.replace(/^.*\//, '').replace(/\.json$/, '')}${a.rounds ? `-r${a.rounds}` : ''}`;
  const name = a.name!;
  return name === 'wmmse-dmp' || ITERATIVE.has(name) ? `${name}-${a.iterations ?? 100}` : name;
}

/** The checkpoints the scenario's algorithms name, loaded and verified (errors name the key). */
export function loadCheckpoints(sc: Scenario): Map<string, Checkpoint> {
  const out = new Map<string, Checkpoint>();
  sc.algorithms.forEach((a, i) => {
    if (!a.checkpoint) return;
    const c = out.get(a.checkpoint) ?? readCheckpoint(a.checkpoint, `algorithms[${i}].checkpoint`);
    if (c.architecture.kind !== a.name) throw new UsageError(`algorithms[${i}].checkpoint ${a.checkpoint}: holds a ${c.architecture.kind} model, not ${a.name}`);
    out.set(a.checkpoint, c);
  });
  return out;
}

/** What the agents are told to run for a DMP algorithm entry (a module: its bundled code). */
export function specOf(a: AlgorithmEntry, checkpoints: Map<string, Checkpoint>): AlgorithmSpec {
  if (a.module) return { name: 'module', module: bundleModule(a.module, 'module'), params: a.params ?? {} };
  return { name: a.name!, iterations: a.iterations, rounds: a.rounds, checkpoint: a.checkpoint ? checkpoints.get(a.checkpoint) : undefined };
}

/** Rounds a DMP algorithm entry runs (a REGNN: one per shift of H, sum_l (K_l - 1); a UWMMSE: 2 per unrolled iteration; a module: what it says, once loaded). */
export function roundsOf(a: AlgorithmEntry, checkpoints: Map<string, Checkpoint>): number {
  if (a.module) return moduleAlgorithm(bundleModule(a.module, 'module'), a.params ?? {}).rounds;
  if (a.name === 'wmmse-dmp') return 2 * (a.iterations ?? 100);
  const arch = checkpoints.get(a.checkpoint!)?.architecture;
  return a.rounds ?? (arch && learnedRounds(arch)) ?? 0;
}

/** The agents of a network: one per pair, or (cell-free) one per AP and per user, APs first. */
export function agentsOf(n: Pick<NetworkSpec, 'model' | 'K' | 'M'>): number {
  return n.model === 'cell-free' ? n.M! + n.K : n.K;
}

export function networkName(n: NetworkSpec): string {
  return n.name ?? `${n.model}-k${n.K}`;
}
