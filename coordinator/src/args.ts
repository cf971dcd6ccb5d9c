import { InvalidArgumentError } from 'commander';
import type { z } from 'zod';

/**
 * Commander argument parsers that reject bad values with a message naming what was expected.
 * Integers are decimal digits only (no 0x10, 1e3, +5 or spaces: Number() read those); numbers
 * are decimal, optionally with an exponent. A schema adds the rule of the scenario key of the
 * same meaning (limits.ts), so a flag and its key accept the same values.
 */
const DECIMAL_INT = /^\d+$/;
const DECIMAL = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function checked(n: number, schema?: z.ZodType<number>): number {
  if (!schema) return n;
  const r = schema.safeParse(n);
  if (!r.success) throw new InvalidArgumentError(`${r.error.issues[0].message}.`);
  return r.data;
}

/** A positive decimal integer, checked by `schema` when given. */
export function positiveIntOf(schema?: z.ZodType<number>): (value: string) => number {
  return (value) => {
    if (!DECIMAL_INT.test(value) || Number(value) <= 0) throw new InvalidArgumentError('expected a positive integer (decimal digits).');
    return checked(Number(value), schema);
  };
}

export const positiveInt = positiveIntOf();

/** An integer >= 0 in decimal digits, checked by `schema` when given. */
export function nonNegativeIntOf(schema?: z.ZodType<number>): (value: string) => number {
  return (value) => {
    if (!DECIMAL_INT.test(value)) throw new InvalidArgumentError('expected an integer >= 0 (decimal digits).');
    return checked(Number(value), schema);
  };
}

export const nonNegativeInt = nonNegativeIntOf();

/** A finite decimal number, checked by `schema` when given. */
export function numberOf(schema?: z.ZodType<number>): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!DECIMAL.test(value) || !Number.isFinite(n)) throw new InvalidArgumentError('expected a finite decimal number.');
    return checked(n, schema);
  };
}

export const finiteNumber = numberOf();

export function positiveNumber(value: string): number {
  const n = finiteNumber(value);
  if (n <= 0) throw new InvalidArgumentError('expected a number > 0.');
  return n;
}

export function oneOf<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${choices.join(', ')}.`);
    return value as T;
  };
}

/** The run id given to `run` and `nats-config`: each network runs as `<id>-p<point>n<network>`, a subject token of at most 64 characters. */
export function runIdPrefix(value: string): string {
  if (!/^[A-Za-z0-9_-]{1,50}$/.test(value)) throw new InvalidArgumentError("expected 1-50 letters, digits, '-' or '_' (each network runs as <id>-p<point>n<network>).");
  return value;
}

/** A TCP port, 0-65535 (0: the system picks a free one). */
export function portNumber(value: string): number {
  if (!DECIMAL_INT.test(value) || Number(value) > 65535) throw new InvalidArgumentError('expected a port number 0-65535 (0: a free one).');
  return Number(value);
}
