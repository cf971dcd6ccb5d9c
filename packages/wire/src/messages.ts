import { z } from 'zod';
import type { LocalView } from '@dmpemu/wireless';
import { decode } from './codec.ts';

/**
 * Message schemas of the protocol (PROTOCOL_VERSION, subjects.ts; README, protocol). Control traffic is sealed
 * (seal.ts) and validated with zod; the data plane (one broadcast per agent per round, the hot
 * path) with a hand-written check of a 4-tuple. A message that fails is dropped and counted by the
 * receiver, never thrown at it.
 */
const f64 = z.custom<Float64Array>((v) => v instanceof Float64Array, { message: 'expected a Float64Array' });
const int = z.number().int();
const index = int.nonnegative();
/** Node clamps longer timers to 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
const hostId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

const localViewSchema = z.strictObject({
  k: index,
  weight: z.number().nonnegative(),
  noise: z.number().positive(),
  pmax: z.number().positive(),
  Nt: int.positive(),
  direct: z.number().nonnegative(),
  directRe: f64.optional(),
  directIm: f64.optional(),
  neighbours: z.custom<Int32Array>((v) => v instanceof Int32Array, { message: 'expected an Int32Array' }),
  gIn: f64,
  gOut: f64,
  hInRe: f64.optional(),
  hInIm: f64.optional(),
  hOutRe: f64.optional(),
  hOutIm: f64.optional(),
  type: z.string().max(64).optional(),
  neighbourTypes: z.array(z.string().max(64)).optional(),
}).refine((v) => v.neighbourTypes === undefined || v.neighbourTypes.length === v.neighbours.length, { message: 'neighbourTypes must name one type per neighbour', path: ['neighbourTypes'] });

/**
 * The algorithm an agent runs. A learned one carries its checkpoint (architecture, weights,
 * hash); the agent verifies the hash itself before running it (@dmpemu/dmp createAlgorithm).
 */
export const algorithmSpecSchema = z.strictObject({
  name: z.string(),
  iterations: int.positive().optional(),
  rounds: int.positive().optional(),
  checkpoint: z.record(z.string(), z.unknown()).optional(),
  /** An own algorithm: its bundled code, the code's sha256 and its label; the agent verifies the hash before loading it. */
  module: z.strictObject({ code: z.string().max(4 * 1024 * 1024), sha256: z.string().regex(/^[0-9a-f]{64}$/), label: z.string().max(200) }).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  /**
   * In place of the checkpoint or module: its hash. The host holds the spec from the configure of
   * the same job that carried it whole, which the coordinator sends first, to one agent per host:
   * a checkpoint travels once per host and job, not once per agent.
   */
  ref: z.string().regex(/^[0-9a-f]{64}$/).optional(),
}).refine((a) => a.ref === undefined || (a.checkpoint === undefined && a.module === undefined), { message: 'ref stands in for checkpoint and module: send one or the other', path: ['ref'] });

/** The hash a configure may name this algorithm spec by (algorithmSpecSchema's ref): its checkpoint's or its module's; undefined with neither or both. */
export function specRef(a: { checkpoint?: object; module?: { sha256: string } }): string | undefined {
  const hash = (a.checkpoint as { hash?: unknown } | undefined)?.hash;
  if (a.module) return a.checkpoint ? undefined : a.module.sha256;
  return typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash) ? hash : undefined;
}

/** What every host and the coordinator count, per job: messages dropped, by why. */
export const COUNTER_KINDS = [
  /** broadcasts that do not decode, have the wrong shape, size or sender, or non-finite entries */
  'malformedData',
  /** sealed control messages that do not fit their schema or the job and round plan */
  'malformedControl',
  /** control messages without a valid seal: junk, forgeries, messages moved to another subject */
  'unauthenticated',
  /** broadcasts of a round (or job) already closed */
  'late',
  /** a second copy of a message already taken (the first is kept) */
  'duplicate',
  /** a second copy that differs from the first: forged traffic (the job fails) */
  'conflicting',
  /** deliveries dropped by the messageLoss fault */
  'lost',
  /** broadcasts too far ahead of the receiver's round (bounded buffer) */
  'overflow',
] as const;
export type CounterKind = (typeof COUNTER_KINDS)[number];
export type Counters = Record<CounterKind, number>;

export function zeroCounters(): Counters {
  return Object.fromEntries(COUNTER_KINDS.map((c) => [c, 0])) as Counters;
}

export function addCounters(into: Counters, from: Partial<Counters>): Counters {
  for (const c of COUNTER_KINDS) into[c] += from[c] ?? 0;
  return into;
}

const countersSchema = z.strictObject(Object.fromEntries(COUNTER_KINDS.map((c) => [c, index])) as Record<CounterKind, typeof index>);

export const registerSchema = z.strictObject({ type: z.literal('register'), host: hostId, agents: z.array(index).min(1), pid: int, hostname: z.string() });
export type RegisterMsg = z.infer<typeof registerSchema>;

export const deliveryFaultsSchema = z.strictObject({
  seed: int,
  loss: z.number().min(0).max(1).optional(),
  delayMaxMs: z.number().nonnegative().max(MAX_TIMER_MS).optional(),
  distanceDelay: z.strictObject({ baseMs: z.number().nonnegative().max(MAX_TIMER_MS), msPerKm: z.number().nonnegative().max(MAX_TIMER_MS) }).optional(),
  stragglers: z.strictObject({ agents: z.array(index), delayMs: z.number().nonnegative().max(MAX_TIMER_MS) }).optional(),
  quantization: z
    .strictObject({ bits: z.number().int().min(1).max(16), scheme: z.enum(['uniform', 'log']), range: z.enum(['per-message', 'fixed']), min: z.number().finite().optional(), max: z.number().finite().optional() })
    .refine((q) => q.range !== 'fixed' || (q.min !== undefined && q.max !== undefined && q.min < q.max), 'a fixed range needs min < max')
    .optional(),
  bitErrors: z.strictObject({ ber: z.number().min(0).max(0.5) }).optional(),
  noiseSnrDb: z.number().min(-50).max(200).optional(),
});

export const configureSchema = z.strictObject({
  type: z.literal('configure'),
  /** A job is one algorithm on one instance; agents drop traffic of other jobs. */
  job: index,
  k: index,
  view: localViewSchema,
  algorithm: algorithmSpecSchema,
  /** How long an agent waits for its neighbours in a round before updating without them. */
  roundDeadlineMs: z.number().positive().max(MAX_TIMER_MS),
  policy: z.enum(['skip', 'last']),
  /** First round this agent takes part in (an agent restarted after a crash rejoins later). */
  fromRound: index,
  /** Delivery faults applied on the agent's side of the wire (see @dmpemu/dmp deliveryFaults). */
  faults: deliveryFaultsSchema.optional(),
  /** messageDelay by distance: the length (km) of each incoming link, per neighbour slot. */
  linkKm: f64.optional(),
  /**
   * faults.channel: the channel evolves every round and this agent measures its links anew every
   * coherenceRounds (@dmpemu/dmp localChannel), from their large-scale amplitudes: its direct link
   * and, per neighbour slot, the incoming and outgoing link.
   */
  channel: z
    .strictObject({
      seed: int,
      correlation: z.number().min(0).max(1),
      coherenceRounds: z.number().int().positive(),
      scales: z.strictObject({ direct: z.number().nonnegative().finite(), in: f64, out: f64 }),
    })
    .optional(),
  /** churn: the rounds this agent is away (leaves at leaveRound, back with a fresh state at joinRound); only it is told. */
  churn: z.strictObject({ leaveRound: index, joinRound: index.optional() }).refine((c) => c.joinRound === undefined || c.joinRound > c.leaveRound, 'joinRound must come after leaveRound').optional(),
  /**
   * Who starts rounds: `barrier` the coordinator, every round; `local` the agent itself, once it
   * has every live neighbour's broadcast of the round or its deadline passed; `async` its own
   * timer (README, clocks).
   */
  clock: z.enum(['barrier', 'local', 'async']),
  /** async: the agent's activation period, its relative jitter, the probability an activation updates, and the seed of that schedule. */
  async: z.strictObject({ periodMs: z.number().positive().max(MAX_TIMER_MS), jitter: z.number().min(0).max(1), activation: z.number().gt(0).max(1), seed: int }).optional(),
});
/** The algorithm spec travels as plain data; @dmpemu/dmp's AlgorithmSpec is the typed view of it. */
export type ConfigureMsg = Omit<z.infer<typeof configureSchema>, 'view' | 'algorithm'> & {
  view: LocalView;
  algorithm: { name: string; iterations?: number; rounds?: number; checkpoint?: object; module?: { code: string; sha256: string; label: string }; params?: Record<string, unknown>; ref?: string };
};

/** coordinator -> hosts (`ctl`). */
export const roundSchema = z.strictObject({
  type: z.literal('round'),
  job: index,
  t: index,
  /** Agents known dead: their neighbours stop waiting for them. */
  gone: z.array(index),
});
export const endSchema = z.strictObject({ type: z.literal('end'), job: index });
/** local and async clocks: the job starts, and from then on the agents clock themselves. */
export const startSchema = z.strictObject({ type: z.literal('start'), job: index, gone: z.array(index) });
/** local and async clocks: agents found dead during the job; their neighbours stop waiting for them. */
export const goneSchema = z.strictObject({ type: z.literal('gone'), job: index, agents: z.array(index).min(1) });
export const stopSchema = z.strictObject({ type: z.literal('stop'), reason: z.string() });
/**
 * The coordinator is there (`ctl`, every HEARTBEAT_MS, from a thread of its own while external
 * hosts serve the run): an external host leaves a run whose coordinator was silent for longer than
 * its --coordinator-timeout and `patienceMs`, how long the coordinator itself rides out a broker
 * outage. `seq` rises by one per heartbeat: a replayed one is a duplicate, and does not count as heard.
 */
export const coordinatorAliveSchema = z.strictObject({ type: z.literal('alive'), seq: index, patienceMs: index });
export type CoordinatorAliveMsg = z.infer<typeof coordinatorAliveSchema>;
/** How often a host and the coordinator say they are alive. */
export const HEARTBEAT_MS = 1000;
/** How long an external host (`dmpemu agents`) waits for a coordinator it has heard before to be heard again, by default. */
export const COORDINATOR_TIMEOUT_S = 60;
export const controlSchema = z.discriminatedUnion('type', [roundSchema, endSchema, stopSchema, startSchema, goneSchema, coordinatorAliveSchema]);
export type RoundMsg = z.infer<typeof roundSchema>;
export type EndMsg = z.infer<typeof endSchema>;
export type StopMsg = z.infer<typeof stopSchema>;
export type ControlMsg = z.infer<typeof controlSchema>;

/** One agent's round, as its host reports it. */
export const roundEntrySchema = z.strictObject({
  k: index,
  output: f64,
  /** Neighbour messages used / missing in this round. */
  received: index,
  missing: index,
  /** Data-plane bytes this agent published and received in this round. */
  bytesOut: index,
  bytesIn: index,
  /** Whether the round closed on the deadline instead of on all neighbours arriving. */
  timedOut: z.boolean(),
  /** Milliseconds from the agent's start of the round to its update. */
  ms: z.number().nonnegative(),
});
export type RoundEntry = z.infer<typeof roundEntrySchema>;
/** An agent's round in a stream of rounds (local and async clocks). */
export const progressEntrySchema = roundEntrySchema.extend({ t: index });
export type ProgressEntry = z.infer<typeof progressEntrySchema>;

/** A conflicting duplicate an agent saw: two different broadcasts of `from` for round t. */
export const conflictSchema = z.strictObject({ k: index, from: index, t: index });
export type Conflict = z.infer<typeof conflictSchema>;

/** host -> coordinator (`up.<host>`). */
export const readySchema = z.strictObject({ type: z.literal('ready'), job: index, k: index });
export const refusedSchema = z.strictObject({ type: z.literal('refused'), job: index, k: index, reason: z.string() });
/** The round of every agent of the host that took part in it (barrier clock: one message per host per round). */
export const reportSchema = z.strictObject({ type: z.literal('report'), job: index, t: index, agents: z.array(roundEntrySchema).min(1) });
/** An agent whose algorithm threw: it takes no further part in the job; the host lives on. */
export const failedSchema = z.strictObject({ type: z.literal('failed'), job: index, k: index, t: int.min(-1), reason: z.string() });
/** The host's counters for a finished job (answer to `end`). */
export const finalSchema = z.strictObject({
  type: z.literal('final'),
  job: index,
  counters: countersSchema,
  conflicts: z.array(conflictSchema),
  /** async clock: how old the broadcasts used in updates were (receiver's round minus the message's), count by age. */
  staleness: z.record(z.string().regex(/^-?\d+$/), index).optional(),
});
/** local and async clocks: the rounds the host's agents finished since its last message (batched per host). */
export const progressSchema = z.strictObject({ type: z.literal('progress'), job: index, entries: z.array(progressEntrySchema).min(1) });
/** A host is there (every HEARTBEAT_MS): the coordinator declares the agents of a host silent for longer dead (an external host's machine or connection may go without its process exiting where the coordinator sees it). */
export const aliveSchema = z.strictObject({
  type: z.literal('alive'),
  /** The host process's own random id (16 hex digits), and the number of its heartbeat, from 1: a replay (a seq not above the last of its process) is not the host heard. */
  boot: z.string().regex(/^[0-9a-f]{16}$/),
  seq: index,
});
export const upSchema = z.discriminatedUnion('type', [readySchema, refusedSchema, reportSchema, failedSchema, finalSchema, progressSchema, aliveSchema]);
export type ReadyMsg = z.infer<typeof readySchema>;
export type RefusedMsg = z.infer<typeof refusedSchema>;
export type ReportMsg = z.infer<typeof reportSchema>;
export type FailedMsg = z.infer<typeof failedSchema>;
export type FinalMsg = z.infer<typeof finalSchema>;
export type UpMsg = z.infer<typeof upSchema>;

/** Parse a control message against a schema; the reason names the field when it does not fit. */
export function parseControl<T>(schema: z.ZodType<T>, value: unknown): { ok: true; value: T } | { ok: false; reason: string } {
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, reason: r.error.issues.map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`).join('; ') };
}

/** Data plane: [job, t, from, b]; under messageQuantization b is the bit-packed codes (@dmpemu/dmp quantization). */
export type BroadcastMsg = [job: number, t: number, from: number, b: Float64Array | Uint8Array];

/** A broadcast's shape: b a Float64Array, or (`packed`) a Uint8Array. */
export function isBroadcast(v: unknown, packed = false): v is BroadcastMsg {
  return (
    Array.isArray(v) &&
    v.length === 4 &&
    Number.isInteger(v[0]) &&
    Number.isInteger(v[1]) &&
    Number.isInteger(v[2]) &&
    (packed ? v[3] instanceof Uint8Array && !(v[3] instanceof Float64Array) : v[3] instanceof Float64Array)
  );
}

/**
 * Data plane, churn: what an agent that is away publishes for round t instead of a broadcast (the
 * emulated silence of its beacon), so its neighbours leave it out at once instead of after a deadline.
 */
export type AbsenceMsg = [job: number, t: number, from: number, absent: null];

export function isAbsence(v: unknown): v is AbsenceMsg {
  return Array.isArray(v) && v.length === 4 && Number.isInteger(v[0]) && Number.isInteger(v[1]) && Number.isInteger(v[2]) && v[3] === null;
}

/** Whether every entry is a finite number. */
export function allFinite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/** Decode bytes and check them against a schema; undefined when either fails (unsealed tools and tests). */
export function decodeControl<T>(schema: z.ZodType<T>, data: Uint8Array): T | undefined {
  try {
    const r = parseControl(schema, decode(data));
    return r.ok ? r.value : undefined;
  } catch {
    return undefined;
  }
}
