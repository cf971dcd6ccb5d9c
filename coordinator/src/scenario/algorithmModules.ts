import { existsSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { buildSync } from 'esbuild';
import { sha256Hex, type ModuleCode } from '@dmpemu/dmp';
import { UsageError } from './usageError.ts';

const bundles = new Map<string, ModuleCode>();

/** The label an own algorithm gets by default: its file name without the extension. */
export function moduleLabel(path: string): string {
  return basename(path, extname(path));
}

/**
 * An own algorithm's module bundled into one ES module with everything it imports but Node's
 * built-ins (esbuild: already here through tsx, and it bundles TypeScript too), with its sha256:
 * what the coordinator ships to the agents, so that machines without the file can run it. Bundled
 * once per process and path; `what` names the key or flag in errors.
 */
export function bundleModule(path: string, what: string): ModuleCode {
  const cached = bundles.get(path);
  if (cached) return cached;
  if (!existsSync(path)) throw new UsageError(`${what} ${path}: no such file`);
  if (!/\.(ts|mts|js|mjs)$/.test(path)) throw new UsageError(`${what} ${path}: expected a .ts, .mts, .js or .mjs module`);
  let code: string;
  try {
    const r = buildSync({ entryPoints: [path], bundle: true, format: 'esm', platform: 'node', target: 'node20', write: false, logLevel: 'silent', legalComments: 'none' });
    code = r.outputFiles[0].text;
  } catch (e) {
    const errors = (e as { errors?: { text: string; location?: { file: string; line: number } }[] }).errors;
    const first = errors?.[0];
    throw new UsageError(`${what} ${path}: does not build: ${first ? `${first.text}${first.location ? ` (${first.location.file}:${first.location.line})` : ''}` : (e as Error).message.split('\n')[0]}`);
  }
  if (code.length > 4 * 1024 * 1024) throw new UsageError(`${what} ${path}: bundled to ${(code.length / 1024 / 1024).toFixed(1)} MiB, more than the 4 MiB an agent accepts`);
  const m: ModuleCode = { code, sha256: sha256Hex(code), label: moduleLabel(path) };
  bundles.set(path, m);
  return m;
}
