import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARED_REFERENCE_DIR } from './referenceDir.ts';

const COPY = new URL('./reference/', import.meta.url).pathname;

describe('test/reference is an exact copy of ../shared/reference', () => {
  it.runIf(existsSync(SHARED_REFERENCE_DIR))('same files, same bytes', () => {
    const shared = readdirSync(SHARED_REFERENCE_DIR).sort();
    expect(readdirSync(COPY).sort()).toEqual(shared);
    for (const f of shared) expect(readFileSync(join(COPY, f)).equals(readFileSync(join(SHARED_REFERENCE_DIR, f))), f).toBe(true);
  });

  it('holds the five reference instance files', () => {
    expect(readdirSync(COPY).filter((f) => f.endsWith('.json'))).toHaveLength(5);
  });
});
