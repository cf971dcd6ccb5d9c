import type { AlgorithmSpec, DmpAlgorithm } from './contract.ts';
import { article } from './architectures.ts';
import { assertCheckpoint, verifyCheckpoint, type ArchitectureKind, type ArchitectureOf, type Checkpoint, type CheckpointArchitecture } from './checkpoint.ts';
import { ecgnnDmp } from './ecgnnDmp.ts';
import { pcgnnDmp } from './pcgnnDmp.ts';
import { regnnDmp, regnnRounds } from './regnnDmp.ts';
import { uwmmseDmp, uwmmseRounds } from './uwmmseDmp.ts';
import { wcgcnBeamDmp } from './wcgcnBeamDmp.ts';
import { wcgcnDmp } from './wcgcnDmp.ts';
import { wmmseBeamDmp } from './wmmseBeamDmp.ts';
import { wmmseDmp } from './wmmseDmp.ts';
import { moduleAlgorithm } from './modules.ts';
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
    case 'mpnn':
      powerControlOnly('mpnn', Nt);
      return mpnnDmp(learnedCheckpoint(spec, 'mpnn', 'import a PyTorch model with dmpemu import'), spec.rounds) as DmpAlgorithm<unknown>;
    default:
      throw new Error(`unknown DMP algorithm ${JSON.stringify(spec.name)}: expected one of ${DMP_ALGORITHMS.join(', ')}`);
  }
}
