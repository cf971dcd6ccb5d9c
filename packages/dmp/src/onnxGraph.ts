/**
 * A small interpreter of the ONNX operators that `torch.onnx.export` writes for MLP-style
 * modules, on typed arrays: what an imported message-passing GNN (`mpnn`) runs on every agent.
 * It runs one row at a time (one neighbour's message, one node's update), so every tensor the
 * graph computes is a row vector [1, C]; constants (initializers and Constant nodes: weights,
 * Slice bounds, Gather indices) are folded when the graph is compiled, and the per-call work is a
 * fixed list of steps on buffers allocated once. BatchNormalization is applied as the operator it
 * is (y = scale (x - mean) / sqrt(var + eps) + B), so its scale may have any sign.
 */
import type { WeightTensor } from './checkpoint.ts';

/** One node of an ONNX graph, as dmpemu stores it in a checkpoint (plain JSON). */
export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Attributes: numbers, lists of numbers or strings (tensors become constants at import). */
  attrs: Record<string, number | number[] | string>;
}

/** A graph: named inputs (fed as rows), the nodes in order and the outputs; initializers live in the checkpoint's weights under `<prefix>/<name>`. */
export interface OnnxGraph {
  inputs: string[];
  outputs: string[];
  nodes: OnnxNode[];
}

/** The operators the interpreter runs (anything else is refused by name at import). */
export const ONNX_OPERATORS = ['Gemm', 'MatMul', 'Add', 'Sub', 'Mul', 'Div', 'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'BatchNormalization', 'Concat', 'Slice', 'Gather', 'Identity', 'Flatten', 'Unsqueeze', 'Squeeze', 'Constant', 'Dropout'] as const;

/** A compile-time constant (row-major) or a row the graph computes at run time. */
type Value = { kind: 'const'; shape: number[]; data: Float64Array } | { kind: 'row'; buf: Float64Array };

/** A compiled graph: `run` takes one row per input (in `inputs` order) and returns the output rows (views on internal buffers: copy before the next call). */
export interface CompiledGraph {
  inputWidths: number[];
  outputWidths: number[];
  run(rows: Float64Array[]): Float64Array[];
}

const fail = (where: string, why: string): never => {
  throw new Error(`${where}: ${why}`);
};

const numAttr = (n: OnnxNode, key: string, dflt: number): number => {
  const v = n.attrs[key];
  return typeof v === 'number' ? v : dflt;
};
const listAttr = (n: OnnxNode, key: string): number[] | undefined => {
  const v = n.attrs[key];
  return Array.isArray(v) ? v : typeof v === 'number' ? [v] : undefined;
};

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Compile `g` for rows of `inputWidths` (input i is a [1, inputWidths[i]] row); `weight(name)`
 * gives an initializer. Errors name the graph (`where`), the node and what does not fit.
 */
export function compileGraph(g: OnnxGraph, inputWidths: number[], weight: (name: string) => WeightTensor | undefined, where: string): CompiledGraph {
  if (g.inputs.length !== inputWidths.length) fail(where, `the graph has ${g.inputs.length} inputs (${g.inputs.join(', ')}), expected ${inputWidths.length}`);
  const values = new Map<string, Value>();
  g.inputs.forEach((name, i) => values.set(name, { kind: 'row', buf: new Float64Array(inputWidths[i]) }));
  const inputBufs = g.inputs.map((name) => (values.get(name) as { buf: Float64Array }).buf);
  const steps: (() => void)[] = [];
  for (const [index, n] of g.nodes.entries()) {
    const at = `${where}: node ${index} (${n.op}${n.outputs[0] ? ` -> ${n.outputs[0]}` : ''})`;
    const get = (i: number): Value | undefined => {
      const name = n.inputs[i];
      if (name === undefined || name === '') return undefined;
      const v = values.get(name);
      if (v) return v;
      const w = weight(name);
      if (!w) return fail(at, `input ${JSON.stringify(name)} is neither an earlier output nor an initializer`);
      const c: Value = { kind: 'const', shape: w.shape, data: Float64Array.from(w.data) };
      values.set(name, c);
      return c;
    };
    const need = (i: number): Value => get(i) ?? fail(at, `input ${i} is missing`);
    const constOf = (i: number, what: string): { shape: number[]; data: Float64Array } => {
      const v = need(i);
      return v.kind === 'const' ? v : fail(at, `${what} must be a constant (an initializer or a Constant node)`);
    };
    const rowOf = (i: number): Float64Array => {
      const v = need(i);
      if (v.kind === 'row') return v.buf;
      // a constant row [1, C] or [C] takes part like a computed one
      if (v.shape.length <= 2 && (v.shape.length < 2 || v.shape[0] === 1)) return v.data;
      return fail(at, `input ${i} is a constant of shape [${v.shape.join(', ')}] where a row [1, C] was expected`);
    };
    const out = (v: Value): void => void values.set(n.outputs[0], v);
    const row = (width: number): Float64Array => {
      const buf = new Float64Array(width);
      out({ kind: 'row', buf });
      return buf;
    };
    const allConst = n.inputs.filter((s) => s !== '').every((_, i) => get(i)?.kind === 'const');
    switch (n.op) {
      case 'Constant': {
        const t = n.attrs.value_tensor;
        if (typeof t !== 'string') fail(at, 'a Constant needs its value (value, value_float, value_int, value_floats or value_ints)');
        const w = weight(t as string) ?? fail(at, `its value ${t} is missing from the weights`);
        out({ kind: 'const', shape: w.shape, data: Float64Array.from(w.data) });
        break;
      }
      case 'Dropout': {
        // eval mode: the identity; training_mode (input 2) true drops units at random
        const mode = n.inputs[2] ? get(2) : undefined;
        const evalMode = 'export the model in eval mode (model.eval(), and no training=TrainingMode.TRAINING in torch.onnx.export)';
        if (mode?.kind === 'const' && mode.data.some((x) => x !== 0)) fail(at, `training-mode Dropout (training_mode true: it drops units at random): ${evalMode}`);
        if (mode && mode.kind !== 'const') fail(at, `a Dropout whose training_mode is computed: ${evalMode}`);
        if (n.outputs[1]) fail(at, `training-mode Dropout (its mask is an output, as opsets before 12 export it): ${evalMode}`);
        values.set(n.outputs[0], need(0));
        break;
      }
      case 'Identity':
        values.set(n.outputs[0], need(0));
        break;
      case 'Flatten': {
        const v = need(0);
        if (v.kind === 'const') out({ ...v, shape: [v.shape[0] ?? 1, size(v.shape.slice(1))] });
        else values.set(n.outputs[0], v);
        break;
      }
      case 'Unsqueeze':
      case 'Squeeze': {
        // rows stay rows ([1, C] <-> [C] for one agent); constants get their shape changed
        const v = need(0);
        const axes = listAttr(n, 'axes') ?? (n.inputs[1] ? Array.from(constOf(1, 'axes').data) : []);
        if (v.kind === 'row') values.set(n.outputs[0], v);
        else if (n.op === 'Unsqueeze') {
          const shape = [...v.shape];
          for (const a of [...axes].sort((x, y) => x - y)) shape.splice(a < 0 ? shape.length + a + 1 : a, 0, 1);
          out({ ...v, shape });
        } else out({ ...v, shape: v.shape.filter((d, i) => d !== 1 || (axes.length > 0 && !axes.includes(i) && !axes.includes(i - v.shape.length))) });
        break;
      }
      case 'Gemm': {
        const x = rowOf(0);
        const B = constOf(1, 'B (the weight)');
        if (numAttr(n, 'transA', 0) !== 0) fail(at, 'transA = 1 is not supported (the input is a row)');
        if (B.shape.length !== 2) fail(at, `B has shape [${B.shape.join(', ')}], expected 2 dimensions`);
        const transB = numAttr(n, 'transB', 0) !== 0;
        const [inW, outW] = transB ? [B.shape[1], B.shape[0]] : [B.shape[0], B.shape[1]];
        if (x.length !== inW) fail(at, `the input has ${x.length} columns, B expects ${inW}`);
        const alpha = numAttr(n, 'alpha', 1), beta = numAttr(n, 'beta', 1);
        const C = get(2);
        const c = C === undefined ? undefined : C.kind === 'const' ? C.data : fail(at, 'C (the bias) must be a constant');
        if (c && c.length !== outW && c.length !== 1) fail(at, `C has ${c.length} values, expected ${outW}`);
        const y = row(outW);
        const W = B.data;
        steps.push(() => {
          for (let o = 0; o < outW; o++) {
            let s = 0;
            if (transB) for (let i = 0, r = o * inW; i < inW; i++) s += x[i] * W[r + i];
            else for (let i = 0; i < inW; i++) s += x[i] * W[i * outW + o];
            y[o] = alpha * s + (c ? beta * c[c.length === 1 ? 0 : o] : 0);
          }
        });
        break;
      }
      case 'MatMul': {
        const x = rowOf(0);
        const B = constOf(1, 'the second operand');
        if (B.shape.length !== 2 || B.shape[0] !== x.length) fail(at, `[1, ${x.length}] x [${B.shape.join(', ')}] does not multiply`);
        const outW = B.shape[1], W = B.data, inW = x.length;
        const y = row(outW);
        steps.push(() => {
          for (let o = 0; o < outW; o++) {
            let s = 0;
            for (let i = 0; i < inW; i++) s += x[i] * W[i * outW + o];
            y[o] = s;
          }
        });
        break;
      }
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div': {
        if (allConst) fail(at, 'arithmetic on constants only is not supported (export with constant folding)');
        const a = rowOf(0), b = rowOf(1);
        const w = Math.max(a.length, b.length);
        if ((a.length !== w && a.length !== 1) || (b.length !== w && b.length !== 1)) fail(at, `operands of ${a.length} and ${b.length} columns do not broadcast`);
        const y = row(w);
        const ia = a.length === 1 ? 0 : 1, ib = b.length === 1 ? 0 : 1;
        const f = n.op === 'Add' ? (p: number, q: number) => p + q : n.op === 'Sub' ? (p: number, q: number) => p - q : n.op === 'Mul' ? (p: number, q: number) => p * q : (p: number, q: number) => p / q;
        steps.push(() => {
          for (let i = 0; i < w; i++) y[i] = f(a[i * ia], b[i * ib]);
        });
        break;
      }
      case 'Relu':
      case 'LeakyRelu':
      case 'Sigmoid':
      case 'Tanh': {
        const x = rowOf(0);
        const y = row(x.length);
        const alpha = numAttr(n, 'alpha', 0.01);
        const f =
          n.op === 'Relu' ? (v: number) => (v > 0 ? v : 0) : n.op === 'LeakyRelu' ? (v: number) => (v >= 0 ? v : alpha * v) : n.op === 'Sigmoid' ? (v: number) => 1 / (1 + Math.exp(-v)) : Math.tanh;
        steps.push(() => {
          for (let i = 0; i < x.length; i++) y[i] = f(x[i]);
        });
        break;
      }
      case 'BatchNormalization': {
        if (n.outputs.filter((o) => o !== '').length > 1) fail(at, 'training-mode BatchNormalization (running statistics as outputs): export the model in eval mode');
        const x = rowOf(0);
        const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => constOf(i, ['scale', 'B', 'mean', 'var'][i - 1]).data);
        for (const [name, v] of [['scale', scale], ['B', bias], ['mean', mean], ['var', variance]] as const) if (v.length !== x.length) fail(at, `${name} has ${v.length} values, the input ${x.length} channels`);
        const eps = numAttr(n, 'epsilon', 1e-5);
        const y = row(x.length);
        const k = scale.map((s, i) => s / Math.sqrt(variance[i] + eps));
        steps.push(() => {
          for (let i = 0; i < x.length; i++) y[i] = k[i] * (x[i] - mean[i]) + bias[i];
        });
        break;
      }
      case 'Concat': {
        const axis = numAttr(n, 'axis', 1);
        if (axis !== 1 && axis !== -1) fail(at, `axis ${axis}: only the feature axis (1 or -1) is supported`);
        const parts = n.inputs.map((_, i) => rowOf(i));
        const y = row(parts.reduce((s, p) => s + p.length, 0));
        steps.push(() => {
          let o = 0;
          for (const p of parts) y.set(p, (o += p.length) - p.length);
        });
        break;
      }
      case 'Slice': {
        const x = rowOf(0);
        const take = (attr: string, i: number): number[] | undefined => listAttr(n, attr) ?? (n.inputs[i] ? Array.from(constOf(i, attr).data) : undefined);
        const starts = take('starts', 1) ?? fail(at, 'starts are missing'), ends = take('ends', 2) ?? fail(at, 'ends are missing');
        const axes = take('axes', 3) ?? starts.map((_, i) => i), steps_ = take('steps', 4) ?? starts.map(() => 1);
        let lo = 0, hi = x.length;
        axes.forEach((a, i) => {
          if (steps_[i] !== 1) fail(at, `step ${steps_[i]}: only step 1 is supported`);
          if (a === 0 || a === -2) return; // the one row: rows 0..1 of 1
          if (a !== 1 && a !== -1) fail(at, `axis ${a}: a row has axes 0 and 1`);
          const clamp = (v: number): number => Math.min(x.length, Math.max(0, v < 0 ? x.length + v : v));
          lo = clamp(starts[i]);
          hi = clamp(ends[i]);
        });
        const y = row(Math.max(0, hi - lo));
        steps.push(() => y.set(x.subarray(lo, Math.max(lo, hi))));
        break;
      }
      case 'Gather': {
        const x = rowOf(0);
        const axis = numAttr(n, 'axis', 0);
        if (axis !== 1 && axis !== -1) fail(at, `axis ${axis}: only gathering features (axis 1) is supported`);
        const idx = Array.from(constOf(1, 'indices').data).map((v) => (v < 0 ? x.length + v : v));
        if (idx.some((v) => !Number.isInteger(v) || v < 0 || v >= x.length)) fail(at, `indices ${JSON.stringify(idx)} out of range for ${x.length} columns`);
        const y = row(idx.length);
        steps.push(() => {
          for (let i = 0; i < idx.length; i++) y[i] = x[idx[i]];
        });
        break;
      }
      default:
        fail(at, `operator ${n.op} is not supported (supported: ${ONNX_OPERATORS.join(', ')})`);
    }
  }
  const outs = g.outputs.map((name) => {
    const v = values.get(name) ?? fail(where, `output ${JSON.stringify(name)} is computed by no node`);
    return v.kind === 'row' ? v.buf : v.data;
  });
  return {
    inputWidths,
    outputWidths: outs.map((o) => o.length),
    run(rows) {
      rows.forEach((r, i) => inputBufs[i].set(r));
      for (const s of steps) s();
      return outs;
    },
  };
}
