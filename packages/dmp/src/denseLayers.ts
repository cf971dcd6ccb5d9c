import type { WeightTensor } from './checkpoint.ts';

/** addRowsTimes' list of x's nonzero entries (row offsets and values), grown as needed; JS runs one call at a time. */
let rowAt = new Int32Array(64);
let rowX = new Float64Array(64);

/**
 * out += x W for a kernel W [nIn, nOut] (row-major, y = x W), skipping zero entries of x (ReLU
 * inputs are about half zeros). Eight outputs at a time are summed in registers over x's nonzero
 * entries (1.7x the row-by-row loop at 32 x 32 in V8, which loads and stores out[o] per product);
 * each out[o] still gets out[o] + x_0 W_0o + x_1 W_1o + ... in that order: the same floats as a plain loop.
 */
export function addRowsTimes(x: Float64Array, W: Float64Array, nIn: number, nOut: number, out: Float64Array): void {
  if (rowAt.length < nIn) {
    rowAt = new Int32Array(nIn);
    rowX = new Float64Array(nIn);
  }
  const at = rowAt, xs = rowX;
  let nz = 0;
  for (let i = 0; i < nIn; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    at[nz] = i * nOut;
    xs[nz++] = xi;
  }
  let o = 0;
  for (; o + 8 <= nOut; o += 8) {
    let a0 = out[o], a1 = out[o + 1], a2 = out[o + 2], a3 = out[o + 3], a4 = out[o + 4], a5 = out[o + 5], a6 = out[o + 6], a7 = out[o + 7];
    for (let n = 0; n < nz; n++) {
      const xi = xs[n], r = at[n] + o;
      a0 += xi * W[r];
      a1 += xi * W[r + 1];
      a2 += xi * W[r + 2];
      a3 += xi * W[r + 3];
      a4 += xi * W[r + 4];
      a5 += xi * W[r + 5];
      a6 += xi * W[r + 6];
      a7 += xi * W[r + 7];
    }
    out[o] = a0;
    out[o + 1] = a1;
    out[o + 2] = a2;
    out[o + 3] = a3;
    out[o + 4] = a4;
    out[o + 5] = a5;
    out[o + 6] = a6;
    out[o + 7] = a7;
  }
  for (; o < nOut; o++) {
    let a = out[o];
    for (let n = 0; n < nz; n++) a += xs[n] * W[at[n] + o];
    out[o] = a;
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
