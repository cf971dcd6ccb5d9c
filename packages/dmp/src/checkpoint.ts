import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Aggregation } from './contract.ts';
import type { OnnxGraph } from './onnxGraph.ts';

/**
 * Learned-model checkpoints: architecture, weights, how they were trained and a content hash.
 * Plain data with typed arrays, so a checkpoint is shipped to agents as it is and read without
 * TensorFlow.js (agents run the layers with typed-array arithmetic: wcgcnDmp.ts, pcgnnDmp.ts;
 * the centralized MLP baseline: mlpInference.ts).
 */
export const CHECKPOINT_FORMAT = 'dmpemu-checkpoint/1';

/**
 * Input normalisation of a channel amplitude g (features of x_k and e_jk), applied by the agent
 * to its own local view: `(T(g) - shift) / scale` with T(g) = g (`linear`) or 20 log10(g), the
 * channel gain in dB (`db`, for geometric models where gains span orders of magnitude). Direct
 * channels g_kk and cross channels g_jk, g_kj have their own constants.
 */
export interface FeatureScaling {
  /**
   * `log1p` (beamforming): T(g) = log10(1 + g^2) of a channel norm ||h|| (the MISO model has sigma^2 = 1),
   * applied to h by keeping its direction: h (T(||h||) - shift) / (scale ||h||); shift is 0.
   */
  transform: 'linear' | 'db' | 'log1p';
  direct: { shift: number; scale: number };
  cross: { shift: number; scale: number };
  /**
   * A PCGNN with `powerFeature`: the transmit power as a node feature, (10 log10(Pmax / sigma^2) -
   * shift) / scale (the transmit power in dBm up to a constant, with p normalised to [0, Pmax]).
   */
  power?: { shift: number; scale: number };
}

/**
 * The edge features of a beamforming WCGCN, for the message from sender j to agent k:
 * - `in` (the default, the paper's text): e_jk = h_jk, the channel from j's transmitter into k's
 *   receiver; MLP1 {6 Nt, ...} as section V-C;
 * - `out` (the seed authors' code, yshenaw/GNN-Resource-Management D2D/Beamforming): e_jk = h_kj, the
 *   channel from k's transmitter to j's receiver, the interference agent k causes there, which
 *   WMMSE's beamformer update weighs; MLP1 {6 Nt, ...} too;
 * - `both`: e_jk = [h_jk, h_kj], MLP1 {8 Nt, ...}, as the power-control WCGCN's e_jk = [g_jk, g_kj].
 */
export const BEAM_EDGES = ['in', 'out', 'both'] as const;
export type BeamEdges = (typeof BEAM_EDGES)[number];

/**
 * WCGCN (eq. 8 of mpgnn-wcgcn-scalable-rrm.md), weights shared by its T layers, for power control
 * (`task: 'power'`, sigma = sigmoid) or MISO beamforming (`task: 'beamforming'` with `Nt` antennas,
 * sigma(x) = x / max(||x||, 1), complex numbers as two reals). `mlp1`, `mlp2` list layer widths
 * input first, as the paper does ({5, 32, 32} = 5 inputs, one hidden layer of 32, 32 outputs).
 * Hidden layers use ReLU; MLP2's output is linear (then sigma); MLP1's output is ReLU (`relu`, as
 * in the paper's code) or `linear`.
 */
export interface WcgcnArchitecture {
  kind: 'wcgcn';
  task: 'power' | 'beamforming';
  /** Beamforming only: transmit antennas per transmitter. */
  Nt?: number;
  /** Beamforming only: the edge features (BeamEdges); `in` when absent. */
  edges?: BeamEdges;
  /** T: layers = communication rounds. */
  layers: number;
  mlp1: number[];
  mlp2: number[];
  aggregation: Aggregation;
  mlp1Output: 'relu' | 'linear';
  features: FeatureScaling;
}

/**
 * PCGNN for power control (eqs. 20-21 of gnn-wireless-theory-to-practice-dmp.md): node and edge
 * features embedded by one ReLU layer each (eq. 20), then T layers of
 * x_k^(t+1) = d_k^(t) = MAX_{j in N(k)} ReLU(W1^(t) x_k^(t) + W2 e_jk + W3^(t) x_j^(t) + b^(t))
 * with W1^(t), W3^(t), b^(t) per layer and the edge weight W2 shared by the layers (eq. 21), and
 * p_k = sigmoid(MLP(d_k^(T))) Pmax. Its layers do not share weights: it runs exactly T rounds.
 */
export interface PcgnnArchitecture {
  kind: 'pcgnn';
  task: 'power';
  /** T: layers = communication rounds. */
  layers: number;
  /** Width H of the node states x_k^(t) (the node embedding, every d_k^(t)). */
  hidden: number;
  /** Width of the edge embedding e_jk. */
  edgeEmbedding: number;
  /** Hidden widths of the output MLP (H -> head... -> 1, ReLU between, then the sigmoid); may be empty. */
  head: number[];
  /** `max` is the paper's; `sum` and `mean` are offered for ablations. */
  aggregation: Aggregation;
  /** The transmit power as a third node feature (Table II of the DMP paper; `features.power` scales it). */
  powerFeature?: boolean;
  features: FeatureScaling;
}

/**
 * The centralized MLP baseline (PCNet-style, section V-A of mpgnn-wcgcn-scalable-rrm.md): the
 * K x K channel amplitudes (scaled like the GNNs' inputs) and the K weights -> ReLU hidden layers
 * -> K sigmoids times Pmax. It needs the whole channel, so it is not a DMP algorithm and has no
 * rounds (`layers` is never set), and it only runs on networks of exactly K pairs.
 */
export interface MlpArchitecture {
  kind: 'mlp';
  task: 'power';
  /** Pairs the network has: input K^2 + K, output K. */
  K: number;
  /** Hidden layer widths (PCNet: 200, 80, 80). */
  hidden: number[];
  features: FeatureScaling;
  /** An MLP runs no communication rounds. */
  layers?: undefined;
}

/**
 * REGNN (eqs. 12-14 of regnn-primal-dual.md) for binary power control: L layers
 * z_l = sigma(sum_f sum_{k < K_l} alpha_lk^fg H^k z_{l-1}^f + b_l), ReLU hidden, z_0 = x = 1 (problem
 * (49) has no node state), the last layer (F_L = 1) a logit whose sigmoid is the probability of
 * transmitting at p0 (Bernoulli policy; regnnDmp.ts decides p0 when it exceeds 1/2). H is the shift
 * operator with self loops over agent k's known edges, its entries the `features` scaling of the
 * amplitude in units of the noise at power p0: H_kj = scaleGain(g_kj sqrt(p0 / sigma^2)), with
 * `log1p` log10(1 + p0 g_kj^2 / sigma^2) / scale (regnnDmp.ts: regnnShiftEntry).
 * Layer l needs K_l - 1 shifts: the REGNN runs sum_l (K_l - 1) rounds.
 */
export interface RegnnArchitecture {
  kind: 'regnn';
  task: 'power';
  /** L: graph filter layers. */
  layers: number;
  /** K_l per layer: filter taps alpha_l0..alpha_l(K_l - 1). */
  taps: number[];
  /** F_l per layer: output features (the input x has F_0 = 1); the last must be 1. */
  widths: number[];
  /** p0: the transmit power when on (same units as the noise); the policy picks p_k in {0, p0}. */
  p0: number;
  /**
   * `outgoing`: the paper's H (Remark 1), [H z]_k = sum_j h_kj z_j over k's transmitter to j's
   * receiver; `incoming`: its transpose (h_jk, the interference k receives; the authors' code).
   */
  shift: 'outgoing' | 'incoming';
  /**
   * How an agent turns its probability pi_k into a power: `threshold` p_k = p0 when pi_k > 1/2
   * (the policy's most likely action, binary and deterministic), `expected` p_k = pi_k p0.
   */
  decision: 'threshold' | 'expected';
  /** The graph normalisation: H_kj from g_kj sqrt(p0 / sigma^2), `direct` on the self loops. */
  features: FeatureScaling;
}

/**
 * ECGNN for power control (eq. 12 of gnn-wireless-theory-to-practice-dmp.md, Example 1): d_k^(0) =
 * [w_k, h_kk] (h_kk scaled), then T layers of
 * d_k^(t) = (1 / |N(k)|) sum_{j in N(k)} ReLU(W1^(t) d_k^(t-1) + w2^(t) h_jk + W3^(t) d_j^(t-1) + b^(t))
 * with weights per layer, and p_k = sigmoid(MLP(d_k^(T))) Pmax. It runs exactly T rounds.
 */
export interface EcgnnArchitecture {
  kind: 'ecgnn';
  task: 'power';
  /** T: layers = communication rounds. */
  layers: number;
  /** Widths of d^(1)..d^(T), one per layer (d^(0) has 2). */
  hidden: number[];
  /** Hidden widths of the output MLP (H^(T) -> head... -> 1, ReLU between, then the sigmoid); may be empty. */
  head: number[];
  features: FeatureScaling;
}

/**
 * UWMMSE (Chowdhury et al., "Unfolding WMMSE using graph neural networks for efficient power
 * allocation", IEEE TWC 2021): L WMMSE iterations unrolled, iteration l's MSE weights
 * w_k = a_k^(l) w_k^WMMSE + b_k^(l) with a^(l) = Psi(S; theta_a^(l)), b^(l) = Psi(S; theta_b^(l)), each Psi
 * a 2-layer graph convolution Z' = sigma(diag(S) Z Theta_0 + S Z Theta_1 + b) of the node signal Z = 1 (ReLU,
 * then sigmoid); the GCNs' weights are all it learns (the paper's a and b). S_kj (transmitter k to
 * receiver j, known edges, S_kk on the diagonal) is the `features` scaling (log1p or linear, no
 * shift) of the amplitude in units of the noise at full power, g_kj sqrt(Pmax / sigma^2).
 * Each unrolled iteration takes 2 rounds: it runs exactly 2 L rounds.
 */
export interface UwmmseArchitecture {
  kind: 'uwmmse';
  task: 'power';
  /** L: unrolled WMMSE iterations (2 communication rounds each). */
  layers: number;
  /** Hidden width of every Psi (the authors: 5). */
  gcnHidden: number;
  features: FeatureScaling;
}

/** Node features an imported model's initial state x_k may name (`state`), besides numbers. */
export const MPNN_NODE_FEATURES = ['direct', 'weight', 'noise', 'pmax'] as const;
/** Edge features its `edge_attr` columns may name: g_in = g_jk (neighbour j's transmitter to my receiver), g_out = g_kj. */
export const MPNN_EDGE_FEATURES = ['g_in', 'g_out'] as const;

/**
 * A message-passing GNN imported from PyTorch through ONNX (`dmpemu import`; mpnnDmp.ts): per
 * round r, for every neighbour j the message network on rows [x_j, edge_attr (, x_i)], the
 * aggregation over neighbours, then the update network on [x, aggr_out] gives the new x_k (a
 * PyG `MessagePassing` layer); p_k = Pmax x_k[output.power]. `message` and `update` hold one
 * graph (shared by every round) or one per round; their initializers are the weights
 * `message.<r>/<name>` and `update.<r>/<name>`.
 */
export interface MpnnArchitecture {
  kind: 'mpnn';
  task: 'power';
  /** Rounds = layers. */
  layers: number;
  /** The initial state x_k: node features by name (amplitudes scaled by `features`) or constants. */
  state: (number | (typeof MPNN_NODE_FEATURES)[number])[];
  edge: (typeof MPNN_EDGE_FEATURES)[number][];
  aggregation: Aggregation;
  output: { power: number };
  message: OnnxGraph[];
  update: OnnxGraph[];
  /** Where it came from: the model file's name and the ONNX files' sha256 (provenance; hashed with the rest). */
  source?: Record<string, string>;
  /** The scaling of the amplitudes in `state` and `edge` as the model was trained on them (default: linear, shift 0, scale 1). */
  features: FeatureScaling;
}

/**
 * CF-PCGNN for cell-free massive MIMO (eqs. 22-23 of gnn-wireless-theory-to-practice-dmp.md; cfPcgnnDmp.ts):
 * one AP -> user layer with mean aggregation, then T - 1 user -> user layers, p_k = sigmoid(MLP(d_k)).
 * Its input is v_mk of eq. (5) (the paper's section VI-B), as the amplitude sqrt(v_mk) of the user's view, scaled as `features.cross` (db: 10 log10 v_mk).
 */
export interface CfPcgnnArchitecture extends CellFreeGnnFields {
  kind: 'cf-pcgnn';
  /**
   * How the user -> user layers combine the users' W_1 d_k': `mean` over all users (the paper's
   * text: "we choose the mean aggregation"; it keeps its scale when K changes) or `sum` (eq. 23 as printed).
   */
  aggregation: 'mean' | 'sum';
}

/** What CF-PCGNN and HetGNN share: T layers = communication rounds (the first AP -> user), users' width H, their output MLP, v_mk's scaling. */
interface CellFreeGnnFields {
  task: 'power';
  layers: number;
  hidden: number;
  /** Hidden widths of the output MLP (H -> head... -> 1, ReLU between, then the sigmoid); may be empty. */
  head: number[];
  aggregation: 'mean' | 'sum';
  features: FeatureScaling;
}

/**
 * HetGNN for cell-free massive MIMO (eq. 13 of gnn-wireless-theory-to-practice-dmp.md;
 * hetgnnDmp.ts): T layers in which users and APs each aggregate the other type (sum or mean), the users'
 * d^(T) through an output MLP to p_k. Its input is v_mk, as a CF-PCGNN's.
 */
export interface HetgnnArchitecture extends CellFreeGnnFields {
  kind: 'hetgnn';
  /**
   * `sum` is eq. 13's PL = SUM; `mean` (the default of training) divides by the degree: summed over
   * 30-50 APs, ReLU states grow by that factor per layer and the sigmoid saturates at p = 1 from
   * the start (the trained model then is maximum power).
   */
  aggregation: 'mean' | 'sum';
}

/** The centralized MLP baseline of Table IV (cellFreeMlp.ts): M x K v_mk -> hidden -> K sigmoids. */
export interface CellFreeMlpArchitecture {
  kind: 'cf-mlp';
  task: 'power';
  M: number;
  K: number;
  hidden: number[];
  features: FeatureScaling;
  layers?: undefined;
}

/** The cell-free architectures (nodes of two types; @dmpemu/gnn trainCellFree). */
export type CellFreeArchitecture = CfPcgnnArchitecture | HetgnnArchitecture | CellFreeMlpArchitecture;

export type CheckpointArchitecture = WcgcnArchitecture | PcgnnArchitecture | MlpArchitecture | RegnnArchitecture | EcgnnArchitecture | UwmmseArchitecture | MpnnArchitecture | CellFreeArchitecture;
export type ArchitectureKind = CheckpointArchitecture['kind'];
export const ARCHITECTURE_KINDS: readonly ArchitectureKind[] = ['wcgcn', 'pcgnn', 'mlp', 'regnn', 'ecgnn', 'uwmmse', 'mpnn', 'cf-pcgnn', 'hetgnn', 'cf-mlp'];
/** The kinds `dmpemu train` trains (an mpnn is imported: `dmpemu import`; the cell-free kinds are trained by @dmpemu/gnn's trainCellFree, not by the command yet). */
export type TrainableArchitecture = Exclude<CheckpointArchitecture, MpnnArchitecture | CellFreeArchitecture>;
export type TrainableKind = TrainableArchitecture['kind'];
/** The architecture type of one kind. */
export type ArchitectureOf<K extends ArchitectureKind> = Extract<CheckpointArchitecture, { kind: K }>;

/** One weight tensor, row-major. Dense kernels are [in, out] (y = x W + b). */
export interface WeightTensor {
  shape: number[];
  data: Float32Array | Float64Array;
}

/** A checkpoint of one architecture type. */
export interface CheckpointOf<A extends CheckpointArchitecture> {
  format: typeof CHECKPOINT_FORMAT;
  architecture: A;
  weights: Record<string, WeightTensor>;
  /** Free-form provenance: scenario, seed, backend, steps, batch, learning rate... */
  training: Record<string, unknown>;
  /** Free-form results: final loss, evaluation, training speed... */
  metrics: Record<string, unknown>;
  /** sha256 (hex) of the architecture and weights: `weightsHash`. */
  hash: string;
}

/**
 * A checkpoint: `Checkpoint` is the union over the architectures (narrowed by assertCheckpoint with
 * a kind), `Checkpoint<WcgcnArchitecture>` one kind.
 */
export type Checkpoint<A extends CheckpointArchitecture = CheckpointArchitecture> = A extends CheckpointArchitecture ? CheckpointOf<A> : never;

/** What the hash covers. */
export interface HashedContent {
  architecture: CheckpointArchitecture;
  weights: Record<string, WeightTensor>;
}

/** JSON key order is not part of the content: objects are serialised with sorted keys. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** The values as little-endian float64 bytes (a typed-array copy where the machine is little-endian). */
function littleEndianFloat64(data: ArrayLike<number>): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(Float64Array.from(data).buffer);
  const bytes = new DataView(new ArrayBuffer(data.length * 8));
  for (let i = 0; i < data.length; i++) bytes.setFloat64(i * 8, data[i], true);
  return new Uint8Array(bytes.buffer);
}

/**
 * sha256 over the format, the canonical JSON of the architecture, and for each weight in name
 * order its name, shape and values as little-endian float64 (a float32 tensor and its exact
 * float64 copy hash alike: the hash names the function the model computes, not the storage).
 */
export function weightsHash(c: HashedContent): string {
  const h = createHash('sha256');
  h.update(`${CHECKPOINT_FORMAT}\n${canonicalJson(c.architecture)}\n`);
  for (const name of Object.keys(c.weights).sort()) {
    const w = c.weights[name];
    h.update(`${name} ${w.shape.join('x')}\n`);
    h.update(littleEndianFloat64(w.data));
  }
  return h.digest('hex');
}

/** Throws unless the checkpoint's hash matches its architecture and weights. */
export function verifyCheckpoint(c: HashedContent & { hash: string }): void {
  const actual = weightsHash(c);
  if (actual !== c.hash) throw new Error(`checkpoint hash mismatch: expected ${c.hash}, got ${actual}`);
}

/** A checkpoint with its hash filled in. */
export function makeCheckpoint<A extends CheckpointArchitecture>(c: Omit<CheckpointOf<A>, 'format' | 'hash'>): Checkpoint<A> {
  const out: CheckpointOf<A> = { format: CHECKPOINT_FORMAT, ...c, hash: '' };
  out.hash = weightsHash(out);
  return out as Checkpoint<A>;
}

/**
 * JSON form: weights as `{ shape, dtype: 'float32' | 'float64', base64 }` with the values'
 * little-endian bytes in base64 (exact, a third larger than binary); everything else as is.
 */
export function serializeCheckpoint(c: Checkpoint): string {
  const weights: Record<string, unknown> = {};
  for (const name of Object.keys(c.weights).sort()) {
    const { shape, data } = c.weights[name];
    const f64 = data instanceof Float64Array;
    const view = new DataView(new ArrayBuffer(data.length * (f64 ? 8 : 4)));
    data.forEach((x, i) => (f64 ? view.setFloat64(i * 8, x, true) : view.setFloat32(i * 4, x, true)));
    weights[name] = { shape, dtype: f64 ? 'float64' : 'float32', base64: Buffer.from(view.buffer).toString('base64') };
  }
  return JSON.stringify({ ...c, weights }, null, 1) + '\n';
}

function fail(source: string, field: string, expected: string): never {
  throw new Error(`${source}: ${field} ${expected}`);
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isRecord = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);

const isWidth = (n: unknown): boolean => Number.isInteger(n) && (n as number) > 0;

function checkFeatures(f: unknown, source: string): void {
  if (!isRecord(f) || !['linear', 'db', 'log1p'].includes(f.transform as string)) fail(source, 'architecture.features.transform', 'must be linear, db or log1p');
  for (const kind of ['direct', 'cross'] as const) {
    const s = f[kind];
    if (!isRecord(s) || !isNum(s.shift) || !isNum(s.scale) || s.scale === 0) fail(source, `architecture.features.${kind}`, 'must be { shift, scale } with finite numbers, scale != 0');
  }
  const p = f.power;
  if (p !== undefined && (!isRecord(p) || !isNum(p.shift) || !isNum(p.scale) || p.scale === 0)) fail(source, 'architecture.features.power', 'must be { shift, scale } with finite numbers, scale != 0');
}

function checkAggregation(a: Record<string, unknown>, source: string): void {
  if (!['max', 'sum', 'mean'].includes(a.aggregation as string)) fail(source, 'architecture.aggregation', `must be max, sum or mean, got ${JSON.stringify(a.aggregation)}`);
}

/** A layer is a communication round: at most the rounds a job may have (README, Limits). */
export const MAX_LAYERS = 10_000;

function checkLayers(a: Record<string, unknown>, source: string): void {
  if (!Number.isInteger(a.layers) || (a.layers as number) < 1 || (a.layers as number) > MAX_LAYERS) fail(source, 'architecture.layers', `must be an integer from 1 to ${MAX_LAYERS} (one round each), got ${JSON.stringify(a.layers)}`);
}

function checkRegnn(a: Record<string, unknown>, source: string): void {
  checkLayers(a, source);
  for (const f of ['taps', 'widths'] as const) {
    const l = a[f];
    if (!Array.isArray(l) || l.length !== a.layers || !l.every(isWidth)) fail(source, `architecture.${f}`, `must list ${a.layers} positive integers (one per layer)`);
  }
  if ((a.widths as number[])[(a.layers as number) - 1] !== 1) fail(source, 'architecture.widths', 'must end in 1 (the policy logit)');
  if (!isNum(a.p0) || a.p0 <= 0) fail(source, 'architecture.p0', `must be a positive number, got ${JSON.stringify(a.p0)}`);
  if (!['outgoing', 'incoming'].includes(a.shift as string)) fail(source, 'architecture.shift', `must be outgoing or incoming, got ${JSON.stringify(a.shift)}`);
  if (!['threshold', 'expected'].includes(a.decision as string)) fail(source, 'architecture.decision', `must be threshold or expected, got ${JSON.stringify(a.decision)}`);
}

/**
 * Throws unless `a` has the structure of an architecture (of `kind`, errors then naming it; else
 * any of ARCHITECTURE_KINDS): for checkpoints, and for the architecture a training scenario describes.
 */
export function assertArchitecture(a: unknown, source: string, kind?: ArchitectureKind): asserts a is CheckpointArchitecture {
  checkArchitecture(a, source, kind);
}

function checkArchitecture(a: unknown, source: string, kind?: ArchitectureKind): void {
  if (!isRecord(a)) fail(source, 'architecture', 'must be an object');
  if (kind !== undefined ? a.kind !== kind : !(ARCHITECTURE_KINDS as readonly unknown[]).includes(a.kind)) {
    const expected = kind !== undefined ? JSON.stringify(kind) : `one of ${ARCHITECTURE_KINDS.map((k) => JSON.stringify(k)).join(', ')}`;
    fail(source, 'architecture.kind', `must be ${expected}, got ${JSON.stringify(a.kind)}`);
  }
  const tasks = a.kind === 'wcgcn' ? ['power', 'beamforming'] : ['power'];
  if (!tasks.includes(a.task as string)) fail(source, 'architecture.task', `must be ${tasks.map((t) => JSON.stringify(t)).join(' or ')}, got ${JSON.stringify(a.task)}`);
  switch (a.kind as ArchitectureKind) {
    case 'wcgcn':
      checkLayers(a, source);
      if (a.task === 'beamforming' ? !(Number.isInteger(a.Nt) && (a.Nt as number) >= 1) : a.Nt !== undefined) {
        fail(source, 'architecture.Nt', a.task === 'beamforming' ? `must be a positive integer for beamforming, got ${JSON.stringify(a.Nt)}` : 'must be absent for power control');
      }
      for (const m of ['mlp1', 'mlp2'] as const) {
        const l = a[m];
        if (!Array.isArray(l) || l.length < 2 || !l.every(isWidth)) fail(source, `architecture.${m}`, 'must list at least 2 positive layer widths');
      }
      checkAggregation(a, source);
      if (!['relu', 'linear'].includes(a.mlp1Output as string)) fail(source, 'architecture.mlp1Output', `must be relu or linear, got ${JSON.stringify(a.mlp1Output)}`);
      if (a.edges !== undefined && (a.task !== 'beamforming' || !(BEAM_EDGES as readonly unknown[]).includes(a.edges))) {
        fail(source, 'architecture.edges', a.task === 'beamforming' ? `must be ${BEAM_EDGES.join(', ')}, got ${JSON.stringify(a.edges)}` : 'must be absent for power control (its e_jk is [g_jk, g_kj])');
      }
      break;
    case 'pcgnn':
      checkLayers(a, source);
      for (const f of ['hidden', 'edgeEmbedding'] as const) if (!isWidth(a[f])) fail(source, `architecture.${f}`, `must be a positive integer, got ${JSON.stringify(a[f])}`);
      if (!Array.isArray(a.head) || !a.head.every(isWidth)) fail(source, 'architecture.head', 'must list positive hidden layer widths (may be empty)');
      checkAggregation(a, source);
      if (a.powerFeature !== undefined && typeof a.powerFeature !== 'boolean') fail(source, 'architecture.powerFeature', `must be true or false, got ${JSON.stringify(a.powerFeature)}`);
      if (a.powerFeature && !(isRecord(a.features) && isRecord(a.features.power))) fail(source, 'architecture.features.power', 'must be given when powerFeature is true (the scaling of the transmit-power feature)');
      break;
    case 'mlp':
      if (!isWidth(a.K)) fail(source, 'architecture.K', `must be a positive integer, got ${JSON.stringify(a.K)}`);
      if (!Array.isArray(a.hidden) || !a.hidden.every(isWidth)) fail(source, 'architecture.hidden', 'must list positive hidden layer widths (may be empty)');
      if (a.layers !== undefined) fail(source, 'architecture.layers', 'must be absent for an mlp (it runs no communication rounds)');
      break;
    case 'regnn':
      checkRegnn(a, source);
      break;
    case 'uwmmse': {
      checkLayers(a, source);
      if (!isWidth(a.gcnHidden)) fail(source, 'architecture.gcnHidden', `must be a positive integer, got ${JSON.stringify(a.gcnHidden)}`);
      const f = a.features as FeatureScaling | undefined;
      if (f && !(['log1p', 'linear'].includes(f.transform) && f.direct?.shift === 0 && f.cross?.shift === 0))
        fail(source, 'architecture.features', `must be log1p or linear with shift 0 (a graph shift S_kj >= 0 with S_kj = 0 for no edge), got ${f.transform}${f.direct?.shift || f.cross?.shift ? ' with a shift' : ''}`);
      break;
    }
    case 'ecgnn':
      checkLayers(a, source);
      if (!Array.isArray(a.hidden) || a.hidden.length !== a.layers || !a.hidden.every(isWidth)) fail(source, 'architecture.hidden', `must list ${a.layers} positive widths (one per layer)`);
      if (!Array.isArray(a.head) || !a.head.every(isWidth)) fail(source, 'architecture.head', 'must list positive hidden layer widths (may be empty)');
      break;
    case 'mpnn':
      checkMpnn(a, source);
      break;
    case 'cf-pcgnn':
    case 'hetgnn':
      checkLayers(a, source);
      if (!isWidth(a.hidden)) fail(source, 'architecture.hidden', `must be a positive integer, got ${JSON.stringify(a.hidden)}`);
      if (!Array.isArray(a.head) || !a.head.every(isWidth)) fail(source, 'architecture.head', 'must list positive hidden layer widths (may be empty)');
      if (!['mean', 'sum'].includes(a.aggregation as string)) fail(source, 'architecture.aggregation', `must be mean or sum, got ${JSON.stringify(a.aggregation)}`);
      break;
    case 'cf-mlp':
      for (const f of ['M', 'K'] as const) if (!isWidth(a[f])) fail(source, `architecture.${f}`, `must be a positive integer, got ${JSON.stringify(a[f])}`);
      if (!Array.isArray(a.hidden) || !a.hidden.every(isWidth)) fail(source, 'architecture.hidden', 'must list positive hidden layer widths (may be empty)');
      break;
  }
  checkFeatures(a.features, source);
  // a key the model does not read (`activation: tanh`) would be hashed and shipped, and ignored
  const known = ARCHITECTURE_KEYS[a.kind as ArchitectureKind];
  const unknown = Object.keys(a).filter((k) => !['kind', 'task', 'features', ...known].includes(k));
  if (unknown.length) fail(source, `architecture.${unknown[0]}`, `is not a key of a ${a.kind as string} architecture (its keys: kind, task, features, ${known.join(', ')}): it would be ignored`);
}

/** What each kind's architecture holds besides kind, task and features (the interfaces above). */
const ARCHITECTURE_KEYS: Record<ArchitectureKind, readonly string[]> = {
  wcgcn: ['layers', 'Nt', 'edges', 'mlp1', 'mlp2', 'aggregation', 'mlp1Output'],
  pcgnn: ['layers', 'hidden', 'edgeEmbedding', 'head', 'aggregation', 'powerFeature'],
  mlp: ['K', 'hidden', 'layers'],
  regnn: ['layers', 'taps', 'widths', 'p0', 'shift', 'decision'],
  ecgnn: ['layers', 'hidden', 'head'],
  uwmmse: ['layers', 'gcnHidden'],
  mpnn: ['layers', 'state', 'edge', 'aggregation', 'output', 'message', 'update', 'source'],
  'cf-pcgnn': ['layers', 'hidden', 'head', 'aggregation'],
  hetgnn: ['layers', 'hidden', 'head', 'aggregation'],
  'cf-mlp': ['M', 'K', 'hidden', 'layers'],
};

function checkMpnn(a: Record<string, unknown>, source: string): void {
  checkLayers(a, source);
  checkAggregation(a, source);
  const state = a.state;
  if (!Array.isArray(state) || state.length === 0 || !state.every((f) => isNum(f) || (MPNN_NODE_FEATURES as readonly unknown[]).includes(f)))
    fail(source, 'architecture.state', `must list node features (${MPNN_NODE_FEATURES.join(', ')}) or numbers, got ${JSON.stringify(state)}`);
  if (!Array.isArray(a.edge) || !a.edge.every((f) => (MPNN_EDGE_FEATURES as readonly unknown[]).includes(f))) fail(source, 'architecture.edge', `must list edge features (${MPNN_EDGE_FEATURES.join(', ')}), got ${JSON.stringify(a.edge)}`);
  const out = a.output;
  if (!isRecord(out) || !Number.isInteger(out.power) || (out.power as number) < 0 || (out.power as number) >= (state as unknown[]).length)
    fail(source, 'architecture.output', `must be { power: i } with i an index of the state (0..${(state as unknown[]).length - 1}), got ${JSON.stringify(out)}`);
  for (const g of ['message', 'update'] as const) {
    const l = a[g];
    if (!Array.isArray(l) || (l.length !== 1 && l.length !== a.layers) || !l.every((x) => isRecord(x) && Array.isArray(x.inputs) && Array.isArray(x.outputs) && Array.isArray(x.nodes)))
      fail(source, `architecture.${g}`, `must hold one graph (shared by the rounds) or ${a.layers} (one per round)`);
  }
}

/**
 * Throws unless `c` has the structure of a checkpoint (format, architecture, weights as typed
 * arrays matching their shapes, hash): for checkpoints that arrive over the wire or from JSON.
 * With `kind`, the architecture must be of that kind. The hash itself is checked by verifyCheckpoint.
 */
export function assertCheckpoint<K extends ArchitectureKind = ArchitectureKind>(c: unknown, source = 'checkpoint', kind?: K): asserts c is Checkpoint<ArchitectureOf<K>> {
  if (!isRecord(c)) fail(source, 'top level', 'must be an object');
  if (c.format !== CHECKPOINT_FORMAT) fail(source, 'format', `must be ${JSON.stringify(CHECKPOINT_FORMAT)}, got ${JSON.stringify(c.format)}`);
  checkArchitecture(c.architecture, source, kind);
  if (!isRecord(c.weights)) fail(source, 'weights', 'must be an object');
  for (const [name, w] of Object.entries(c.weights)) {
    const field = `weights.${name}`;
    if (!isRecord(w) || !Array.isArray(w.shape) || !w.shape.every((n) => Number.isInteger(n) && n >= 0)) fail(source, `${field}.shape`, 'must be a list of non-negative integers');
    if (!(w.data instanceof Float32Array || w.data instanceof Float64Array)) fail(source, `${field}.data`, 'must be a Float32Array or Float64Array');
    const n = (w.shape as number[]).reduce((a, b) => a * b, 1);
    if (w.data.length !== n) fail(source, field, `has ${w.data.length} values, shape ${JSON.stringify(w.shape)} needs ${n}`);
    const bad = w.data.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) fail(source, field, `must hold finite numbers, got ${w.data[bad]} at index ${bad}`);
  }
  if (!isRecord(c.training) || !isRecord(c.metrics)) fail(source, 'training and metrics', 'must be objects');
  if (typeof c.hash !== 'string') fail(source, 'hash', 'must be a string');
}

/** Parse the JSON form (serializeCheckpoint), check its structure and verify its hash. `source` names it in errors. */
export function parseCheckpoint(text: string, source = 'checkpoint'): Checkpoint {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not JSON (${(e as Error).message})`);
  }
  if (!isRecord(raw)) fail(source, 'top level', 'must be an object');
  if (!isRecord(raw.weights)) fail(source, 'weights', 'must be an object');
  const weights: Record<string, unknown> = {};
  for (const [name, w] of Object.entries(raw.weights)) {
    const field = `weights.${name}`;
    if (!isRecord(w)) fail(source, field, 'must be an object');
    if (w.dtype !== 'float32' && w.dtype !== 'float64') fail(source, `${field}.dtype`, 'must be float32 or float64');
    if (typeof w.base64 !== 'string') fail(source, `${field}.base64`, 'must be a base64 string');
    const bytes = Buffer.from(w.base64, 'base64');
    const size = w.dtype === 'float64' ? 8 : 4;
    if (bytes.length % size !== 0) fail(source, `${field}.base64`, `must hold whole ${w.dtype} values, got ${bytes.length} bytes`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const n = bytes.length / size;
    const data = size === 8 ? new Float64Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = size === 8 ? view.getFloat64(i * 8, true) : view.getFloat32(i * 4, true);
    weights[name] = { shape: w.shape, data };
  }
  const c = { ...raw, weights };
  assertCheckpoint(c, source);
  verifyCheckpoint(c);
  return c;
}

export function saveCheckpoint(path: string, c: Checkpoint): void {
  writeFileSync(path, serializeCheckpoint(c));
}

/** Read and verify a checkpoint file. */
export function loadCheckpoint(path: string): Checkpoint {
  return parseCheckpoint(readFileSync(path, 'utf8'), path);
}
