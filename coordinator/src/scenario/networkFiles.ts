/**
 * Networks read from instance files (a scenario's `networks[i].file`): the user's own data. The
 * file is read when the scenario is validated (model, K and the instance count come from it, its
 * sha256 is kept as `sha256`) and again when the network runs, where a file that changed since is
 * refused. A `sha256` written in the scenario pins the file.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { Instance } from '@dmpemu/wireless';
import { readInstancesFile } from './instancesFile.ts';
import { UsageError } from './usageError.ts';

/** What a network read from a file may say besides `file`. */
const FILE_NETWORK_KEYS = new Set(['name', 'file', 'instances', 'sha256', 'model', 'K']);

export function fileSha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * `data` with every `networks[i]` that names a `file` completed from it: model, K, instances (the
 * first `instances` of the file, default all) and sha256; paths relative to `dir` made absolute.
 */
export function withNetworkFiles(data: unknown, source: string, dir = '.'): unknown {
  const nets = (data as { networks?: unknown })?.networks;
  if (!Array.isArray(nets) || !nets.some((n) => n && typeof n === 'object' && 'file' in n)) return data;
  return {
    ...(data as object),
    networks: nets.map((n: Record<string, unknown>, i) => {
      if (!n || typeof n !== 'object' || !('file' in n)) return n;
      const at = `${source}: invalid scenario: networks[${i}]`;
      if (typeof n.file !== 'string' || !n.file) throw new UsageError(`${at}.file: expected the path of an instance file (dmpemu's JSON or msgpack, or the reference format)`);
      const extra = Object.keys(n).filter((k) => !FILE_NETWORK_KEYS.has(k));
      if (extra.length)
        throw new UsageError(`${at}: a network read from a file takes only name, file, instances and sha256 (the model, K and the channels come from the file), got ${extra.join(', ')}`);
      const path = resolvePath(dir, n.file);
      let file;
      try {
        file = readInstancesFile(path, 'cannot read');
      } catch (e) {
        throw new UsageError(`${at}.file: ${(e as Error).message}`);
      }
      for (const key of ['model', 'K'] as const)
        if (n[key] !== undefined && n[key] !== file[key]) throw new UsageError(`${at}.${key}: ${path} holds ${key} = ${file[key]}, the scenario says ${JSON.stringify(n[key])}`);
      const sha256 = fileSha256(path);
      if (n.sha256 !== undefined && n.sha256 !== sha256) throw new UsageError(`${at}.sha256: ${path} has sha256 ${sha256}, the scenario pins ${String(n.sha256)}`);
      const count = n.instances ?? file.instances.length;
      if (typeof count === 'number' && count > file.instances.length) throw new UsageError(`${at}.instances: ${path} holds ${file.instances.length} instance(s), asked for ${count}`);
      return { name: n.name ?? fileNetworkName(path), file: path, sha256, model: file.model, K: file.K, instances: count };
    }),
  };
}

/** A file network's default name: the file's base name, in the characters network names allow. */
function fileNetworkName(path: string): string {
  return path.replace(/^.*[\\/]/, '').replace(/\.(json|msgpack)$/i, '').replace(/[^A-Za-z0-9_.-]/g, '_') || 'file';
}

/** The first `count` instances of a network's file, refused when the file changed since the scenario was validated. */
export function readNetworkFile(n: { file: string; sha256?: string; instances: number; name?: string }): Instance[] {
  const now = fileSha256(n.file);
  if (n.sha256 && now !== n.sha256) throw new UsageError(`network ${n.name ?? n.file}: ${n.file} changed since the scenario was validated (sha256 ${now}, was ${n.sha256})`);
  return readInstancesFile(n.file).instances.slice(0, n.instances);
}
