import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCheckpoint, type Checkpoint } from '@dmpemu/dmp';
import { readBoundedText } from './boundedRead.ts';
import { FILE_LIMITS } from './limits.ts';
import { UsageError } from './usageError.ts';

/** Where the repository's trained checkpoints live, and their manifest. */
export const MODELS_DIR = fileURLToPath(new URL('../../../scenarios/models/', import.meta.url));

/** A checkpoint path from a name (`wcgcn-rayleigh-k50-snr10` in scenarios/models/) or a path. */
export function checkpointPath(ref: string): string {
  if (ref.endsWith('.json') || ref.includes('/')) return resolve(ref);
  return join(MODELS_DIR, `${ref}.json`);
}

/** Load and verify a checkpoint (at most 64 MiB); a missing, too large or broken one is a UsageError naming it. */
export function readCheckpoint(ref: string, what = '--checkpoint'): Checkpoint {
  const path = checkpointPath(ref);
  if (!existsSync(path)) throw new UsageError(`${what} ${ref}: no checkpoint at ${path}`);
  try {
    return parseCheckpoint(readBoundedText(path, FILE_LIMITS.checkpoint, 'cannot read'), path); // parseCheckpoint verifies the hash
  } catch (e) {
    throw new UsageError(`${what} ${ref}: ${(e as Error).message}`);
  }
}

/** One line of scenarios/models/manifest.json: how a checkpoint was trained and what it scored. */
export interface ManifestEntry {
  name: string;
  file: string;
  hash: string;
  architecture: string;
  network: Record<string, unknown>;
  training: Record<string, unknown>;
  /** Mean WSR of the model (its T rounds, in process) / centralized WMMSE-100, on the validation instances (cell-free models: mean minimum rate / the optimal algorithm's, on their test instances; the command says). */
  validationRatio: number;
  validationInstances: number;
  trainedAt: string;
  command: string;
}

/**
 * The manifest of `dir` (none: no entries). One that is not a JSON list of entries with a name is a
 * UsageError naming it: `dmpemu train` reads it before training, not after.
 */
export function readManifest(dir: string): ManifestEntry[] {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) return [];
  let entries: unknown;
  try {
    entries = JSON.parse(readBoundedText(file, FILE_LIMITS.manifest, 'cannot read'));
  } catch (e) {
    throw new UsageError(`${file}: not a manifest (${(e as Error).message.split('\n')[0]})`);
  }
  if (!Array.isArray(entries) || !entries.every((x) => x !== null && typeof x === 'object' && typeof x.name === 'string'))
    throw new UsageError(`${file}: not a manifest (expected a JSON list of entries, each with a name)`);
  return entries as ManifestEntry[];
}

/** Add or replace the entry of `e.name` in the manifest of `dir`. */
export function updateManifest(dir: string, e: ManifestEntry): void {
  const file = join(dir, 'manifest.json');
  const entries = readManifest(dir);
  const next = entries.filter((x) => x.name !== e.name).concat(e).sort((a, b) => a.name.localeCompare(b.name));
  writeFileSync(`${file}.tmp`, JSON.stringify(next, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}
