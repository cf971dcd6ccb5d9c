import { z } from 'zod';
import { impossibleLayout, MISO_DEFAULT_NT, MODEL_NAMES, type ModelName } from '@dmpemu/wireless';
import { antennaHeightSchema, cellFreeApSchema, cellFreeTauSchema, formatBytes, instancesSchema, kSchema, MAX_INSTANCE_MATRIX_BYTES, MAX_NETWORK_MATRIX_BYTES, nameSchema, noiseSchema, ntSchema, snrDbSchema, txPowerDbmSchema } from './limits.ts';

const posNum = z.number().positive();
/** A value, or a range [min, max] to draw from uniformly. */
const drawn = (s: z.ZodNumber) => z.union([s, z.tuple([s, s]).refine(([a, b]) => a <= b, 'expected [min, max] with min <= max')], { error: 'expected a number or a range [min, max]' });

/**
 * The parameters of the channel models (scenario networks, a training scenario's network and
 * `dmpemu generate`'s flags: one schema for all three, so a file generate writes is one eval reads).
 */
export const modelParameters = {
  snrDb: snrDbSchema.optional(),
  weighted: z.boolean().optional(),
  field: posNum.optional(),
  dmin: posNum.optional(),
  dmax: posNum.optional(),
  csiRange: posNum.optional(),
  Nt: ntSchema.optional(),
  noise: noiseSchema.optional(),
  /** d2d (Tables II-III of the DMP paper): path-loss model, line of sight, antenna heights (m; a range draws per node), transmit power (dBm; a range draws per instance). */
  pathLoss: z.enum(['itu1411', 'lte']).optional(),
  los: z.enum(['los', 'nlos', 'mixed']).optional(),
  txHeight: drawn(antennaHeightSchema).optional(),
  rxHeight: drawn(antennaHeightSchema).optional(),
  txPower: drawn(txPowerDbmSchema).optional(),
  /** cell-free: access points (K is the users) and the pilot length tau (cellFree.ts). */
  M: cellFreeApSchema.optional(),
  tau: cellFreeTauSchema.optional(),
};
export type ModelParameter = keyof typeof modelParameters;

/** The parameters each model takes (channel-models.md); any other is refused, not ignored. */
export const MODEL_PARAMETERS: Record<ScenarioModel, readonly ModelParameter[]> = {
  'rayleigh-ic': ['snrDb', 'weighted'],
  d2d: ['field', 'dmin', 'dmax', 'csiRange', 'weighted', 'pathLoss', 'los', 'txHeight', 'rxHeight', 'txPower'],
  miso: ['field', 'dmin', 'dmax', 'csiRange', 'Nt', 'weighted'],
  'regnn-adhoc': ['noise'],
  'cell-free': ['M', 'tau'],
};

/** The models of a scenario's networks: the pair models, and cell-free massive MIMO (APs and users; run only, not train or generate). */
export const SCENARIO_MODELS = [...MODEL_NAMES, 'cell-free'] as const;
export type ScenarioModel = (typeof SCENARIO_MODELS)[number];

/** Transmit antennas of a network's nodes (1: SISO). */
export function ntOf(n: { model: ScenarioModel; Nt?: number }): number {
  return n.model === 'miso' ? n.Nt ?? MISO_DEFAULT_NT : 1;
}

/** Bytes of one instance's channel matrices: K^2 (1 + 2 Nt) float64s, Nt counted 0 for SISO (gain; MISO adds hRe, hIm); cell-free: u_mk, M K float64s. */
export function channelMatrixBytes(n: { model: ScenarioModel; K: number; Nt?: number; M?: number }): number {
  if (n.model === 'cell-free') return 8 * n.K * (n.M ?? 1);
  const Nt = ntOf(n);
  return 8 * n.K * n.K * (1 + (n.model === 'miso' ? 2 * Nt : 0));
}

/** Why `count` instances of network `n` need too much memory, naming both limits; undefined when they fit. */
export function memoryProblem(n: { model: ScenarioModel; K: number; Nt?: number; M?: number }, count: number): { key: 'K' | 'instances'; why: string } | undefined {
  const each = channelMatrixBytes(n);
  const limits = `${formatBytes(MAX_INSTANCE_MATRIX_BYTES)} per instance and ${formatBytes(MAX_NETWORK_MATRIX_BYTES)} per network`;
  if (each > MAX_INSTANCE_MATRIX_BYTES) {
    const what = n.model === 'miso' ? `K=${n.K}, Nt=${ntOf(n)}: K^2 (1 + 2 Nt) float64s` : `K=${n.K}: K^2 float64s`;
    return { key: 'K', why: `${what} are ${formatBytes(each)} of channel matrices per instance, more than the limit (${limits})` };
  }
  if (count * each > MAX_NETWORK_MATRIX_BYTES)
    return { key: 'instances', why: `${count} instances of ${formatBytes(each)} of channel matrices are ${formatBytes(count * each)}, more than the limit (${limits})` };
  return undefined;
}

type NetworkInput = { model: ScenarioModel; K: number; instances?: number; file?: string } & Partial<Record<ModelParameter, unknown>>;

/**
 * The checks of a network that span its keys: parameters of another model, layouts that cannot
 * exist (wireless impossibleLayout), memory. `name` says how the user wrote a key (a scenario key,
 * or a flag of `dmpemu generate`); issues are at the key's path.
 */
export function networkChecks(name: (key: string) => string = (k) => k) {
  return (n: NetworkInput, ctx: z.RefinementCtx): void => {
    const takes = MODEL_PARAMETERS[n.model];
    if (!takes) return; // the model itself was refused
    let foreign = false;
    for (const key of Object.keys(modelParameters) as ModelParameter[]) {
      if (n[key] === undefined || takes.includes(key)) continue;
      foreign = true;
      ctx.addIssue({ code: 'custom', path: [key], message: `not a parameter of model ${n.model} (it takes ${takes.map(name).join(', ')})` });
    }
    if (foreign) return;
    if (n.model === 'cell-free') {
      if (n.M === undefined) ctx.addIssue({ code: 'custom', path: ['M'], message: 'a cell-free network needs M, its number of access points (K is its users)' });
      if (n.file !== undefined) ctx.addIssue({ code: 'custom', path: ['file'], message: 'cell-free networks are drawn by the run (files hold pair networks)' });
    }
    if (n.pathLoss === 'lte' && n.los !== undefined) ctx.addIssue({ code: 'custom', path: ['los'], message: 'only with pathLoss itu1411 (the lte formula has no line-of-sight choice)' });
    if (n.model === 'd2d' || n.model === 'miso') {
      const bad = impossibleLayout(n as { K: number; field?: number; dmin?: number; dmax?: number });
      if (bad) ctx.addIssue({ code: 'custom', path: [bad.key], message: bad.why });
    }
    // only for counts within their own limits (a K of 10^9 is already refused, and said so once)
    const counts = kSchema.safeParse(n.K).success && instancesSchema.safeParse(n.instances ?? 1).success && (n.Nt === undefined || ntSchema.safeParse(n.Nt).success);
    const memory = counts ? memoryProblem(n as { model: ScenarioModel; K: number; Nt?: number; M?: number }, n.instances ?? 1) : undefined;
    if (memory) ctx.addIssue({ code: 'custom', path: [memory.key], message: memory.why });
  };
}

/** A network of a scenario. */
export const networkSchema = z
  .strictObject({
    /** Label in reports; default `<model>-k<K>`. */
    name: nameSchema.optional(),
    model: z.enum(SCENARIO_MODELS),
    K: kSchema,
    /** Instances drawn for this network (read from `file`: its first ones, default all). */
    instances: instancesSchema.default(1),
    /** The user's own instances (networkFiles.ts): model, K and channels come from this file, its sha256 is kept (or pinned). */
    file: z.string().optional(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 hex digits').optional(),
    ...modelParameters,
  })
  .superRefine(networkChecks());

/** The network a training scenario trains on (its instance counts are training.samples and validation.instances). */
export const trainNetworkSchema = z.strictObject({ model: z.enum(MODEL_NAMES), K: kSchema, ...modelParameters }).superRefine(networkChecks());

/** `dmpemu generate`'s flags for each key. */
export const GENERATE_FLAGS: Record<string, string> = {
  model: '--model', K: '--K', instances: '--count', snrDb: '--snr-db', weighted: '--weighted', field: '--field',
  dmin: '--dmin', dmax: '--dmax', csiRange: '--csi-range', Nt: '--Nt', noise: '--noise',
};
// pathLoss, los, txHeight, rxHeight and txPower have no generate flag (yet): scenario and training-scenario keys only

/** `dmpemu generate`'s model flags (instances = --count), checked as a scenario network is. */
export const generateSchema = z
  .strictObject({ model: z.enum(MODEL_NAMES), K: kSchema, instances: instancesSchema, ...modelParameters })
  .superRefine(networkChecks((k) => GENERATE_FLAGS[k] ?? k));
