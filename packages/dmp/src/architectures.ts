import { assertArchitecture, type ArchitectureKind, type ArchitectureOf, type TrainableKind, type CheckpointArchitecture, type FeatureScaling, type WcgcnArchitecture, type BeamEdges } from './checkpoint.ts';
import { ecgnnWeightShapes } from './ecgnnDmp.ts';
import { mlpWeightShapes } from './mlpInference.ts';
import { pcgnnWeightShapes } from './pcgnnDmp.ts';
import { regnnWeightShapes, validateRegnnArchitecture } from './regnnDmp.ts';
import { uwmmseWeightShapes } from './uwmmseDmp.ts';
import { validateWcgcnArchitecture, wcgcnWeightShapes } from './wcgcnDmp.ts';

/**
 * The architectures `dmpemu train` builds before it has weights: each kind's defaults (the papers'
 * settings; packages/gnn/README.md), the keys a caller may set, and the checks a checkpoint's
 * architecture gets, so a training scenario is refused before training starts.
 */

/** The paper's setting (section V): 3 layers, MLP1 {5, 32, 32}, MLP2 {35, 16, 1}, max aggregation. */
export const WCGCN_DEFAULTS = { layers: 3, mlp1: [5, 32, 32], mlp2: [35, 16, 1], aggregation: 'max', mlp1Output: 'relu' } as const;
/** Beamforming (section V-C): MLP1 {6 Nt, 64, 64} ({8 Nt, ...} with `edges: both`), MLP2 {64 + 4 Nt, 32, 2 Nt}; layers and aggregation as for power control. */
export function wcgcnBeamDefaults(Nt: number, edges: BeamEdges = 'in'): Omit<WcgcnArchitecture, 'kind' | 'task' | 'features'> {
  return { layers: 3, Nt, mlp1: [(edges === 'both' ? 8 : 6) * Nt, 64, 64], mlp2: [64 + 4 * Nt, 32, 2 * Nt], aggregation: 'max', mlp1Output: 'relu' };
}
/**
 * PCGNN (eqs. 20-21): 2 layers and max aggregation as in section VI-A of the DMP paper; the widths
 * are not given there: ours are H = 32 (as WCGCN's messages), an edge embedding of 16 and one
 * hidden layer of 16 in the output MLP.
 */
export const PCGNN_DEFAULTS = { layers: 2, hidden: 32, edgeEmbedding: 16, head: [16], aggregation: 'max' } as const;
/**
 * ECGNN (eq. 12): 2 layers as in section VI-A of the DMP paper; widths as the authors' code
 * (GNN4Com, D2D/DCGNN.ipynb): d^(1) of 16, d^(2) of 32, an output MLP 32 -> 16 -> 1.
 */
export const ECGNN_DEFAULTS = { layers: 2, hidden: [16, 32], head: [16] } as const;
/**
 * UWMMSE (Chowdhury et al., TWC 2021, section V and the authors' code): 4 unrolled iterations,
 * each a and b from a 2-layer GCN of hidden width 5.
 */
export const UWMMSE_DEFAULTS = { layers: 4, gcnHidden: 5 } as const;
/** The MLP baseline: PCNet's hidden layers 200, 80, 80 (ReLU); K from the training data. */
export const MLP_DEFAULTS = { hidden: [200, 80, 80] } as const;
/** Section VI-A of the REGNN paper: L = 8 layers of F_l = 1 filter of length K_l = 5, ReLU; p0 = 4 as in the authors' code. */
export const REGNN_DEFAULTS = { layers: 8, taps: [5, 5, 5, 5, 5, 5, 5, 5], widths: [1, 1, 1, 1, 1, 1, 1, 1], p0: 4, shift: 'outgoing', decision: 'threshold' } as const;

/** The keys of an architecture a caller may set, per kind (kind, task and the fitted features are set by training). */
export const ARCHITECTURE_OPTIONS: Record<TrainableKind, readonly string[]> = {
  wcgcn: ['layers', 'mlp1', 'mlp2', 'aggregation', 'mlp1Output', 'edges'],
  pcgnn: ['layers', 'hidden', 'edgeEmbedding', 'head', 'aggregation', 'powerFeature'],
  mlp: ['hidden'],
  regnn: ['layers', 'taps', 'widths', 'p0', 'shift', 'decision'],
  ecgnn: ['layers', 'hidden', 'head'],
  uwmmse: ['layers', 'gcnHidden'],
};

/** "a" or "an" before a kind's name as it is said (an ecgnn, an mlp; a uwmmse, a regnn). */
export function article(kind: string): 'a' | 'an' {
  return /^[aeim]/.test(kind) ? 'an' : 'a';
}

/** The network a model is built for: K pairs, Nt transmit antennas (a WCGCN does beamforming when Nt > 1 or the network is MISO). */
export interface ModelNetwork {
  K: number;
  Nt: number;
  miso?: boolean;
}

/** The architecture of `kind` for `network`: the kind's defaults, then `options`, then `features`. */
export function resolveArchitecture<K extends TrainableKind>(kind: K, options: Record<string, unknown>, features: FeatureScaling, network: ModelNetwork): ArchitectureOf<K> {
  const miso = network.miso ?? network.Nt > 1;
  const defaults: Record<TrainableKind, Record<string, unknown>> = {
    wcgcn: miso ? { task: 'beamforming', ...wcgcnBeamDefaults(network.Nt, options.edges === 'both' ? 'both' : 'in') } : { task: 'power', ...WCGCN_DEFAULTS },
    pcgnn: { task: 'power', ...PCGNN_DEFAULTS },
    mlp: { task: 'power', K: network.K, ...MLP_DEFAULTS },
    regnn: { task: 'power', ...REGNN_DEFAULTS },
    ecgnn: { task: 'power', ...ECGNN_DEFAULTS },
    uwmmse: { task: 'power', ...UWMMSE_DEFAULTS },
  };
  return { kind, ...defaults[kind], ...options, features } as unknown as ArchitectureOf<K>;
}

/** Feature constants that pass the structure checks, for an architecture whose features are fitted later (a UWMMSE's graph shift takes log1p or linear). */
const PLACEHOLDER_FEATURES: FeatureScaling = { transform: 'db', direct: { shift: 0, scale: 1 }, cross: { shift: 0, scale: 1 } };
const PLACEHOLDER_SHIFT: FeatureScaling = { ...PLACEHOLDER_FEATURES, transform: 'log1p' };
const PLACEHOLDER_POWER: FeatureScaling = { ...PLACEHOLDER_FEATURES, power: { shift: 0, scale: 1 } };

/**
 * The most weights a trained model may have: its checkpoint must load again, and 64 MiB
 * (FILE_LIMITS.checkpoint) holds about 12.6 M float32 weights in base64.
 */
export const MAX_WEIGHTS = 10_000_000;

/** Names and shapes of the weights of each kind `dmpemu train` builds. */
export function trainableWeightShapes(a: ArchitectureOf<TrainableKind>): Record<string, number[]> {
  switch (a.kind) {
    case 'wcgcn': return wcgcnWeightShapes(a);
    case 'pcgnn': return pcgnnWeightShapes(a);
    case 'ecgnn': return ecgnnWeightShapes(a);
    case 'uwmmse': return uwmmseWeightShapes(a);
    case 'regnn': return regnnWeightShapes(a);
    case 'mlp': return mlpWeightShapes(a);
  }
}

/**
 * Throws unless `options` describe an architecture of `kind` that training can build for `network`:
 * only the kind's keys (ARCHITECTURE_OPTIONS), the structure a checkpoint must have
 * (assertArchitecture), the widths its DMP checks (validateWcgcnArchitecture, validateRegnnArchitecture)
 * and at most MAX_WEIGHTS weights. `what` starts the errors (e.g. `t.yaml: invalid training scenario`).
 */
export function validateArchitectureOptions(kind: TrainableKind, options: Record<string, unknown>, network: ModelNetwork, what: string): CheckpointArchitecture {
  for (const key of Object.keys(options))
    if (options[key] !== undefined && !ARCHITECTURE_OPTIONS[kind].includes(key))
      throw new Error(`${what}: architecture.${key}: not a parameter of ${article(kind)} ${kind} (it takes ${ARCHITECTURE_OPTIONS[kind].join(', ')})`);
  const a = resolveArchitecture(kind, options, kind === 'uwmmse' ? PLACEHOLDER_SHIFT : options.powerFeature ? PLACEHOLDER_POWER : PLACEHOLDER_FEATURES, network);
  assertArchitecture(a, what, kind);
  if (a.kind === 'wcgcn') validateWcgcnArchitecture(a, what);
  if (a.kind === 'regnn') validateRegnnArchitecture(a, what);
  const weights = Object.values(trainableWeightShapes(a as ArchitectureOf<TrainableKind>)).reduce((n, shape) => n + shape.reduce((x, y) => x * y, 1), 0);
  if (weights > MAX_WEIGHTS) throw new Error(`${what}: architecture: has ${weights.toLocaleString('en-US')} weights, at most ${MAX_WEIGHTS.toLocaleString('en-US')} fit a checkpoint (narrower layers or fewer of them)`);
  return a;
}
