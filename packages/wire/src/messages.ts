import { z } from 'zod';
import type { LocalView } from '@dmpemu/wireless';
import { decode } from './codec.ts';

/**
 * Message schemas. Control traffic is validated with zod; the data plane (one broadcast per agent
 * per round, the hot path) with a hand-written check of a 4-tuple. A message that fails is dropped
 * and counted by the receiver, never thrown at it.
 */
const f64 = z.custom<Float64Array>((v) => v instanceof Float64Array, { message: "expected a Float64Array" });
const int = z.number().int();
const index = int.nonnegative();

const localViewSchema = z.strictObject({
  k: index,
  weight: z.number().nonnegative(),
  noise: z.number().positive(),
  pmax: z.number().positive(),
  Nt: int.positive(),
  direct: z.number().nonnegative(),
  directRe: f64.optional(),
  directIm: f64.optional(),
  neighbours: z.custom<Int32Array>((v) => v instanceof Int32Array, { message: "expected an Int32Array" }),
  gIn: f64,
  gOut: f64,
  hInRe: f64.optional(),
  hInIm: f64.optional(),
  hOutRe: f64.optional(),
  hOutIm: f64.optional(),
});

/**
 * The algorithm an agent runs. A learned one carries its checkpoint (architecture, weights,
 * hash); the agent verifies the hash itself before running it (@dmpemu/dmp createAlgorithm).
 */
export const algorithmSpecSchema = z.strictObject({
  name: z.string(),
  iterations: int.positive().optional(),
  rounds: int.positive().optional(),
  checkpoint: z.record(z.string(), z.unknown()).optional(),
});

export const registerSchema = z.strictObject({ type: z.literal('register'), agents: z.array(index).min(1), pid: int, host: z.string() });
export type RegisterMsg = z.infer<typeof registerSchema>;

export const configureSchema = z.strictObject({
  type: z.literal('configure'),
  /** A job is one algorithm on one instance; agents drop traffic of other jobs. */
  job: index,
  view: localViewSchema,
  algorithm: algorithmSpecSchema,
  /** How long an agent waits for its neighbours in a round before updating without them. */
  roundDeadlineMs: z.number().positive(),
  policy: z.enum(['skip', 'last']),
  /** First round this agent takes part in (an agent restarted after a crash rejoins later). */
  fromRound: index.default(0),
  /** Delivery faults applied on the agent's side of the wire (see @dmpemu/dmp deliveryFaults). */
  faults: z
    .strictObject({
      seed: int,
      loss: z.number().min(0).max(1).optional(),
      delayMaxMs: z.number().nonnegative().optional(),
      stragglers: z.strictObject({ agents: z.array(index), delayMs: z.number().nonnegative() }).optional(),
    })
    .optional(),
});
/** The algorithm spec travels as plain data; @dmpemu/dmp's AlgorithmSpec is the typed view of it. */
export type ConfigureMsg = Omit<z.infer<typeof configureSchema>, 'view' | 'algorithm'> & { view: LocalView; algorithm: { name: string; iterations?: number; rounds?: number; checkpoint?: object } };

export const readySchema = z.strictObject({ type: z.literal('ready'), job: index, k: index });
export const refusedSchema = z.strictObject({ type: z.literal('refused'), job: index, k: index, reason: z.string() });
export type ReadyMsg = z.infer<typeof readySchema>;
export type RefusedMsg = z.infer<typeof refusedSchema>;

export const roundSchema = z.strictObject({
  type: z.literal('round'),
  job: index,
  t: index,
  /** Agents known dead: their neighbours stop waiting for them. */
  gone: z.array(index),
});
export type RoundMsg = z.infer<typeof roundSchema>;

export const reportSchema = z.strictObject({
  type: z.literal('report'),
  job: index,
  t: index,
  k: index,
  output: f64,
  /** Neighbour messages used / missing in this round. */
  received: index,
  missing: index,
  /** Data-plane bytes this agent published and received in this round. */
  bytesOut: index,
  bytesIn: index,
  /** Lifetime totals: messages dropped as malformed, as late (an older round), and as lost (messageLoss fault). */
  malformed: index,
  late: index,
  lost: index,
  /** Whether the round closed on the deadline instead of on all neighbours arriving. */
  timedOut: z.boolean(),
});
export type ReportMsg = z.infer<typeof reportSchema>;

export const stopSchema = z.strictObject({ type: z.literal('stop'), reason: z.string() });
export type StopMsg = z.infer<typeof stopSchema>;

/** Parse a control message against a schema; returns undefined (and the reason) when it does not fit. */
export function parseControl<T>(schema: z.ZodType<T>, value: unknown): { ok: true; value: T } | { ok: false; reason: string } {
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, reason: r.error.issues.map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`).join('; ') };
}

/** Data plane: [job, t, from, b]. */
export type BroadcastMsg = [job: number, t: number, from: number, b: Float64Array];

export function isBroadcast(v: unknown): v is BroadcastMsg {
  return (
    Array.isArray(v) &&
    v.length === 4 &&
    Number.isInteger(v[0]) &&
    Number.isInteger(v[1]) &&
    Number.isInteger(v[2]) &&
    v[3] instanceof Float64Array
  );
}

/** Decode bytes and check them against a control schema; undefined when either fails. */
export function decodeControl<T>(schema: z.ZodType<T>, data: Uint8Array): T | undefined {
  try {
    const r = parseControl(schema, decode(data));
    return r.ok ? r.value : undefined;
  } catch {
    return undefined;
  }
}
