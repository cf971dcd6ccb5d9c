import { constants } from 'node:buffer';
import { InstanceFormatError, parseInstanceFile, type InstanceFile } from '@dmpemu/wireless';
import { readBounded, tooLarge } from './boundedRead.ts';
import { instancePackr, isMsgpackPath } from './instanceFileWrite.ts';
import { FILE_LIMITS } from './limits.ts';
import { UsageError } from './usageError.ts';

/** A msgpack map starts with a fixmap (0x80-0x8f), map16 (0xde) or map32 (0xdf) byte; JSON text never does. */
const isMsgpackMap = (b: number | undefined): boolean => b !== undefined && ((b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf);

/**
 * Read and validate an instance file (dmpemu's format or ../shared/reference/'s): msgpack when the
 * name ends in .msgpack or the file starts like a msgpack map, else JSON; at most 512 MiB of JSON
 * (a larger one is told to use .msgpack) or about 4 GiB of msgpack.
 */
export function readInstancesFile(path: string, cannotRead = '--instances: cannot read'): InstanceFile {
  let msgpack = isMsgpackPath(path);
  const bytes = readBounded(
    path,
    (first) => {
      msgpack ||= isMsgpackMap(first);
      return msgpack ? FILE_LIMITS.instancesMsgpack : FILE_LIMITS.instancesJson;
    },
    cannotRead,
  );
  let data: unknown;
  if (msgpack) {
    try {
      data = instancePackr.unpack(bytes);
    } catch (e) {
      throw new UsageError(`${path}: not valid msgpack (${oneLine(e)})`);
    }
  } else {
    if (bytes.length > constants.MAX_STRING_LENGTH) throw tooLarge(path, { bytes: constants.MAX_STRING_LENGTH, what: FILE_LIMITS.instancesJson.what });
    try {
      data = JSON.parse(bytes.toString('utf8'));
    } catch (e) {
      throw new UsageError(`${path}: not valid JSON (${oneLine(e)})`);
    }
  }
  try {
    return parseInstanceFile(data, path);
  } catch (e) {
    if (e instanceof InstanceFormatError) throw new UsageError(e.message);
    throw e;
  }
}

const oneLine = (e: unknown): string => (e as Error).message.replace(/\s+/g, ' ');
