import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { BEAM_EDGES, validateArchitectureOptions } from '@dmpemu/dmp';
import { readBoundedText } from './boundedRead.ts';
import { batchSchema, FILE_LIMITS, instancesSchema, kSchema, MAX_INSTANCES, nameSchema, stepsSchema } from './limits.ts';
import { memoryProblem, ntOf, trainNetworkSchema } from './networkSchema.ts';
import { UsageError } from './usageError.ts';
import { formatIssues } from './zodIssues.ts';

const posInt = z.number().int().positive();

/** The model kinds `dmpemu train` trains (architecture.kind). */
export const TRAINABLE_KINDS = ['wcgcn', 'pcgnn', 'ecgnn', 'uwmmse', 'regnn', 'mlp'] as const;

/**
 * A training scenario (`dmpemu train`): the network to train on, the WCGCN architecture, the
 * optimisation and the validation against centralized WMMSE-100 on fresh instances.
 */
export const trainScenarioSchema = z.strictObject({
  /** Checkpoint name: written to <output.dir>/<name>.json (default runs/train/<name>/<name>.json). */
  name: nameSchema,
  description: z.string().optional(),
  network: trainNetworkSchema,
  /**
   * `kind` wcgcn (eq. 8 of the MPGNN paper), pcgnn (eqs. 20-21 of the DMP paper), ecgnn (eq. 12
   * there), uwmmse (unrolled WMMSE), regnn, or the centralized mlp baseline; the other keys override that kind's defaults
   * (packages/gnn/README.md).
   */
  architecture: z
    .strictObject({
      kind: z.enum(TRAINABLE_KINDS).default('wcgcn'),
      /** Default db; log1p for a miso network (beamforming keeps a channel vector's direction). */
      features: z.enum(['db', 'linear', 'log1p']).optional(),
      layers: posInt.optional(),
      aggregation: z.enum(['max', 'sum', 'mean']).optional(),
      mlp1: z.array(posInt).min(2).optional(),
      mlp2: z.array(posInt).min(2).optional(),
      mlp1Output: z.enum(['relu', 'linear']).optional(),
      /** wcgcn beamforming: e_jk = h_jk (in, the paper's text), h_kj (out, the seed authors' code) or [h_jk, h_kj] (both). */
      edges: z.enum(BEAM_EDGES).optional(),
      hidden: z.union([posInt, z.array(posInt).min(1)]).optional(),
      edgeEmbedding: posInt.optional(),
      head: z.array(posInt).optional(),
      /** regnn (eq. 14 of the REGNN paper): filter taps K_l and output features F_l per layer, on-power p0, shift orientation, decision rule. */
      taps: z.array(posInt).min(1).optional(),
      widths: z.array(posInt).min(1).optional(),
      p0: z.number().positive().optional(),
      shift: z.enum(['outgoing', 'incoming']).optional(),
      decision: z.enum(['threshold', 'expected']).optional(),
      /** pcgnn: the transmit power as a node feature (Table II of the DMP paper). */
      powerFeature: z.boolean().optional(),
      /** uwmmse: hidden width of the GCNs that give a and b. */
      gcnHidden: posInt.optional(),
    })
    .default({ kind: 'wcgcn' }),
  training: z.strictObject({
    /** Size of the fixed training set (the papers use 10^4); 0: fresh instances for every batch. */
    samples: z.number().int().nonnegative().max(MAX_INSTANCES).default(10000),
    steps: stepsSchema,
    batch: batchSchema.default(64),
    lr: z.number().positive().default(1e-3),
    seed: z.number().int().nonnegative().default(1),
    /** regnn only: Algorithm 1 of the REGNN paper (average budget Pmax, default K; actions sampled per instance; dual step and decay; Adam rate of r). */
    primalDual: z
      .strictObject({
        Pmax: z.number().positive().optional(),
        actionSamples: posInt.default(4),
        dualStep: z.number().positive().default(1e-4),
        dualDecay: z.number().positive().max(1).default(0.99995),
        rLr: z.number().positive().default(1e-2),
      })
      .optional(),
  }),
  validation: z
    .strictObject({ instances: instancesSchema.default(100), every: posInt.default(200), seed: z.number().int().nonnegative().default(9001) })
    .default({ instances: 100, every: 200, seed: 9001 }),
  /** Where the checkpoint goes: default runs/train/<name>/ (never the shipped scenarios/models/ without an explicit --out). */
  output: z.strictObject({ dir: z.string().optional() }).default({}),
}).superRefine((sc, ctx) => {
  // the training set and the validation instances are held in memory together (counts within their own limits)
  const counts = kSchema.safeParse(sc.network.K).success && sc.training.samples <= MAX_INSTANCES && instancesSchema.safeParse(sc.validation.instances).success;
  const memory = counts ? memoryProblem(sc.network, sc.training.samples + sc.validation.instances) : undefined;
  if (memory) ctx.addIssue({ code: 'custom', path: memory.key === 'K' ? ['network', 'K'] : ['training', 'samples'], message: memory.key === 'K' ? memory.why : `with validation.instances: ${memory.why}` });
});
export type TrainScenario = z.infer<typeof trainScenarioSchema>;

export function loadTrainScenario(path: string): TrainScenario {
  const text = readBoundedText(path, FILE_LIMITS.trainingScenario, 'cannot read training scenario');
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (e) {
    throw new UsageError(`cannot read training scenario ${path} (${(e as Error).message.split('\n')[0]})`);
  }
  return parseTrainScenario(data, path);
}

/** Validate training scenario data, including the architecture it describes (checked as a checkpoint's is), before training starts. */
export function parseTrainScenario(data: unknown, source: string): TrainScenario {
  const r = trainScenarioSchema.safeParse(data);
  if (!r.success) throw new UsageError(`${source}: invalid training scenario: ${formatIssues(r.error)}`);
  const { kind, features: _f, ...options } = r.data.architecture;
  const n = r.data.network;
  try {
    validateArchitectureOptions(kind, options, { K: n.K, Nt: ntOf(n), miso: n.model === 'miso' }, `${source}: invalid training scenario`);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return r.data;
}
