import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { DMP_ALGORITHMS, MISSING_POLICIES } from '@dmpemu/dmp';
import { CENTRALIZED_ALGORITHMS, MODEL_NAMES } from '@dmpemu/wireless';
import { UsageError } from './usageError.ts';

const posInt = z.number().int().positive();
const posNum = z.number().positive();

const networkSchema = z.strictObject({
  /** Label in reports; default `<model>-k<K>`. */
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, ".", "-" or "_"').optional(),
  model: z.enum(MODEL_NAMES),
  K: posInt,
  /** Instances drawn for this network. */
  instances: posInt.default(1),
  snrDb: z.number().optional(),
  weighted: z.boolean().optional(),
  field: posNum.optional(),
  dmin: posNum.optional(),
  dmax: posNum.optional(),
  csiRange: posNum.optional(),
  Nt: posInt.optional(),
  noise: posNum.optional(),
}).refine((n) => n.dmin === undefined || n.dmax === undefined || n.dmin <= n.dmax, { message: 'dmin must not exceed dmax', path: ['dmin'] });

const ALGORITHM_NAMES = [...DMP_ALGORITHMS, ...CENTRALIZED_ALGORITHMS] as const;
/** `- wmmse` is short for `- { name: wmmse }`. */
const algorithmSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { name: v } : v),
  z.strictObject({ name: z.enum(ALGORITHM_NAMES), iterations: posInt.optional() }),
);

const runtimeSchema = z.strictObject({
  /** `nats`: one agent per node over NATS; `inprocess`: the in-process executor. */
  kind: z.enum(['nats', 'inprocess']).default('nats'),
  /** Agents per OS process (1: one process per node). */
  agentsPerProcess: posInt.default(10),
  /** NATS URL; default: NATS_URL, else an embedded nats-server, else the in-process bus. */
  nats: z.string().url().optional(),
  roundDeadlineMs: posNum.default(5000),
  missingPolicy: z.enum(MISSING_POLICIES as [string, ...string[]]).default('skip'),
  registerTimeoutS: posNum.default(60),
});

export const scenarioSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, ".", "-" or "_"'),
  description: z.string().optional(),
  seed: z.number().int().nonnegative().default(0),
  networks: z.array(networkSchema).min(1),
  algorithms: z.array(algorithmSchema).min(1),
  runtime: runtimeSchema.default({ kind: 'nats', agentsPerProcess: 10, roundDeadlineMs: 5000, missingPolicy: 'skip', registerTimeoutS: 60 }),
  outputs: z.strictObject({ dir: z.string().default('runs') }).default({ dir: 'runs' }),
});

export type Scenario = z.infer<typeof scenarioSchema>;
export type NetworkSpec = Scenario['networks'][number];
export type AlgorithmEntry = Scenario['algorithms'][number];

export function isDmp(a: AlgorithmEntry): boolean {
  return (DMP_ALGORITHMS as readonly string[]).includes(a.name);
}

export function networkName(n: NetworkSpec): string {
  return n.name ?? `${n.model}-k${n.K}`;
}

/** Validate scenario data; errors name the offending key, e.g. `networks[0].K: ...`. */
export function parseScenario(data: unknown, source: string): Scenario {
  const r = scenarioSchema.safeParse(data);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const key = i.path.map((p, n) => (typeof p === 'number' ? `[${p}]` : n === 0 ? String(p) : `.${String(p)}`)).join('') || '(top level)';
    return `${key}: ${i.message}`;
  });
  throw new UsageError(`${source}: invalid scenario: ${lines.join('; ')}`);
}

export function loadScenario(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read scenario ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (e) {
    throw new UsageError(`${path}: not valid YAML (${e instanceof YAMLParseError ? e.message.split('\n')[0] : (e as Error).message})`);
  }
  return parseScenario(data, path);
}
