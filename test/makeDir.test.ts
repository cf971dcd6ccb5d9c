import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeDir } from '../coordinator/src/scenario/makeDir.ts';
import { UsageError } from '../coordinator/src/scenario/usageError.ts';

describe('makeDir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmpemu-mkdir-'));

  it('creates the missing components one at a time, and accepts a directory that exists', () => {
    const d = join(dir, 'a', 'b', 'c');
    makeDir(d, 'outputs.dir');
    expect(statSync(d).isDirectory()).toBe(true);
    makeDir(d, 'outputs.dir');
  });

  it('under /proc fails in one line instead of hanging (Node\'s recursive mkdirSync never returns there)', () => {
    expect(() => makeDir('/proc/x/run-1', 'outputs.dir', '/proc/x')).toThrow(new UsageError('outputs.dir /proc/x: cannot create directory (ENOENT)'));
    expect(() => makeDir('/proc/x', 'output.dir')).toThrow(new UsageError('output.dir /proc/x: cannot create directory (ENOENT)'));
  });

  it('names the component that is a file', () => {
    const f = join(dir, 'file');
    writeFileSync(f, '');
    expect(() => makeDir(join(f, 'sub'), 'outputs.dir')).toThrow(new UsageError(`outputs.dir ${join(f, 'sub')}: cannot create directory ${f} (ENOTDIR)`));
  });
});
