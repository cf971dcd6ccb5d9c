import { dirname, resolve as resolvePath } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { DMP_ALGORITHMS, LEARNED_DMP_ALGORITHMS, MISSING_POLICIES, type Checkpoint } from '@dmpemu/dmp';
import { readBoundedText } from './boundedRead.ts';
import { CELL_FREE_ALGORITHMS, CELL_FREE_CENTRALIZED, CELL_FREE_DMP, ITERATIVE, LEARNED_CENTRALIZED } from './algorithmNames.ts';
import { withNetworkFiles } from './networkFiles.ts';
import { CENTRALIZED_ALGORITHMS } from '@dmpemu/wireless';
import { delayMsSchema, FILE_LIMITS, MAX_SWEEP_POINTS, iterationsSchema, nameSchema, natsUrlSchema, periodMsSchema, registerTimeoutSSchema, roundDeadlineMsSchema, roundsSchema } from './limits.ts';
import { networkSchema } from './networkSchema.ts';
import { NORMALISERS, type Normaliser } from './algorithmNames.ts';
import { checkScenario } from './scenarioChecks.ts';
import { algorithmLabel, loadCheckpoints, networkName } from './scenarioEntries.ts';
import { formatKey, isNumericKey, parseKey, SWEEP_KEY, valueAt, withValue as setValue, type KeyPath } from './sweepKey.ts';
import { UsageError } from './usageError.ts';

/** The clocks of the runtime (README, clocks). */
export const CLOCKS = ['barrier', 'local', 'async'] as const;
import { formatIssues } from './zodIssues.ts';

const posInt = z.number().int().positive();
const posNum = z.number().positive();

const ALGORITHM_NAMES = [...DMP_ALGORITHMS, ...CENTRALIZED_ALGORITHMS, ...LEARNED_CENTRALIZED, ...CELL_FREE_DMP, ...CELL_FREE_CENTRALIZED] as const;
const NEEDS_CHECKPOINT: readonly string[] = [...LEARNED_DMP_ALGORITHMS, ...LEARNED_CENTRALIZED, ...CELL_FREE_DMP, 'cf-mlp'];
const LEARNED_DMP: readonly string[] = LEARNED_DMP_ALGORITHMS;
/** The algorithms that take `iterations`. */
export const ITERATING: readonly string[] = ['wmmse-dmp', ...ITERATIVE];

/** Why algorithm `name` takes no `key` (rounds, iterations, checkpoint), or undefined when it takes it. */
export function foreignAlgorithmKey(name: string, key: 'rounds' | 'iterations' | 'checkpoint'): string | undefined {
  if (key === 'rounds' && !LEARNED_DMP.includes(name))
    return name === 'wmmse-dmp' ? 'it runs 2 rounds per iteration: give iterations' : `rounds are for the learned DMP algorithms ${LEARNED_DMP.join(', ')}`;
  if (key === 'iterations' && !ITERATING.includes(name)) return `iterations are for ${ITERATING.join(', ')}`;
  if (key === 'checkpoint' && !NEEDS_CHECKPOINT.includes(name)) return `checkpoints are for the learned algorithms ${NEEDS_CHECKPOINT.join(', ')}`;
  return undefined;
}

/**
 * `- wmmse` is short for `- { name: wmmse }`. Learned algorithms name a checkpoint (a name in
 * scenarios/models/ or a path) and may run more or fewer rounds than they were trained with;
 * a key the algorithm does not take is refused, not ignored.
 */
/** A built-in's `params` are its keys (`params: { iterations: 50 }` is `iterations: 50`); a module's go to its factory. */
const BUILTIN_PARAMS = ['iterations', 'rounds'] as const;

const algorithmSchema = z.preprocess(
  (v) => {
    if (typeof v === 'string') return { name: v };
    // a built-in's params become its own keys (validated as such); a module keeps them for its factory
    if (v && typeof v === 'object' && !('module' in v) && 'params' in v && (v as { params?: unknown }).params && typeof (v as { params: unknown }).params === 'object') {
      const { params, ...rest } = v as { params: Record<string, unknown> };
      const unknown = Object.keys(params).filter((k) => !(BUILTIN_PARAMS as readonly string[]).includes(k));
      return { ...rest, ...params, ...(unknown.length ? { params: Object.fromEntries(unknown.map((k) => [k, params[k]])) } : {}) };
    }
    return v;
  },
  z
    .strictObject({
      name: z.enum(ALGORITHM_NAMES).optional(),
      /** An own algorithm: a module whose default export is (params) => DmpAlgorithm (README, "Write your own algorithm"); path relative to the scenario file. */
      module: z.string().min(1).optional(),
      /** A module's parameters (its factory gets them); a built-in's params are its keys. */
      params: z.record(z.string(), z.unknown()).optional(),
      /** The name in tables, rounds.jsonl and plots (unique in a scenario). */
      label: z.string().regex(/^[A-Za-z0-9_.+-]{1,64}$/, 'expected 1-64 letters, digits, ".", "+", "-" or "_"').optional(),
      iterations: iterationsSchema.optional(),
      checkpoint: z.string().optional(),
      rounds: roundsSchema.optional(),
      /** Run only on these networks (by name); default all. */
      networks: z.array(z.string()).min(1).optional(),
    })
    .superRefine((a, ctx) => {
      if ((a.name === undefined) === (a.module === undefined)) return void ctx.addIssue({ code: 'custom', path: ['name'], message: 'give name (a built-in algorithm) or module (your own), not both or neither' });
      if (a.module !== undefined) {
        for (const key of ['iterations', 'checkpoint', 'rounds'] as const)
          if (a[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `not a key of a module entry (give it to the module in params)` });
        return;
      }
      const name = a.name!;
      if (a.params) ctx.addIssue({ code: 'custom', path: ['params', Object.keys(a.params)[0]], message: `not a parameter of ${name} (built-ins take ${BUILTIN_PARAMS.join(', ')} as their keys allow)` });
      if (NEEDS_CHECKPOINT.includes(name) && a.checkpoint === undefined) ctx.addIssue({ code: 'custom', path: ['checkpoint'], message: 'a learned algorithm needs a checkpoint (name or path)' });
      for (const key of ['rounds', 'iterations', 'checkpoint'] as const) {
        const why = a[key] === undefined ? undefined : foreignAlgorithmKey(name, key);
        if (why) ctx.addIssue({ code: 'custom', path: [key], message: `not a parameter of ${name} (${why})` });
      }
    }),
);

const runtimeSchema = z.strictObject({
  /** `nats`: one agent per node over NATS; `inprocess`: the in-process executor. */
  kind: z.enum(['nats', 'inprocess']).default('nats'),
  /** Agents per OS process (1: one process per node). */
  agentsPerProcess: posInt.default(10),
  /** NATS URL; default: NATS_URL, else an embedded nats-server, else the in-process bus. */
  nats: natsUrlSchema.optional(),
  roundDeadlineMs: roundDeadlineMsSchema.default(5000),
  missingPolicy: z.enum(MISSING_POLICIES as [string, ...string[]]).default('skip'),
  registerTimeoutS: registerTimeoutSSchema.default(60),
  /** Who starts rounds: the coordinator (`barrier`), each agent on its neighbours' broadcasts (`local`), or its own timer (`async`). */
  clock: z.enum(CLOCKS).default('barrier'),
  /** async clock: activation period, its relative jitter, the probability an activation updates. */
  async: z
    .strictObject({ periodMs: periodMsSchema.default(20), jitter: z.number().min(0).max(1).default(0), activation: z.number().gt(0).max(1).default(1) })
    .optional(),
});

const index = z.number().int().nonnegative();

/** The fault plan (architecture.md, faults): seeded, applied by the runtime, recorded in the run. */
export const faultsSchema = z.strictObject({
  missingCsi: z
    .strictObject({
      select: z.enum(['uniform', 'weakest', 'distance']).default('uniform'),
      /** uniform, weakest: the share of each agent's known edges removed (default 0). */
      fraction: z.number().min(0).max(1).optional(),
      /** distance: edges longer than this (metres) are removed. */
      distance: posNum.optional(),
      agents: z.array(index).min(1).optional(),
    })
    // a key the selection does not read was ignored without a word (a sweep over it changed nothing)
    .superRefine((m, ctx) => {
      if (m.select === 'distance' && m.distance === undefined) ctx.addIssue({ code: 'custom', path: ['distance'], message: 'select "distance" needs distance (metres)' });
      if (m.select === 'distance' && m.fraction !== undefined) ctx.addIssue({ code: 'custom', path: ['fraction'], message: 'not a parameter of select "distance" (it removes every edge longer than distance)' });
      if (m.select !== 'distance' && m.distance !== undefined) ctx.addIssue({ code: 'custom', path: ['distance'], message: `not a parameter of select "${m.select}" (it removes round(fraction n_k) edges; select "distance" reads distance)` });
    })
    .optional(),
  csiNoise: z.strictObject({ kind: z.enum(['multiplicative', 'log-normal']), std: z.number().nonnegative().max(100) }).optional(),
  messageLoss: z.strictObject({ probability: z.number().min(0).max(1) }).optional(),
  /** Each delivery held U[0, maxMs) ms (model uniform), or baseMs + msPerKm x its length (model distance, geometric networks). */
  messageDelay: z
    .strictObject({ model: z.enum(['uniform', 'distance']).default('uniform'), maxMs: delayMsSchema.optional(), baseMs: delayMsSchema.optional(), msPerKm: delayMsSchema.optional() })
    .superRefine((d, ctx) => {
      if (d.model === 'uniform' && d.maxMs === undefined) ctx.addIssue({ code: 'custom', path: ['maxMs'], message: 'model uniform needs maxMs (each delivery held U[0, maxMs) ms)' });
      if (d.model === 'distance' && (d.baseMs === undefined || d.msPerKm === undefined)) ctx.addIssue({ code: 'custom', path: [d.baseMs === undefined ? 'baseMs' : 'msPerKm'], message: 'model distance needs baseMs and msPerKm (each delivery held baseMs + msPerKm x its length in km)' });
      for (const key of d.model === 'uniform' ? (['baseMs', 'msPerKm'] as const) : (['maxMs'] as const)) if (d[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `not a parameter of model ${d.model}` });
    })
    .optional(),
  stragglers: z.strictObject({ agents: z.array(index).min(1), delayMs: delayMsSchema }).optional(),
  /** Broadcasts travel as bits-bit codes, bit-packed (@dmpemu/dmp quantization.ts): over the message's own range or a fixed [min, max]. */
  messageQuantization: z
    .strictObject({
      bits: z.number().int().min(1).max(16),
      scheme: z.enum(['uniform', 'log']).default('uniform'),
      range: z.enum(['per-message', 'fixed']).default('per-message'),
      min: z.number().optional(),
      max: z.number().optional(),
    })
    .superRefine((q, ctx) => {
      if (q.range === 'fixed' && !(q.min !== undefined && q.max !== undefined && q.min < q.max)) ctx.addIssue({ code: 'custom', path: ['min'], message: 'range "fixed" needs min < max (the interval the codes span)' });
      else if (q.range === 'fixed' && !Number.isFinite(q.max! - q.min!)) ctx.addIssue({ code: 'custom', path: ['max'], message: 'range "fixed" needs max - min finite (the codes are (max - min) / (2^bits - 1) apart)' });
      if (q.range === 'per-message' && (q.min !== undefined || q.max !== undefined)) ctx.addIssue({ code: 'custom', path: [q.min !== undefined ? 'min' : 'max'], message: 'only with range "fixed" (per message, the range travels in the message)' });
      if (q.scheme === 'log' && q.bits < 2) ctx.addIssue({ code: 'custom', path: ['bits'], message: 'scheme "log" needs at least 2 bits (a sign bit and the magnitude)' });
      if (q.scheme === 'log' && q.range === 'fixed' && !(q.min! > 0)) ctx.addIssue({ code: 'custom', path: ['min'], message: 'scheme "log" spans magnitudes: min must be > 0' });
    })
    .optional(),
  /** What receivers read (@dmpemu/dmp messageFaults.ts): each entry with Gaussian noise snrDb below the message's mean power; each payload bit flipped with probability ber. */
  messageNoise: z.strictObject({ snrDb: z.number().min(-50).max(200) }).optional(),
  /** The radio's payload budget: a broadcast larger than this (float64s, or packed codes) is refused before the run. */
  maxMessageBytes: z.number().int().positive().max(2 ** 30).optional(),
  bitErrors: z.strictObject({ ber: z.number().min(0).max(0.5) }).optional(),
  crash: z.array(z.strictObject({ agent: index, round: index, restart: z.boolean().default(false) })).optional(),
  /**
   * A time-varying channel: the small-scale fading takes a Gauss-Markov step of correlation
   * `correlation` every round; agents measure their links anew every `coherenceRounds` rounds
   * (stale in between); the objective is on the channel of the round (@dmpemu/wireless channelDynamics).
   */
  channel: z.strictObject({ coherenceRounds: z.number().int().positive().max(1_000_000).default(1), correlation: z.number().min(0).max(1) }).optional(),
  /**
   * Agents leaving the network at leaveRound (transmitter silent: p = 0) and, with joinRound, back
   * with a fresh state (@dmpemu/dmp churn.ts): a list, or a share `rate` of the agents drawn per instance.
   */
  churn: z
    .union([
      z.array(z.strictObject({ agent: index, leaveRound: index, joinRound: index.optional() })).min(1),
      z.strictObject({ rate: z.number().gt(0).max(1), leaveRound: index, joinRound: index.optional() }),
    ])
    .optional(),
  brokerRestart: z.array(z.strictObject({ round: index, downMs: delayMsSchema.default(500) })).optional(),
});
export type Faults = z.infer<typeof faultsSchema>;

const sweepKeySchema = z.string().regex(SWEEP_KEY, 'expected a dotted key such as faults.missingCsi.fraction or networks[0].K');
const sweepAxis = z.strictObject({ key: sweepKeySchema, values: z.array(z.number()).min(1) });

/**
 * Run the scenario once per value of one numeric key (`key`, `values`: e.g. faults.missingCsi.fraction
 * or networks[0].K), per combination of several (`grid`: every value of the first with every value
 * of the next...), or per index of several lists of one length (`zip`: paired values).
 */
const sweepSchema = z
  .strictObject({ key: sweepKeySchema.optional(), values: z.array(z.number()).min(1).optional(), grid: z.array(sweepAxis).min(2).optional(), zip: z.array(sweepAxis).min(2).optional() })
  .superRefine((s, ctx) => {
    const forms = [s.key !== undefined || s.values !== undefined, s.grid !== undefined, s.zip !== undefined].filter(Boolean).length;
    if (forms !== 1) return ctx.addIssue({ code: 'custom', message: 'give one of { key, values }, { grid: [{ key, values }, ...] } or { zip: [{ key, values }, ...] }' });
    if (s.key === undefined && s.values !== undefined) ctx.addIssue({ code: 'custom', path: ['key'], message: 'the key to sweep is missing' });
    if (s.values === undefined && s.key !== undefined) ctx.addIssue({ code: 'custom', path: ['values'], message: 'the values to sweep are missing' });
    const axes = s.grid ?? s.zip ?? [];
    const keys = axes.map((a) => a.key);
    keys.forEach((k, i) => keys.indexOf(k) !== i && ctx.addIssue({ code: 'custom', path: [s.grid ? 'grid' : 'zip', i, 'key'], message: `${k} is swept twice` }));
    if (s.zip && s.zip.some((a) => a.values.length !== s.zip![0].values.length))
      ctx.addIssue({ code: 'custom', path: ['zip'], message: `paired values need lists of one length, got ${s.zip.map((a) => a.values.length).join(', ')}` });
    // each point is a whole run of the scenario, checked before anything starts: 27 M grid points ran the coordinator out of memory
    const lists = s.values ? [s.values] : axes.map((a) => a.values);
    const points = s.grid ? lists.reduce((n, l) => n * l.length, 1) : (lists[0]?.length ?? 0);
    if (points > MAX_SWEEP_POINTS) ctx.addIssue({ code: 'custom', message: `${points} points, at most ${MAX_SWEEP_POINTS} (each is a run of the scenario)` });
    lists.forEach((l, i) => {
      const twice = l.find((v, j) => l.indexOf(v) !== j);
      if (twice !== undefined && !s.zip) ctx.addIssue({ code: 'custom', path: s.values ? ['values'] : ['grid', i, 'values'], message: `${twice} is listed twice (the same point would run again)` });
    });
  });
export type Sweep = z.infer<typeof sweepSchema>;

/** The keys a sweep sets. */
export function sweepKeys(s: Sweep): string[] {
  return s.key !== undefined ? [s.key] : (s.grid ?? s.zip)!.map((a) => a.key);
}

/** A sweep's title in tables: its key, or its keys joined (x for a grid, + for paired values). */
export function sweepTitle(s: Sweep): string {
  return s.key ?? (s.grid ? s.grid.map((a) => a.key).join(' x ') : s.zip!.map((a) => a.key).join(' + '));
}

/** A sweep's points in order: the [key, value] pairs each sets. */
export function sweepPoints(s: Sweep): [string, number][][] {
  if (s.key !== undefined) return s.values!.map((v) => [[s.key!, v]]);
  if (s.zip) return s.zip[0].values.map((_, i) => s.zip!.map((a) => [a.key, a.values[i]] as [string, number]));
  return s.grid!.reduce<[string, number][][]>((acc, a) => acc.flatMap((p) => a.values.map((v) => [...p, [a.key, v] as [string, number]])), [[]]);
}

/** How a point is named: `key = value`, or each of its pairs. */
export function pointLabel(pairs: [string, number][]): string {
  return pairs.map(([k, v]) => `${k} = ${v}`).join(', ');
}

const scenarioBase = z.strictObject({
  name: nameSchema,
  description: z.string().optional(),
  seed: z.number().int().nonnegative().default(0),
  networks: z.array(networkSchema).min(1),
  algorithms: z.array(algorithmSchema).min(1),
  runtime: runtimeSchema.default({ kind: 'nats', agentsPerProcess: 10, roundDeadlineMs: 5000, missingPolicy: 'skip', registerTimeoutS: 60, clock: 'barrier' }),
  faults: faultsSchema.default({}),
  sweep: sweepSchema.optional(),
  /** What summaries divide by: centralized WMMSE-100 (default) or Best FPLinQ (yardstick.ts); cell-free networks: the optimal algorithm (their default, read with normaliserOf). */
  normaliseBy: z.enum(NORMALISERS).optional(),
  /** dir: where runs/<run-id>/ goes; instances: write the instances each network ran on into <run dir>/instances/. */
  outputs: z.strictObject({ dir: z.string().default('runs'), instances: z.boolean().default(true) }).default({ dir: 'runs', instances: true }),
});

export const scenarioSchema = scenarioBase.superRefine((sc, ctx) => {
  const { faults, runtime, networks } = sc;
  if (networks.some((n) => n.model === 'cell-free')) return checkCellFree(sc, ctx);
  if (sc.normaliseBy === 'optimal') ctx.addIssue({ code: 'custom', path: ['normaliseBy'], message: 'optimal is the max-min optimum of cell-free networks: use wmmse-100 or best-fplinq' });
  sc.algorithms.forEach((a, i) => {
    if (a.name && CELL_FREE_ALGORITHMS.includes(a.name)) ctx.addIssue({ code: 'custom', path: ['algorithms', i, 'name'], message: `${a.name} runs on cell-free networks (model cell-free), and this scenario has none` });
  });
  const miso = networks.findIndex((n) => n.model === 'miso');
  if (sc.normaliseBy === 'best-fplinq' && miso >= 0)
    ctx.addIssue({ code: 'custom', path: ['normaliseBy'], message: `best-fplinq is power control (SISO); networks[${miso}] is miso: use wmmse-100` });
  const minK = Math.min(...networks.map((n) => n.K));
  const needNats = (key: string): void => {
    if (runtime.kind !== 'nats') ctx.addIssue({ code: 'custom', path: ['faults', key], message: `${key} needs runtime.kind nats` });
  };
  if (faults.crash?.length) needNats('crash');
  for (const key of ['crash', 'brokerRestart'] as const)
    if (faults[key]?.length && runtime.clock !== 'barrier') ctx.addIssue({ code: 'custom', path: ['faults', key], message: `${key} needs runtime.clock barrier (the coordinator injects it at a round start), not ${runtime.clock}` });
  if (runtime.async && runtime.clock !== 'async') ctx.addIssue({ code: 'custom', path: ['runtime', 'async'], message: `runtime.async is for runtime.clock async, not ${runtime.clock}` });
  if (faults.brokerRestart?.length) {
    needNats('brokerRestart');
    if (runtime.nats) ctx.addIssue({ code: 'custom', path: ['faults', 'brokerRestart'], message: 'brokerRestart needs the embedded nats-server: remove runtime.nats' });
  }
  if (faults.messageDelay || faults.stragglers) needNats(faults.messageDelay ? 'messageDelay' : 'stragglers');
  const flat = networks.findIndex((n) => n.model === 'rayleigh-ic');
  if (faults.messageDelay?.model === 'distance' && flat >= 0)
    ctx.addIssue({ code: 'custom', path: ['faults', 'messageDelay', 'model'], message: `distance needs positions: networks[${flat}] is rayleigh-ic (a geometric model, d2d, miso or regnn-adhoc, has them)` });
  const names = new Set(networks.map(networkName));
  const labels = new Map<string, number>();
  sc.algorithms.forEach((a, i) => {
    const label = algorithmLabel(a);
    if (labels.has(label)) ctx.addIssue({ code: 'custom', path: ['algorithms', i, 'label'], message: `label ${JSON.stringify(label)} is already algorithms[${labels.get(label)}]'s: give each entry a label of its own` });
    else labels.set(label, i);
  });
  networks.forEach((n, j) => {
    const first = networks.findIndex((m) => networkName(m) === networkName(n));
    if (first < j)
      ctx.addIssue({ code: 'custom', path: ['networks', j, 'name'], message: `${networkName(n)} is also the name of networks[${first}] (names default to <model>-k<K>): give each network its own name` });
  });
  sc.algorithms.forEach((a, i) =>
    a.networks?.forEach((n, j) => {
      if (!names.has(n)) ctx.addIssue({ code: 'custom', path: ['algorithms', i, 'networks', j], message: `no network named ${JSON.stringify(n)} (networks: ${[...names].join(', ')})` });
    }),
  );
  faults.crash?.forEach((c, i) => {
    if (c.agent >= minK) ctx.addIssue({ code: 'custom', path: ['faults', 'crash', i, 'agent'], message: `agent ${c.agent} does not exist in a network of K=${minK}` });
    // a second crash of a dead agent never happened, without a word: one crash per agent
    if (faults.crash!.findIndex((d) => d.agent === c.agent) < i) ctx.addIssue({ code: 'custom', path: ['faults', 'crash', i, 'agent'], message: `agent ${c.agent} is listed twice: one crash per agent and job` });
  });
  if (faults.channel) {
    const at = (key: string, message: string): void => ctx.addIssue({ code: 'custom', path: ['faults', 'channel', ...(key ? [key] : [])], message });
    if (runtime.clock === 'async') at('', 'a time-varying channel needs rounds: runtime.clock barrier or local, not async');
    if (faults.csiNoise) at('', 'not with faults.csiNoise: agents follow their links from the true amplitudes (measure them anew every coherenceRounds)');
    if (sc.normaliseBy !== undefined && sc.normaliseBy !== 'wmmse-100') at('', 'normalised by WMMSE-100 on the channel at each algorithm\'s last round: use normaliseBy wmmse-100');
    networks.forEach((n, j) => {
      if (n.file || n.model === 'miso')
        at('', `networks[${j}] is ${n.file ? 'a file' : 'miso'}: a time-varying channel is for power control networks the run generates (d2d, rayleigh-ic, regnn-adhoc), whose large-scale fading it knows`);
    });
  }
  if (faults.churn) {
    const list = Array.isArray(faults.churn) ? faults.churn : [faults.churn];
    const path = (i: number, key: string): (string | number)[] => (Array.isArray(faults.churn) ? ['faults', 'churn', i, key] : ['faults', 'churn', key]);
    if (runtime.clock === 'async') ctx.addIssue({ code: 'custom', path: ['faults', 'churn'], message: 'churn needs rounds: runtime.clock barrier or local, not async' });
    list.forEach((c, i) => {
      if (c.joinRound !== undefined && c.joinRound <= c.leaveRound) ctx.addIssue({ code: 'custom', path: path(i, 'joinRound'), message: `an agent comes back after it left: joinRound ${c.joinRound} must be greater than leaveRound ${c.leaveRound}` });
      if ('agent' in c && c.agent >= minK) ctx.addIssue({ code: 'custom', path: path(i, 'agent'), message: `agent ${c.agent} does not exist in a network of K=${minK}` });
      if ('agent' in c && list.findIndex((d) => 'agent' in d && d.agent === c.agent) < i) ctx.addIssue({ code: 'custom', path: path(i, 'agent'), message: `agent ${c.agent} is listed twice: give each agent one leaveRound (and joinRound)` });
    });
    // a network all of whose agents leave for good has nothing to evaluate (0 / 0 against its normaliser, and "overtakes" from round 1)
    for (const n of networks) {
      const leaving = Array.isArray(faults.churn)
        ? new Set(faults.churn.filter((c) => c.joinRound === undefined && c.agent < n.K).map((c) => c.agent)).size
        : faults.churn.joinRound === undefined && faults.churn.rate <= 1 ? Math.max(1, Math.round(faults.churn.rate * n.K)) : 0; // faultPlan.ts: round(rate K), at least one
      if (leaving >= n.K) ctx.addIssue({ code: 'custom', path: ['faults', 'churn'], message: `every agent of network ${networkName(n)} (K=${n.K}) leaves for good: no network remains to evaluate` });
    }
  }
  faults.stragglers?.agents.forEach((k, i) => {
    if (k >= minK) ctx.addIssue({ code: 'custom', path: ['faults', 'stragglers', 'agents', i], message: `agent ${k} does not exist in a network of K=${minK}` });
  });
  if (faults.missingCsi?.select === 'distance')
    networks.forEach((n, i) => n.model === 'rayleigh-ic' && ctx.addIssue({ code: 'custom', path: ['faults', 'missingCsi', 'select'], message: `"distance" needs positions, and networks[${i}] (${n.model}) has none` }));
  faults.missingCsi?.agents?.forEach((k, i) => {
    if (k >= minK) ctx.addIssue({ code: 'custom', path: ['faults', 'missingCsi', 'agents', i], message: `agent ${k} does not exist in a network of K=${minK}` });
  });
});

/**
 * A scenario of cell-free networks (Table IV): only cell-free networks, only their algorithms,
 * normalised by the optimal algorithm, no fault plan yet (the faults are written for pair networks).
 */
function checkCellFree(sc: z.infer<typeof scenarioBase>, ctx: z.RefinementCtx): void {
  const pairs = sc.networks.findIndex((n) => n.model !== 'cell-free');
  if (pairs >= 0) ctx.addIssue({ code: 'custom', path: ['networks', pairs, 'model'], message: `a scenario has cell-free networks or pair networks, not both (networks[${sc.networks.findIndex((n) => n.model === 'cell-free')}] is cell-free): put them in two scenarios` });
  sc.algorithms.forEach((a, i) => {
    if (a.module) ctx.addIssue({ code: 'custom', path: ['algorithms', i, 'module'], message: 'own algorithm modules run on pair networks; cell-free networks run ' + CELL_FREE_ALGORITHMS.join(', ') });
    else if (!CELL_FREE_ALGORITHMS.includes(a.name!)) ctx.addIssue({ code: 'custom', path: ['algorithms', i, 'name'], message: `${a.name} does not run on cell-free networks (they run ${CELL_FREE_ALGORITHMS.join(', ')})` });
  });
  if (sc.normaliseBy !== undefined && sc.normaliseBy !== 'optimal') ctx.addIssue({ code: 'custom', path: ['normaliseBy'], message: `cell-free networks are normalised by the optimal max-min algorithm: use optimal (the default), not ${sc.normaliseBy}` });
  const faults = Object.keys(sc.faults);
  if (faults.length) ctx.addIssue({ code: 'custom', path: ['faults', faults[0]], message: 'faults are not applied to cell-free networks yet: remove the fault plan' });
  if (sc.runtime.clock === 'async') ctx.addIssue({ code: 'custom', path: ['runtime', 'clock'], message: 'cell-free networks run with the barrier or local clock, not async' });
}

/** What the scenario's summaries divide by: its normaliseBy, else the optimal algorithm for cell-free networks and WMMSE-100 for pair networks. */
export function normaliserOf(sc: Pick<Scenario, 'normaliseBy' | 'networks'>): Normaliser {
  return sc.normaliseBy ?? (isCellFree(sc) ? 'optimal' : 'wmmse-100');
}

/** Whether the scenario's networks are cell-free (then all are). */
export function isCellFree(sc: Pick<Scenario, 'networks'>): boolean {
  return sc.networks[0].model === 'cell-free';
}

export type Scenario = z.infer<typeof scenarioSchema>;
export type NetworkSpec = Scenario['networks'][number];
export type AlgorithmEntry = Scenario['algorithms'][number];

export { agentsOf, algorithmLabel, isDmp, loadCheckpoints, networkName, roundsOf, specOf } from './scenarioEntries.ts';

/**
 * Validate scenario data; errors name the offending key, e.g. `networks[0].K: ...`. Everything is
 * checked before anything starts: the schema, the checkpoints, every algorithm built for every
 * network it runs on, fault rounds, layouts; with a sweep, all of that for every value.
 */
export function parseScenario(raw: unknown, source: string, dir = '.'): Scenario {
  const data = withNetworkFiles(raw, source, dir); // networks read from files: completed from them
  const sc = parseOne(data, source);
  let checkpoints: Map<string, Checkpoint>;
  try {
    checkpoints = loadCheckpoints(sc); // a missing or tampered checkpoint is rejected before anything starts
  } catch (e) {
    throw e instanceof UsageError ? new UsageError(`${source}: ${e.message}`) : e;
  }
  const drawn = new Set<string>();
  checkScenario(sc, checkpoints, source, drawn);
  if (sc.sweep) {
    const paths = new Map(sweepKeys(sc.sweep).map((k) => [k, sweepPath(k, source)]));
    const inert = sc.runtime.kind === 'inprocess' ? [...paths.keys()].find((k) => NATS_ONLY_RUNTIME_KEYS.includes(k)) : undefined;
    if (inert) throw new UsageError(`${source}: invalid scenario: sweep.key ${inert}: the scenario runs in process (runtime.kind inprocess), where it changes nothing (it is for agents over NATS)`);
    for (const pairs of sweepPoints(sc.sweep)) {
      const at = `${source} (sweep ${pointLabel(pairs)})`;
      const set = pairs.reduce((d, [key, v]) => applySweep(d, key, paths.get(key)!, v, source), data);
      const point = parseOne(withNetworkFiles(set, at, dir), at);
      for (const [key, v] of pairs) {
        const path = paths.get(key)!;
        if (valueAt(point, path) !== v) throw new UsageError(`${source}: invalid scenario: sweep.key ${key}: setting it to ${v} did not change the scenario (${formatKey(path)} is ${JSON.stringify(valueAt(point, path))})`);
      }
      checkScenario(point, checkpoints, at, drawn);
    }
  }
  return sc;
}

/** Runtime keys the in-process executor never reads (no registration, no processes; its delivery faults have no delays, so no deadline). */
const NATS_ONLY_RUNTIME_KEYS = ['runtime.agentsPerProcess', 'runtime.registerTimeoutS', 'runtime.roundDeadlineMs'];

/** The path of a sweep key, when it names a number of the scenario schema. */
function sweepPath(key: string, source: string): KeyPath {
  const path = parseKey(key);
  if (isNumericKey(scenarioSchema, path)) return path;
  const [top, next, ...rest] = path;
  const hint =
    (top === 'networks' || top === 'algorithms') && typeof next === 'string'
      ? ` (for ${top === 'networks' ? 'a network' : 'an algorithm'} use ${formatKey([top, 0, next, ...rest])})`
      : ' (e.g. faults.messageLoss.probability, or networks[0].K for a network)';
  throw new UsageError(`${source}: invalid scenario: sweep.key ${key}: not a numeric key of the scenario${hint}`);
}

function applySweep(data: unknown, key: string, path: KeyPath, value: number, source: string): unknown {
  try {
    return setValue(data, path, value);
  } catch (e) {
    throw new UsageError(`${source}: invalid scenario: sweep.key ${key}: ${(e as Error).message}`);
  }
}

/** `data` with the sweep key `key` (dotted, with indices: networks[0].K) set to `value` (objects created on the way). */
export function withValue(data: unknown, key: string, value: number): unknown {
  return setValue(data, parseKey(key), value);
}

/**
 * The scenarios of a sweep, one per point (the scenario itself when it has no sweep): `value` is
 * the swept value of a one-key sweep and the point's index with several keys, `values` what the
 * point sets, `label` its name.
 */
export function sweepScenarios(sc: Scenario): { value?: number; values?: Record<string, number>; label?: string; scenario: Scenario }[] {
  if (!sc.sweep) return [{ scenario: sc }];
  const single = sc.sweep.key !== undefined;
  return sweepPoints(sc.sweep).map((pairs, i) => ({
    value: single ? pairs[0][1] : i,
    values: Object.fromEntries(pairs),
    label: pointLabel(pairs),
    scenario: parseOne(pairs.reduce((d: unknown, [key, v]) => withValue(d, key, v), sc), `sweep ${pointLabel(pairs)}`),
  }));
}

function parseOne(data: unknown, source: string): Scenario {
  const r = scenarioSchema.safeParse(data);
  if (r.success) return { ...r.data, normaliseBy: normaliserOf(r.data) }; // the default depends on the networks
  throw new UsageError(`${source}: invalid scenario: ${formatIssues(r.error)}`);
}

export function loadScenario(path: string): Scenario {
  const text = readBoundedText(path, FILE_LIMITS.scenario, 'cannot read scenario');
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (e) {
    throw new UsageError(`${path}: not valid YAML (${e instanceof YAMLParseError ? e.message.split('\n')[0] : (e as Error).message})`);
  }
  return parseScenario(withModulePaths(data, dirname(resolvePath(path))), path, dirname(resolvePath(path)));
}

/** Module paths of algorithm entries, relative to the scenario file, made absolute. */
function withModulePaths(data: unknown, dir: string): unknown {
  const algs = (data as { algorithms?: unknown })?.algorithms;
  if (!Array.isArray(algs)) return data;
  return { ...(data as object), algorithms: algs.map((a) => (a && typeof a === 'object' && typeof (a as { module?: unknown }).module === 'string' ? { ...a, module: resolvePath(dir, (a as { module: string }).module) } : a)) };
}
