import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { MODEL_NAMES } from '@dmpemu/wireless';
import { UsageError } from './usageError.ts';
import { formatIssues } from './zodIssues.ts';

const posInt = z.number().int().positive();

/**
 * A training scenario (`dmpemu train`): the network to train on, the WCGCN architecture, the
 * optimisation and the validation against centralized WMMSE-100 on fresh instances.
 */
export const trainScenarioSchema = z.strictObject({
  /** Checkpoint name: written to <output.dir>/<name>.json. */
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, ".", "-" or "_"'),
  description: z.string().optional(),
  network: z.strictObject({
    model: z.enum(MODEL_NAMES),
    K: posInt,
    snrDb: z.number().optional(),
    weighted: z.boolean().optional(),
    field: z.number().positive().optional(),
    dmin: z.number().positive().optional(),
    dmax: z.number().positive().optional(),
    csiRange: z.number().positive().optional(),
    noise: z.number().positive().optional(),
    /** miso: transmit antennas (then the WCGCN does beamforming). */
    Nt: posInt.optional(),
  }),
  /**
   * `kind` wcgcn (eq. 8 of the MPGNN paper), pcgnn (eqs. 20-21 of the DMP paper) or the
   * centralized mlp baseline; the other keys override that kind's defaults (packages/gnn/README.md).
   */
  architecture: z
    .strictObject({
      kind: z.enum(['wcgcn', 'pcgnn', 'mlp', 'regnn']).default('wcgcn'),
      /** Default db; log1p for a miso network (beamforming keeps a channel vector's direction). */
      features: z.enum(['db', 'linear', 'log1p']).optional(),
      layers: posInt.optional(),
      aggregation: z.enum(['max', 'sum', 'mean']).optional(),
      mlp1: z.array(posInt).min(2).optional(),
      mlp2: z.array(posInt).min(2).optional(),
      mlp1Output: z.enum(['relu', 'linear']).optional(),
      hidden: z.union([posInt, z.array(posInt).min(1)]).optional(),
      edgeEmbedding: posInt.optional(),
      head: z.array(posInt).optional(),
      /** regnn (eq. 14 of the REGNN paper): filter taps K_l and output features F_l per layer, on-power p0, shift orientation, decision rule. */
      taps: z.array(posInt).min(1).optional(),
      widths: z.array(posInt).min(1).optional(),
      p0: z.number().positive().optional(),
      shift: z.enum(['outgoing', 'incoming']).optional(),
      decision: z.enum(['threshold', 'expected']).optional(),
    })
    .default({ kind: 'wcgcn' }),
  training: z.strictObject({
    /** Size of the fixed training set (the papers use 10^4); 0: fresh instances for every batch. */
    samples: z.number().int().nonnegative().default(10000),
    steps: posInt,
    batch: posInt.default(64),
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
    .strictObject({ instances: posInt.default(100), every: posInt.default(200), seed: z.number().int().nonnegative().default(9001) })
    .default({ instances: 100, every: 200, seed: 9001 }),
  output: z.strictObject({ dir: z.string().default('scenarios/models') }).default({ dir: 'scenarios/models' }),
});
export type TrainScenario = z.infer<typeof trainScenarioSchema>;

export function loadTrainScenario(path: string): TrainScenario {
  let data: unknown;
  try {
    data = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`cannot read training scenario ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message.split('\n')[0]})`);
  }
  const r = trainScenarioSchema.safeParse(data);
  if (r.success) return r.data;
  throw new UsageError(`${path}: invalid training scenario: ${formatIssues(r.error)}`);
}
