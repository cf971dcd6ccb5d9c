import { describe, expect, it } from 'vitest';
import { Rng } from '@dmpemu/wireless';
import { addRowsTimes } from '../src/denseLayers.ts';

describe('addRowsTimes: out += x W', () => {
  it('gives the floats of a plain loop (out[o] + x_0 W_0o + x_1 W_1o + ..., zero entries skipped) for widths around its blocks of 8', () => {
    const rng = new Rng(11);
    for (const [nIn, nOut] of [[5, 32], [32, 32], [35, 16], [7, 3], [100, 17], [1, 1]]) {
      const x = Float64Array.from({ length: nIn }, () => (rng.uniform() < 0.4 ? 0 : rng.normal()));
      const W = Float64Array.from({ length: nIn * nOut }, () => rng.normal());
      const start = Float64Array.from({ length: nOut }, () => rng.normal());
      const plain = Float64Array.from(start);
      for (let o = 0; o < nOut; o++) for (let i = 0; i < nIn; i++) if (x[i] !== 0) plain[o] += x[i] * W[i * nOut + o];
      const out = Float64Array.from(start);
      addRowsTimes(x, W, nIn, nOut, out);
      expect(Array.from(out)).toEqual(Array.from(plain));
    }
  });
});
