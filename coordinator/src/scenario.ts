import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { DMP_ALGORITHMS, LEARNED_DMP_ALGORITHMS, MISSING_POLICIES, type AlgorithmSpec, type Checkpoint } from '@dmpemu/dmp';
import { readCheckpoint } from './checkpoints.ts';
import { LEARNED_CENTRALIZED } from './evaluation.ts';
import { CENTRALIZED_ALGORITHMS, MODEL_NAMES } from '@dmpemu/wireless';
import { UsageError } from './usageError.ts';
import { formatIssues } from './zodIssues.ts';

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

const ALGORITHM_NAMES = [...DMP_ALGORITHMS, ...CENTRALIZED_ALGORITHMS, ...LEARNED_CENTRALIZED] as const;
const NEEDS_CHECKPOINT: readonly string[] = [...LEARNED_DMP_ALGORITHMS, ...LEARNED_CENTRALIZED];
/**
 * `- wmmse` is short for `- { name: wmmse }`. Learned algorithms name a checkpoint (a name in
 * scenarios/models/ or a path) and may run more or fewer rounds than they were trained with.
 */
const algorithmSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { name: v } : v),
  z
    .strictObject({
      name: z.enum(ALGORITHM_NAMES),
      iterations: posInt.optional(),
      checkpoint: z.string().optional(),
      rounds: posInt.optional(),
      /** Run only on these networks (by name); default all. */
      networks: z.array(z.string()).min(1).optional(),
    })
    .refine((a) => !NEEDS_CHECKPOINT.includes(a.name) || a.checkpoint !== undefined, { message: 'a learned algorithm needs a checkpoint (name or path)', path: ['checkpoint'] }),
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

const index = z.number().int().nonnegative();

/** The fault plan (architecture.md, faults): seeded, applied by the runtime, recorded in the run. */
export const faultsSchema = z.strictObject({
  missingCsi: z
    .strictObject({
      select: z.enum(['uniform', 'weakest', 'distance']).default('uniform'),
      fraction: z.number().min(0).max(1).default(0),
      distance: posNum.optional(),
      agents: z.array(index).optional(),
    })
    .refine((m) => m.select !== 'distance' || m.distance !== undefined, { message: 'select "distance" needs distance (metres)', path: ['distance'] })
    .optional(),
  csiNoise: z.strictObject({ kind: z.enum(['multiplicative', 'log-normal']), std: z.number().nonnegative() }).optional(),
  messageLoss: z.strictObject({ probability: z.number().min(0).max(1) }).optional(),
  messageDelay: z.strictObject({ maxMs: z.number().nonnegative() }).optional(),
  stragglers: z.strictObject({ agents: z.array(index).min(1), delayMs: z.number().nonnegative() }).optional(),
  crash: z.array(z.strictObject({ agent: index, round: index, restart: z.boolean().default(false) })).optional(),
  brokerRestart: z.array(z.strictObject({ round: index, downMs: z.number().nonnegative().default(500) })).optional(),
});
export type Faults = z.infer<typeof faultsSchema>;

/** Run the scenario once per value of one numeric key, e.g. `faults.missingCsi.fraction`. */
const sweepSchema = z.strictObject({
  key: z.string().regex(/^[A-Za-z]+(\.[A-Za-z]+)+$/, 'expected a dotted key such as faults.missingCsi.fraction'),
  values: z.array(z.number()).min(1),
});

export const scenarioSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, ".", "-" or "_"'),
  description: z.string().optional(),
  seed: z.number().int().nonnegative().default(0),
  networks: z.array(networkSchema).min(1),
  algorithms: z.array(algorithmSchema).min(1),
  runtime: runtimeSchema.default({ kind: 'nats', agentsPerProcess: 10, roundDeadlineMs: 5000, missingPolicy: 'skip', registerTimeoutS: 60 }),
  faults: faultsSchema.default({}),
  sweep: sweepSchema.optional(),
  outputs: z.strictObject({ dir: z.string().default('runs') }).default({ dir: 'runs' }),
}).superRefine((sc, ctx) => {
  const { faults, runtime, networks } = sc;
  const minK = Math.min(...networks.map((n) => n.K));
  const needNats = (key: string): void => {
    if (runtime.kind !== 'nats') ctx.addIssue({ code: 'custom', path: ['faults', key], message: `${key} needs runtime.kind nats` });
  };
  if (faults.crash?.length) needNats('crash');
  if (faults.brokerRestart?.length) {
    needNats('brokerRestart');
    if (runtime.nats) ctx.addIssue({ code: 'custom', path: ['faults', 'brokerRestart'], message: 'brokerRestart needs the embedded nats-server: remove runtime.nats' });
  }
  if (faults.messageDelay || faults.stragglers) needNats(faults.messageDelay ? 'messageDelay' : 'stragglers');
  const names = new Set(networks.map(networkName));
  sc.algorithms.forEach((a, i) =>
    a.networks?.forEach((n, j) => {
      if (!names.has(n)) ctx.addIssue({ code: 'custom', path: ['algorithms', i, 'networks', j], message: `no network named ${JSON.stringify(n)} (networks: ${[...names].join(', ')})` });
    }),
  );
  faults.crash?.forEach((c, i) => {
    if (c.agent >= minK) ctx.addIssue({ code: 'custom', path: ['faults', 'crash', i, 'agent'], message: `agent ${c.agent} does not exist in a network of K=${minK}` });
  });
  faults.stragglers?.agents.forEach((k, i) => {
    if (k >= minK) ctx.addIssue({ code: 'custom', path: ['faults', 'stragglers', 'agents', i], message: `agent ${k} does not exist in a network of K=${minK}` });
  });
  faults.missingCsi?.agents?.forEach((k, i) => {
    if (k >= minK) ctx.addIssue({ code: 'custom', path: ['faults', 'missingCsi', 'agents', i], message: `agent ${k} does not exist in a network of K=${minK}` });
  });
});

export type Scenario = z.infer<typeof scenarioSchema>;
export type NetworkSpec = Scenario['networks'][number];
export type AlgorithmEntry = Scenario['algorithms'][number];

export function isDmp(a: AlgorithmEntry): boolean {
  return (DMP_ALGORITHMS as readonly string[]).includes(a.name);
}

/** The name an algorithm has in tables and rounds.jsonl. */
export function algorithmLabel(a: AlgorithmEntry): string {
  if (a.checkpoint) return `${a.checkpoint.replace(/^.*\//, '').replace(/\.json$/, '')}${a.rounds ? `-r${a.rounds}` : ''}`;
  return a.name === 'wmmse-dmp' ? `wmmse-dmp-${a.iterations ?? 100}` : a.name;
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

/** What the agents are told to run for a DMP algorithm entry. */
export function specOf(a: AlgorithmEntry, checkpoints: Map<string, Checkpoint>): AlgorithmSpec {
  return { name: a.name, iterations: a.iterations, rounds: a.rounds, checkpoint: a.checkpoint ? checkpoints.get(a.checkpoint) : undefined };
}

/** Rounds a DMP algorithm entry runs. */
export function roundsOf(a: AlgorithmEntry, checkpoints: Map<string, Checkpoint>): number {
  if (a.name === 'wmmse-dmp') return 2 * (a.iterations ?? 100);
  return a.rounds ?? checkpoints.get(a.checkpoint!)?.architecture.layers ?? 0;
}

export function networkName(n: NetworkSpec): string {
  return n.name ?? `${n.model}-k${n.K}`;
}

/** Validate scenario data; errors name the offending key, e.g. `networks[0].K: ...`. */
export function parseScenario(data: unknown, source: string): Scenario {
  const sc = parseOne(data, source);
  loadCheckpoints(sc); // a missing or tampered checkpoint is rejected before anything starts
  // every value of a sweep must give a valid scenario too: check them all before anything starts
  if (sc.sweep) for (const v of sc.sweep.values) parseOne(withValue(data, sc.sweep.key, v), `${source} (sweep ${sc.sweep.key} = ${v})`);
  return sc;
}

/** `data` with the dotted `key` set to `value` (objects created on the way). */
export function withValue(data: unknown, key: string, value: number): unknown {
  const copy = structuredClone(data) as Record<string, unknown>;
  delete copy.sweep;
  const parts = key.split('.');
  let o = copy;
  for (const p of parts.slice(0, -1)) {
    if (typeof o[p] !== 'object' || o[p] === null) o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  o[parts.at(-1)!] = value;
  return copy;
}

/** The scenarios of a sweep, one per value (the scenario itself when it has no sweep). */
export function sweepScenarios(sc: Scenario): { value?: number; scenario: Scenario }[] {
  if (!sc.sweep) return [{ scenario: sc }];
  const { key, values } = sc.sweep;
  return values.map((value) => ({ value, scenario: parseOne(withValue(sc, key, value), `sweep ${key} = ${value}`) }));
}

function parseOne(data: unknown, source: string): Scenario {
  const r = scenarioSchema.safeParse(data);
  if (r.success) return r.data;
  throw new UsageError(`${source}: invalid scenario: ${formatIssues(r.error)}`);
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
