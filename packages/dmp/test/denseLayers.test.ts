import { describe, expect, it } from 'vitest';
import { Rng } from '@dmpemu/wireless';
import { readFileSync } from 'node:fs';
import { addRowsTimes, defaultDenseKernel, DenseLayers } from '../src/denseLayers.ts';
import type { WeightTensor } from '../src/checkpoint.ts';
import { compileDenseKernel, denseKernelModuleText } from '../scripts/buildDenseKernel.ts';

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

describe('DenseLayers on the WebAssembly kernel (denseKernel.wat)', () => {
  it('is what the runtime uses by default here (Node has WebAssembly SIMD)', () => {
    expect(defaultDenseKernel()).toBe('wasm');
    expect(new DenseLayers([3, 2], layerWeights(new Rng(1), [3, 2]), 'mlp', false).kernel).toBe('wasm');
  });

  it('gives the same floats as the JavaScript loop, layer widths around its blocks of 8, ReLU on or off at the end, zeros, -0 (inputs and sums), NaN and huge inputs', () => {
    const rng = new Rng(12);
    const stacks = [[5, 32, 32], [35, 16, 1], [12, 64, 64], [72, 32, 4], [7, 3], [4, 16], [9, 17, 9, 2], [1, 1], [64, 8, 24, 33]];
    for (const widths of stacks) {
      const weights = layerWeights(rng, widths);
      for (const lastRelu of [false, true]) {
        const wasm = new DenseLayers(widths, weights, 'mlp', lastRelu, 'wasm');
        const js = new DenseLayers(widths, weights, 'mlp', lastRelu, 'js');
        for (let n = 0; n < 20; n++) {
          const x = Float64Array.from({ length: widths[0] }, () => {
            if (n === 0) return 0; // y = b: the biases' -0 reaches the ReLU
            const u = rng.uniform();
            return u < 0.3 ? 0 : u < 0.33 ? -0 : u < 0.35 ? (n === 7 ? NaN : 1e300) : rng.normal() * 3;
          });
          const a = new Float64Array(widths[widths.length - 1]), b = new Float64Array(widths[widths.length - 1]);
          wasm.forward(x, a);
          js.forward(x, b);
          expect(Array.from(a).map((v) => (Object.is(v, -0) ? '-0' : v))).toEqual(Array.from(b).map((v) => (Object.is(v, -0) ? '-0' : v)));
        }
      }
    }
  });

  it('is built from denseKernel.wat: compiling the text again gives the committed binary', async () => {
    const bytes = await compileDenseKernel();
    expect(denseKernelModuleText(bytes)).toBe(readFileSync(new URL('../src/denseKernelWasm.ts', import.meta.url), 'utf8'));
  });
});

/** Weights `mlp.<l>.kernel` / `.bias` for a stack of widths, float32 values as checkpoints hold. */
function layerWeights(rng: Rng, widths: number[]): Record<string, WeightTensor> {
  const w: Record<string, WeightTensor> = {};
  for (let l = 0; l + 1 < widths.length; l++) {
    w[`mlp.${l}.kernel`] = { shape: [widths[l], widths[l + 1]], data: Float32Array.from({ length: widths[l] * widths[l + 1] }, () => rng.normal() / Math.sqrt(widths[l])) };
    w[`mlp.${l}.bias`] = { shape: [widths[l + 1]], data: Float32Array.from({ length: widths[l + 1] }, (_, o) => (o % 3 === 1 ? -0 : rng.normal() * 0.1)) };
  }
  return w;
}
