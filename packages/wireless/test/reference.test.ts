import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { objective, parseInstanceFile, wmmsePower } from '../src/index.ts';
import { REFERENCE_DIR } from '../../../test/referenceDir.ts';

const refDir = new URL(`file://${REFERENCE_DIR}/`);
const files = readdirSync(refDir).filter((f) => f.endsWith('.json'));

describe('reference instances', () => {
  for (const name of files) {
    it(name, () => {
      const raw = JSON.parse(readFileSync(new URL(name, refDir), 'utf8'));
      const file = parseInstanceFile(raw, name);
      file.instances.forEach((inst, n) => {
        const p = wmmsePower(inst, { iterations: 100 });
        const ref = raw.instances[n].wmmse100.rate;
        const got = objective(inst, { kind: 'power', p });
        expect(Math.abs(got - ref) / ref, `${name} #${n}: ${got} vs ${ref}`).toBeLessThan(1e-9);
      });
    });
  }
});
