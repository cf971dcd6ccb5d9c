import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * Every line of a JSON-lines file, parsed, read as a stream (rounds.jsonl of a long run does not
 * fit in one string). A missing file has no lines; a line that does not parse (the last one of
 * a killed run may be cut) is skipped.
 */
export async function forEachJsonLine(file: string | undefined, f: (line: Record<string, unknown>) => void): Promise<void> {
  if (file === undefined || !existsSync(file)) return;
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const text of lines) {
    if (!text) continue;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      continue;
    }
    if (v && typeof v === 'object' && !Array.isArray(v)) f(v as Record<string, unknown>);
  }
}

/** An integer 0..max: a round or an instance read from a file (which may claim 1e8 of them). */
export const isIndex = (v: unknown, max: number): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= max;

/** A list of at most `max` numbers (null for NaN, as JSON writes it). */
export const isNumberList = (v: unknown, max: number): v is (number | null)[] => Array.isArray(v) && v.length <= max && v.every((x) => x === null || typeof x === 'number');

/** Per sweep value (or none), network and algorithm: the least and largest objective over instances after each round (rounds.jsonl). */
export interface RoundBand {
  min: number[];
  max: number[];
}

export const bandKey = (sweep: unknown, network: string, algorithm: string): string => `${sweep ?? ''}|${network}|${algorithm}`;

export async function readRoundBands(file: string): Promise<Map<string, RoundBand>> {
  const out = new Map<string, RoundBand>();
  await forEachJsonLine(file, (l) => {
    const t = l.round, y = l.objective;
    if (typeof t !== 'number' || typeof y !== 'number' || !Number.isFinite(y)) return;
    const key = bandKey(l.sweep, String(l.network), String(l.algorithm));
    let b = out.get(key);
    if (!b) out.set(key, (b = { min: [], max: [] }));
    b.min[t] = b.min[t] === undefined ? y : Math.min(b.min[t], y);
    b.max[t] = b.max[t] === undefined ? y : Math.max(b.max[t], y);
  });
  return out;
}
