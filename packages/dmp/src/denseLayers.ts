import type { WeightTensor } from './checkpoint.ts';

/**
 * out += x W for a kernel W [nIn, nOut] (row-major, y = x W): row by row, skipping zero entries of
 * x, each row unrolled by 4 (twice as fast in V8; the same sums in the same order as a plain loop).
 */
export function addRowsTimes(x: Float64Array, W: Float64Array, nIn: number, nOut: number, out: Float64Array): void {
  const n4 = nOut - (nOut % 4);
  for (let i = 0; i < nIn; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const row = i * nOut;
    let o = 0;
    for (; o < n4; o += 4) {
      out[o] += xi * W[row + o];
      out[o + 1] += xi * W[row + o + 1];
      out[o + 2] += xi * W[row + o + 2];
      out[o + 3] += xi * W[row + o + 3];
    }
    for (; o < nOut; o++) out[o] += xi * W[row + o];
  }
}

/**
 * A stack of dense layers in float64, y = x W + b per layer with kernels [in, out] (the
 * checkpoint layout), ReLU after every layer but the last, whose activation is given. Shared by
 * WCGCN's MLP1 and MLP2, PCGNN's output MLP and the MLP baseline. Not reentrant: it owns its scratch buffers.
 */
export class DenseLayers {
  readonly inputs: number;
  readonly outputs: number;
  private readonly widths: number[];
  private readonly kernels: Float64Array[] = [];
  private readonly biases: Float64Array[] = [];
  private readonly scratch: Float64Array[] = [];

  /** Layers `<prefix>.<l>.kernel` / `.bias` of `weights` for l = 0..widths.length - 2. */
  constructor(widths: number[], weights: Record<string, WeightTensor>, prefix: string, private readonly lastRelu: boolean) {
    this.widths = [...widths];
    this.inputs = widths[0];
    this.outputs = widths[widths.length - 1];
    for (let l = 0; l + 1 < widths.length; l++) {
      this.kernels.push(Float64Array.from(weights[`${prefix}.${l}.kernel`].data));
      this.biases.push(Float64Array.from(weights[`${prefix}.${l}.bias`].data));
      if (l + 2 < widths.length) this.scratch.push(new Float64Array(widths[l + 1]));
    }
  }

  /** out = layers(input); `out` has the last width (`input` itself when there are no layers). */
  forward(input: Float64Array, out: Float64Array): void {
    const L = this.kernels.length;
    if (L === 0) {
      out.set(input.subarray(0, out.length));
      return;
    }
    let x = input;
    for (let l = 0; l < L; l++) {
      const nIn = this.widths[l], nOut = this.widths[l + 1];
      const W = this.kernels[l], y = l + 1 === L ? out : this.scratch[l];
      const bias = this.biases[l];
      for (let o = 0; o < nOut; o++) y[o] = bias[o];
      addRowsTimes(x, W, nIn, nOut, y);
      if (l + 1 < L || this.lastRelu) for (let o = 0; o < nOut; o++) if (y[o] < 0) y[o] = 0;
      x = y;
    }
  }
}
