import type { AlgorithmSpec, DmpAlgorithm } from './contract.ts';
import { article } from './architectures.ts';
import { assertCheckpoint, verifyCheckpoint, type ArchitectureKind, type ArchitectureOf, type Checkpoint, type CheckpointArchitecture } from './checkpoint.ts';
import { cfPcgnnDmp } from './cfPcgnnDmp.ts';
import { hetgnnDmp } from './hetgnnDmp.ts';
import { ecgnnDmp } from './ecgnnDmp.ts';
import { pcgnnDmp } from './pcgnnDmp.ts';
import { regnnDmp, regnnRounds } from './regnnDmp.ts';
import { uwmmseDmp, uwmmseRounds } from './uwmmseDmp.ts';
import { wcgcnBeamDmp } from './wcgcnBeamDmp.ts';
import { wcgcnDmp } from './wcgcnDmp.ts';
import { wmmseBeamDmp } from './wmmseBeamDmp.ts';
import { wmmseDmp } from './wmmseDmp.ts';
import { moduleAlgorithm } from './modules.ts';
import { NodeRunner } from './nodeRunner.ts';
import type { LocalView } from '@dmpemu/wireless';
import { mpnnDmp } from './mpnnDmp.ts';

/** Learned DMP algorithms: their spec must carry a checkpoint (`AlgorithmSpec.checkpoint`). */
export const LEARNED_DMP_ALGORITHMS = ['wcgcn', 'pcgnn', 'regnn', 'ecgnn', 'uwmmse', 'mpnn'] as const;
/** DMP algorithms by name: the one place a spec shipped over the wire becomes code. */
export const DMP_ALGORITHMS = ['wmmse-dmp', ...LEARNED_DMP_ALGORITHMS] as const;

/**
 * Rounds a learned DMP runs by default: its layers (a WCGCN may run others), sum_l (K_l - 1) for a
 * REGNN (one per shift of H), 2 per unrolled iteration for a UWMMSE; undefined for the MLP (no DMP).
 */
export function learnedRounds(a: CheckpointArchitecture): number | undefined {
  if (a.kind === 'regnn') return regnnRounds(a);
  if (a.kind === 'uwmmse') return uwmmseRounds(a);
  return a.layers;
}

/** The spec's checkpoint, of `kind`, structure checked and hash verified; `hint` says where to get one. */
function learnedCheckpoint<K extends ArchitectureKind>(spec: AlgorithmSpec, kind: K, hint: string): Checkpoint<ArchitectureOf<K>> {
  const c = spec.checkpoint;
  if (c === undefined) throw new Error(`${kind}: the algorithm spec has no checkpoint (${hint})`);
  assertCheckpoint(c, `${kind} checkpoint`, kind);
  verifyCheckpoint(c);
  return c;
}

/** PCGNN, REGNN, ECGNN and UWMMSE decide powers: they do not run on MISO nodes. */
function powerControlOnly(kind: string, Nt: number): void {
  if (Nt > 1) throw new Error(`${kind}: ${article(kind)} ${kind} does power control, the network has Nt = ${Nt} antennas (a beamforming WCGCN or wmmse-dmp runs on MISO networks)`);
}

/** The algorithm of `spec` for nodes with `Nt` transmit antennas (wmmse-dmp: power control, or beamforming when Nt > 1). */
export function createAlgorithm(spec: AlgorithmSpec, Nt = 1): DmpAlgorithm<unknown> {
  switch (spec.name) {
    case 'module':
      if (!spec.module) throw new Error('module: the algorithm spec has no module code');
      return moduleAlgorithm(spec.module, spec.params ?? {});
    case 'wmmse-dmp':
      if (spec.rounds !== undefined) throw new Error(`wmmse-dmp: it runs 2 rounds per iteration: give iterations, not rounds (${spec.rounds})`);
      return (Nt > 1 ? wmmseBeamDmp(spec.iterations ?? 100, Nt) : wmmseDmp(spec.iterations ?? 100)) as DmpAlgorithm<unknown>;
    case 'wcgcn': {
      const c = learnedCheckpoint(spec, 'wcgcn', 'train one with @dmpemu/gnn or load one with loadCheckpoint');
      if (c.architecture.task === 'beamforming' && c.architecture.Nt !== Nt) throw new Error(`wcgcn: the checkpoint does beamforming with Nt = ${c.architecture.Nt}, the network has Nt = ${Nt}`);
      if (c.architecture.task === 'power' && Nt > 1) throw new Error(`wcgcn: the checkpoint does power control, the network has Nt = ${Nt} antennas (train a beamforming WCGCN)`);
      return (c.architecture.task === 'beamforming' ? wcgcnBeamDmp(c, spec.rounds) : wcgcnDmp(c, spec.rounds)) as DmpAlgorithm<unknown>;
    }
    case 'pcgnn':
      powerControlOnly('pcgnn', Nt);
      return pcgnnDmp(learnedCheckpoint(spec, 'pcgnn', 'train one with @dmpemu/gnn, kind pcgnn, or load one with loadCheckpoint'), spec.rounds) as DmpAlgorithm<unknown>;
    case 'ecgnn':
      powerControlOnly('ecgnn', Nt);
      return ecgnnDmp(learnedCheckpoint(spec, 'ecgnn', 'train one with @dmpemu/gnn, kind ecgnn, or load one with loadCheckpoint'), spec.rounds) as DmpAlgorithm<unknown>;
    case 'uwmmse':
      powerControlOnly('uwmmse', Nt);
      return uwmmseDmp(learnedCheckpoint(spec, 'uwmmse', 'train one with @dmpemu/gnn, kind uwmmse, or load one with loadCheckpoint'), spec.rounds) as DmpAlgorithm<unknown>;
    case 'regnn':
      powerControlOnly('regnn', Nt);
      return regnnDmp(learnedCheckpoint(spec, 'regnn', 'train one with trainRegnn from @dmpemu/gnn, or load one with loadCheckpoint'), spec.rounds) as DmpAlgorithm<unknown>;
    case 'hetgnn':
      return hetgnnDmp(learnedCheckpoint(spec, 'hetgnn', 'cell-free power control (a checkpoint of kind hetgnn)')) as DmpAlgorithm<unknown>;
    case 'cf-pcgnn':
      return cfPcgnnDmp(learnedCheckpoint(spec, 'cf-pcgnn', 'cell-free power control (a checkpoint of kind cf-pcgnn)')) as DmpAlgorithm<unknown>;
    case 'mpnn':
      powerControlOnly('mpnn', Nt);
      return mpnnDmp(learnedCheckpoint(spec, 'mpnn', 'import a PyTorch model with dmpemu import'), spec.rounds) as DmpAlgorithm<unknown>;
    default:
      throw new Error(`unknown DMP algorithm ${JSON.stringify(spec.name)}: expected one of ${DMP_ALGORITHMS.join(', ')}`);
  }
}

/**
 * One algorithm instance per spec for all the nodes of a process (an agent host), as the
 * in-process executor has one for all nodes: the nodes share its code, so V8 warms it up once
 * (each instance's closures would gather their own feedback, and a 3-round GNN job would run cold
 * on every agent). Keyed by the spec's plain fields and its checkpoint's or module's hash; a hit
 * still checks the checkpoint it was given: equal (architecture and every weight) to the one the
 * entry was built from and verified, or else verified itself. Keeps the last few specs (one job
 * after another).
 */
export class AlgorithmCache {
  private readonly built = new Map<string, { alg: DmpAlgorithm<unknown>; checkpoint?: Checkpoint }>();

  constructor(private readonly size = 4) {}

  /**
   * The algorithm of `spec`. The first time it is built here, a built-in one runs WARM_UP_PASSES
   * passes over all its rounds on `view` (every neighbour sending this node's own broadcast, on a
   * node of its own that is then dropped), so that a job's first rounds do not run on cold code.
   */
  build(spec: AlgorithmSpec, Nt = 1, view?: LocalView): DmpAlgorithm<unknown> {
    const { checkpoint, module, ...plain } = spec;
    const key = JSON.stringify([Nt, plain, checkpoint?.hash ?? null, module?.sha256 ?? null]);
    const hit = this.built.get(key);
    if (hit) {
      if (checkpoint && !(hit.checkpoint && sameCheckpoint(hit.checkpoint, checkpoint))) verifyCheckpoint(checkpoint);
      this.built.delete(key); // most recent last
      this.built.set(key, hit);
      return hit.alg;
    }
    const alg = createAlgorithm(spec, Nt); // verifies the checkpoint
    if (view && spec.name !== 'module') warmUp(alg, view);
    this.built.set(key, { alg, checkpoint });
    if (this.built.size > this.size) this.built.delete(this.built.keys().next().value!);
    return alg;
  }
}

/** Whether two checkpoints hold the same architecture and weights (the values compared, not hashed). */
function sameCheckpoint(a: Checkpoint, b: Checkpoint): boolean {
  if (a === b) return true;
  if (a.format !== b.format || JSON.stringify(a.architecture) !== JSON.stringify(b.architecture)) return false;
  const names = Object.keys(a.weights);
  if (names.length !== Object.keys(b.weights).length) return false;
  for (const name of names) {
    const x = a.weights[name], y = b.weights[name];
    if (!y || x.shape.length !== y.shape.length || x.shape.some((d, i) => d !== y.shape[i]) || x.data.length !== y.data.length) return false;
    for (let i = 0; i < x.data.length; i++) if (!Object.is(x.data[i], y.data[i])) return false;
  }
  return true;
}

/** Passes over an algorithm's rounds that warm its code up (AlgorithmCache), capped at WARM_UP_CALLS message calls. */
export const WARM_UP_PASSES = 30;
const WARM_UP_CALLS = 20_000;

function warmUp(alg: DmpAlgorithm<unknown>, view: LocalView): void {
  const n = Math.max(1, view.neighbours.length);
  const passes = Math.min(WARM_UP_PASSES, Math.ceil(WARM_UP_CALLS / (n * alg.rounds)));
  // what the algorithm throws here it throws in the job too, where the agent reports it with its round
  try {
    warmPasses(alg, view, passes);
  } catch {
    /* reported by the job */
  }
}

function warmPasses(alg: DmpAlgorithm<unknown>, view: LocalView, passes: number): void {
  for (let p = 0; p < passes; p++) {
    const node = new NodeRunner(alg, view);
    for (let t = 0; t < alg.rounds; t++) {
      const b = node.broadcast(t);
      for (let i = 0; i < view.neighbours.length; i++) node.receiveSlot(i, b);
      node.update(t);
    }
    node.output();
  }
}
