import { readFileSync } from 'node:fs';
import { InstanceFormatError, parseInstanceFile, type InstanceFile } from '@dmpemu/wireless';
import { UsageError } from './usageError.ts';

/** Read and validate an instance file (dmpemu's format or ../shared/reference/'s). */
export function readInstancesFile(path: string): InstanceFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--instances: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  try {
    return parseInstanceFile(data, path);
  } catch (e) {
    if (e instanceof InstanceFormatError) throw new UsageError(e.message);
    throw e;
  }
}
