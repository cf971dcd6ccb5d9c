import { chmodSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { readBounded } from './boundedRead.ts';
import { UsageError } from './usageError.ts';
import { formatIssues } from './zodIssues.ts';

/**
 * A host's credentials file (`dmpemu agents --creds <file>`, written by `dmpemu run
 * --external-agents` and `dmpemu nats-config`): the run and host it joins as, its agents, the run
 * secret that seals control messages, and its broker user when the broker requires one.
 */
export const credentialsSchema = z.strictObject({
  run: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  host: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  ids: z.string().regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/),
  secret: z.string().regex(/^[0-9a-f]{64}$/),
  user: z.string().optional(),
  password: z.string().optional(),
});
export type Credentials = z.infer<typeof credentialsSchema>;

export function writeCredentials(file: string, c: Credentials): void {
  writeFileSync(file, JSON.stringify(c, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
}

export function readCredentials(file: string): Credentials {
  const text = readBounded(file, { bytes: 64 * 1024, what: 'credentials files' }, '--creds: cannot read').toString('utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--creds ${file}: not valid JSON (${(e as Error).message})`);
  }
  const r = credentialsSchema.safeParse(data);
  if (!r.success) throw new UsageError(`--creds ${file}: ${formatIssues(r.error)}`);
  return r.data;
}
