import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { formatBytes } from './limits.ts';
import { UsageError } from './usageError.ts';

export interface FileLimit {
  bytes: number;
  /** What such files are called: `the limit for <what>`. */
  what: string;
}

/** The one-line error of a file over its limit: `<file>: larger than 1 MiB (the limit for scenario files)`. */
export function tooLarge(path: string, limit: FileLimit): UsageError {
  return new UsageError(`${path}: larger than ${formatBytes(limit.bytes)} (the limit for ${limit.what})`);
}

/**
 * The bytes of a file the user named, at most `limit.bytes`: it reads no more than limit + 1 bytes,
 * so /dev/zero or a FIFO (whose size stat reports as 0) cannot fill the memory. `limit` may depend
 * on the file's first byte (undefined for an empty file). `cannotRead` starts the error of a file
 * that cannot be opened or read: `<cannotRead> <path> (ENOENT)`.
 */
export function readBounded(path: string, limitOf: FileLimit | ((first: number | undefined) => FileLimit), cannotRead: string): Buffer {
  const failed = (e: unknown): UsageError => new UsageError(`${cannotRead} ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw failed(e);
  }
  try {
    const read = (into: Buffer, at: number): number => {
      try {
        return readSync(fd, into, at, into.length - at, null);
      } catch (e) {
        throw failed(e);
      }
    };
    const first = Buffer.alloc(1);
    let total = typeof limitOf === 'function' ? read(first, 0) : 0;
    const limit = typeof limitOf === 'function' ? limitOf(total ? first[0] : undefined) : limitOf;
    const st = fstatSync(fd);
    if (st.isFile() && st.size > limit.bytes) throw tooLarge(path, limit);
    let buf = Buffer.allocUnsafe(Math.max(total, Math.min(st.isFile() ? st.size + 1 : 1 << 16, limit.bytes + 1)));
    if (total) buf[0] = first[0];
    for (;;) {
      if (total === buf.length) {
        if (total > limit.bytes) throw tooLarge(path, limit);
        const grown = Buffer.allocUnsafe(Math.min(2 * buf.length, limit.bytes + 1));
        buf.copy(grown, 0, 0, total);
        buf = grown;
      }
      const n = read(buf, total);
      if (n === 0) return buf.subarray(0, total);
      total += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** readBounded as UTF-8 text. */
export function readBoundedText(path: string, limit: FileLimit, cannotRead: string): string {
  return readBounded(path, limit, cannotRead).toString('utf8');
}
