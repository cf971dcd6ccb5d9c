import type { WeightTensor } from './checkpoint.ts';
import { DENSE_KERNEL_WASM } from './denseKernelWasm.ts';

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

type ForwardFn = (table: number, L: number, nzAt: number, nzX: number) => void;

let kernelModule: WebAssembly.Module | null | undefined;

/** The compiled denseKernel.wat, or null where WebAssembly SIMD is not available (then the JS loop runs). */
function denseKernelModule(): WebAssembly.Module | null {
  if (kernelModule === undefined) {
    const bytes = Buffer.from(DENSE_KERNEL_WASM, 'base64');
    kernelModule = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return kernelModule;
}

/** Which dense kernel a DenseLayers runs: `wasm` (denseKernel.wat, the default where it loads) or `js` (addRowsTimes). Both give the same floats. */
export type DenseKernel = 'wasm' | 'js';

let chosenKernel: DenseKernel | undefined;

/** The kernel DenseLayers use when not told: wasm where WebAssembly SIMD is available (or what setDefaultDenseKernel chose). */
export function defaultDenseKernel(): DenseKernel {
  return chosenKernel ?? (denseKernelModule() ? 'wasm' : 'js');
}

/** Make `kernel` the default of DenseLayers built from now on (undefined: back to the runtime's best); `npm run bench inference` times both. */
export function setDefaultDenseKernel(kernel: DenseKernel | undefined): void {
  chosenKernel = kernel;
}

/** A DenseLayers' own WebAssembly instance: kernels, biases and activations in its memory (byte offsets). */
interface WasmLayers {
  forward: ForwardFn;
  f64: Float64Array;
  /** The layer table (seven i32 per layer: x, W, b, nIn, nOut, y, relu), byte offset. */
  table: number;
  /** Where the input and the output sit (f64 slots). */
  input: number;
  output: number;
  nzAt: number;
  nzX: number;
}

/**
 * A stack of dense layers in float64, y = x W + b per layer with kernels [in, out] (the
 * checkpoint layout), ReLU after every layer but the last, whose activation is given. Shared by
 * WCGCN's MLP1 and MLP2, PCGNN's output MLP and the MLP baseline. Runs on denseKernel.wat
 * (WebAssembly SIMD) where it loads, else on addRowsTimes: the same floats either way (tested).
 * Not reentrant: it owns its scratch buffers.
 */
export class DenseLayers {
  readonly inputs: number;
  readonly outputs: number;
  readonly kernel: DenseKernel;
  private readonly widths: number[];
  private readonly kernels: Float64Array[] = [];
  private readonly biases: Float64Array[] = [];
  private readonly scratch: Float64Array[] = [];
  private readonly wasm: WasmLayers | undefined;

  /** Layers `<prefix>.<l>.kernel` / `.bias` of `weights` for l = 0..widths.length - 2. */
  constructor(widths: number[], weights: Record<string, WeightTensor>, prefix: string, private readonly lastRelu: boolean, kernel: DenseKernel = defaultDenseKernel()) {
    this.widths = [...widths];
    this.inputs = widths[0];
    this.outputs = widths[widths.length - 1];
    for (let l = 0; l + 1 < widths.length; l++) {
      this.kernels.push(Float64Array.from(weights[`${prefix}.${l}.kernel`].data));
      this.biases.push(Float64Array.from(weights[`${prefix}.${l}.bias`].data));
      if (l + 2 < widths.length) this.scratch.push(new Float64Array(widths[l + 1]));
    }
    const module = kernel === 'wasm' ? denseKernelModule() : null;
    if (kernel === 'wasm' && !module) throw new Error('DenseLayers: the wasm kernel needs WebAssembly SIMD, which this runtime lacks (use the js kernel)');
    this.kernel = kernel;
    if (module && this.kernels.length > 0) this.wasm = this.place(new WebAssembly.Instance(module, {}));
  }

  /** Lay the kernels, biases, activations, x's nonzero list and the layer table out in the instance's memory (f64 slots). */
  private place(instance: WebAssembly.Instance): WasmLayers {
    let at = 0;
    const take = (n: number): number => {
      const start = at;
      at += n + (n & 1); // 16-byte aligned
      return start;
    };
    const L = this.kernels.length;
    const kernels = this.kernels.map((k) => take(k.length));
    const biases = this.biases.map((b) => take(b.length));
    const acts = this.widths.map((w) => take(w)); // activation l is the input of layer l
    const widest = Math.max(...this.widths);
    const nzX = take(widest);
    const nzAt = take(Math.ceil(widest / 2)); // i32 row offsets
    const table = take(Math.ceil((7 * L) / 2));
    const memory = instance.exports.memory as WebAssembly.Memory;
    const bytes = at * 8;
    if (bytes > memory.buffer.byteLength) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
    const f64 = new Float64Array(memory.buffer);
    const i32 = new Int32Array(memory.buffer);
    for (let l = 0; l < L; l++) {
      f64.set(this.kernels[l], kernels[l]);
      f64.set(this.biases[l], biases[l]);
      const relu = l + 1 < L || this.lastRelu ? 1 : 0;
      i32.set([acts[l] * 8, kernels[l] * 8, biases[l] * 8, this.widths[l], this.widths[l + 1], acts[l + 1] * 8, relu], table * 2 + 7 * l);
    }
    return { forward: instance.exports.forward as ForwardFn, f64, table: table * 8, input: acts[0], output: acts[L], nzAt: nzAt * 8, nzX: nzX * 8 };
  }

  /** out = layers(input); `out` has the last width (`input` itself when there are no layers). */
  forward(input: Float64Array, out: Float64Array): void {
    const L = this.kernels.length;
    if (L === 0) {
      out.set(input.subarray(0, out.length));
      return;
    }
    const w = this.wasm;
    if (w) {
      // copied by hand: a few numbers, where set() and subarray() would allocate and call
      const f64 = w.f64;
      for (let i = 0, n = this.inputs, at = w.input; i < n; i++) f64[at + i] = input[i];
      w.forward(w.table, L, w.nzAt, w.nzX);
      for (let o = 0, n = this.outputs, at = w.output; o < n; o++) out[o] = f64[at + o];
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
