import { mkdtempSync, readFileSync, renameSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateInstance, instanceFileToJson, Rng, type Instance } from '@dmpemu/wireless';
import { generate } from '../coordinator/src/commands/generate.ts';
import { readInstancesFile } from '../coordinator/src/scenario/instancesFile.ts';

const dir = mkdtempSync(join(tmpdir(), 'dmpemu-files-'));
const bytes = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Every field equal, typed arrays of the same type holding the same bytes. */
function expectSame(a: Instance, b: Instance): void {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const [k, v] of Object.entries(a)) {
    const w = (b as unknown as Record<string, unknown>)[k];
    if (ArrayBuffer.isView(v)) {
      expect(w?.constructor, k).toBe(v.constructor);
      expect(bytes(v).equals(bytes(w as ArrayBufferView)), k).toBe(true);
    } else expect(w, k).toBe(v);
  }
}

describe('instance files written by generate', () => {
  it('JSON is written in pieces, byte-equal to JSON.stringify of the whole file', () => {
    const out = join(dir, 'small.json');
    const options = { K: 6, csiRange: 300, weighted: true };
    generate({ model: 'd2d', count: 3, seed: 4, out, ...options });
    const instances = Array.from({ length: 3 }, (_, n) => generateInstance('d2d', Rng.derive(4, n), options));
    expect(readFileSync(out, 'utf8')).toBe(JSON.stringify(instanceFileToJson({ model: 'd2d', seed: 4, params: options, instances })));
  });

  it('a K = 5000 d2d instance (its JSON would be over 512 MiB; JSON.stringify failed from K = 4900) round-trips as .msgpack, typed arrays identical', () => {
    const out = join(dir, 'k5000.msgpack');
    const options = { K: 5000, field: 10000, csiRange: 300 };
    expect(generate({ model: 'd2d', count: 1, seed: 9, out, ...options })).toBe(`wrote 1 d2d instance(s) with K=5000 to ${out}`);
    expect(statSync(out).size).toBeLessThan(5000 * 5000 * 9 + 1e6); // gain as float64, csi as bytes
    const file = readInstancesFile(out);
    expect(file).toMatchObject({ model: 'd2d', K: 5000, seed: 9, params: options });
    expectSame(file.instances[0], generateInstance('d2d', Rng.derive(9, 0), options));
  }, 120_000);

  it('a msgpack file is recognised by its first byte whatever its name; MISO beams stay typed', () => {
    const out = join(dir, 'miso.msgpack');
    generate({ model: 'miso', count: 2, seed: 1, out, K: 4, Nt: 3 });
    renameSync(out, join(dir, 'miso.bin'));
    const file = readInstancesFile(join(dir, 'miso.bin'));
    file.instances.forEach((inst, n) => expectSame(inst, generateInstance('miso', Rng.derive(1, n), { K: 4, Nt: 3 })));
  });
});
