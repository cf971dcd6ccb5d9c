import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './usageError.ts';

/**
 * Create `dir` and its missing parents one component at a time (non-recursive mkdir: Node's
 * recursive mkdirSync never returns under /proc). A component that cannot be created, or exists
 * and is not a directory, is a UsageError naming `label` and `base`, the directory the user gave
 * (default `dir`): `outputs.dir /proc/x: cannot create directory (ENOENT)`.
 */
export function makeDir(dir: string, label: string, base = dir): void {
  const target = resolve(dir);
  const missing: string[] = [];
  for (let d = target; ; d = dirname(d)) {
    const kind = statKind(d);
    if (kind === 'dir') break;
    if (kind === 'other') throw failure(label, base, d, 'ENOTDIR');
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && statKind(d) === 'dir') continue;
      throw failure(label, base, d, code ?? (e as Error).message);
    }
  }
}

function statKind(path: string): 'dir' | 'other' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'other';
  } catch {
    return 'missing';
  }
}

function failure(label: string, base: string, at: string, code: string): UsageError {
  const where = resolve(at) === resolve(base) ? '' : ` ${at}`;
  return new UsageError(`${label} ${base}: cannot create directory${where} (${code})`);
}
