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
  }),
  architecture: z
    .strictObject({
      layers: posInt.default(3),
      mlp1: z.array(posInt).min(2).default([5, 32, 32]),
      mlp2: z.array(posInt).min(2).default([35, 16, 1]),
      aggregation: z.enum(['max', 'sum', 'mean']).default('max'),
      mlp1Output: z.enum(['relu', 'linear']).default('relu'),
      features: z.enum(['db', 'linear']).default('db'),
    })
    .default({ layers: 3, mlp1: [5, 32, 32], mlp2: [35, 16, 1], aggregation: 'max', mlp1Output: 'relu', features: 'db' }),
  training: z.strictObject({
    /** Size of the fixed training set (the papers use 10^4); 0: fresh instances for every batch. */
    samples: z.number().int().nonnegative().default(10000),
    steps: posInt,
    batch: posInt.default(64),
    lr: z.number().positive().default(1e-3),
    seed: z.number().int().nonnegative().default(1),
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
