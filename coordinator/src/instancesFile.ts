import { InstanceFormatError, parseInstanceFile, type InstanceFile } from '@dmpemu/wireless';
import { readBoundedText } from './boundedRead.ts';
import { FILE_LIMITS } from './limits.ts';
import { UsageError } from './usageError.ts';

/** Read and validate an instance file (dmpemu's format or ../shared/reference/'s), at most 512 MiB. */
export function readInstancesFile(path: string): InstanceFile {
  const text = readBoundedText(path, FILE_LIMITS.instancesJson, '--instances: cannot read');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path}: not valid JSON (${oneLine(e)})`);
  }
  try {
    return parseInstanceFile(data, path);
  } catch (e) {
    if (e instanceof InstanceFormatError) throw new UsageError(e.message);
    throw e;
  }
}

const oneLine = (e: unknown): string => (e as Error).message.replace(/\s+/g, ' ');
