import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { Packr } from 'msgpackr';
import { FORMAT, instanceFileJsonChunks, type Instance, type ModelName } from '@dmpemu/wireless';
import { tooLarge, type FileLimit } from './boundedRead.ts';
import { FILE_LIMITS } from './limits.ts';
import { UsageError } from './usageError.ts';

/** msgpack with typed arrays kept typed (msgpackr's moreTypes), plain maps for objects. */
export const instancePackr = new Packr({ moreTypes: true, useRecords: false });

/** Whether `path` names the binary (msgpack) form of an instance file. */
export function isMsgpackPath(path: string): boolean {
  return /\.msgpack$/i.test(path);
}

export interface InstanceFileContent {
  model: ModelName;
  seed?: number | string;
  params?: Record<string, unknown>;
  /** Drawn lazily if the iterable is: only one instance is held at a time. */
  instances: Iterable<Instance>;
}

/**
 * Write an instance file as JSON or, when `path` ends in .msgpack, as msgpack (io.ts describes
 * both), with fs.writeSync piece by piece: no string or buffer ever holds the whole file. A file
 * over the size eval reads (FILE_LIMITS) is not finished: the partial file is removed and the
 * error is the one reading it would give. Returns the number of instances written.
 */
export function writeInstanceFile(path: string, file: InstanceFileContent): number {
  const msgpack = isMsgpackPath(path);
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (e) {
    throw new UsageError(`--out: cannot write ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const out = new Output(fd, path, msgpack ? FILE_LIMITS.instancesMsgpack : FILE_LIMITS.instancesJson);
  try {
    const n = msgpack ? writeMsgpack(out, file) : writeJson(out, file);
    out.flush();
    return n;
  } catch (e) {
    closeSync(fd);
    fd = -1;
    rmSync(path, { force: true });
    throw e;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** Buffered writeSync with a byte count checked against the limit of the file's kind. */
class Output {
  bytes = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  constructor(readonly fd: number, readonly path: string, readonly limit: FileLimit) {}

  /** `chunk` is written or copied before this returns (Packr reuses the buffer it packs into). */
  write(chunk: string | Uint8Array): void {
    const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    this.bytes += b.length;
    if (this.bytes > this.limit.bytes) throw tooLarge(this.path, this.limit);
    if (b.length >= 1 << 20) {
      this.flush();
      writeAll(this.fd, b);
      return;
    }
    this.pending.push(typeof chunk === 'string' ? (b as Buffer) : Buffer.from(b));
    this.pendingBytes += b.length;
    if (this.pendingBytes >= 1 << 20) this.flush();
  }

  flush(): void {
    if (this.pending.length) writeAll(this.fd, Buffer.concat(this.pending, this.pendingBytes));
    this.pending = [];
    this.pendingBytes = 0;
  }
}

function writeAll(fd: number, b: Uint8Array): void {
  for (let off = 0; off < b.length; ) off += writeSync(fd, b, off, b.length - off);
}

function writeJson(out: Output, file: InstanceFileContent): number {
  let n = 0;
  for (const chunk of instanceFileJsonChunks({ ...file, instances: counted(file.instances, () => n++) })) out.write(chunk);
  return n;
}

function* counted<T>(items: Iterable<T>, each: () => void): Generator<T> {
  for (const x of items) {
    each();
    yield x;
  }
}

/**
 * The msgpack form: one map `{ format, model, K, Nt, noise, pmax, seed?, params, instances }`
 * whose instances array is written instance by instance and field by field; its length (not
 * known before the instances are drawn) is patched into its array32 header at the end.
 */
function writeMsgpack(out: Output, file: InstanceFileContent): number {
  let n = 0;
  let lengthAt = -1;
  for (const inst of file.instances) {
    if (n === 0) {
      const header: Record<string, unknown> = { format: FORMAT, model: file.model, K: inst.K, Nt: inst.Nt, noise: inst.noise, pmax: inst.pmax };
      if (file.seed !== undefined) header.seed = file.seed;
      header.params = file.params ?? {};
      const keys = Object.keys(header);
      out.write(Uint8Array.of(0x80 | (keys.length + 1))); // fixmap: the header's keys and `instances`
      for (const k of keys) {
        out.write(instancePackr.pack(k));
        out.write(instancePackr.pack(header[k]));
      }
      out.write(instancePackr.pack('instances'));
      lengthAt = out.bytes + 1;
      out.write(Uint8Array.of(0xdd, 0, 0, 0, 0)); // array32, length patched below
    }
    const fields: [string, unknown][] = [['noise', inst.noise], ['pmax', inst.pmax], ['gain', inst.gain], ['weights', inst.weights]];
    if (inst.hRe && inst.hIm) fields.push(['hRe', inst.hRe], ['hIm', inst.hIm]);
    if (inst.tx && inst.rx) fields.push(['tx', inst.tx], ['rx', inst.rx]);
    if (inst.csi) fields.push(['csi', inst.csi]);
    out.write(Uint8Array.of(0x80 | fields.length));
    for (const [k, v] of fields) {
      out.write(instancePackr.pack(k));
      out.write(instancePackr.pack(v));
    }
    n++;
  }
  if (n === 0) throw new Error('writeInstanceFile: no instances');
  out.flush();
  const length = Buffer.alloc(4);
  length.writeUInt32BE(n);
  writeSync(out.fd, length, 0, 4, lengthAt);
  return n;
}
