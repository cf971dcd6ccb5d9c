/**
 * `dmpemu import <model.yaml> --out <checkpoint.json>`: a message-passing GNN exported from
 * PyTorch (the per-edge message network and the per-node update network of a PyG-style
 * MessagePassing layer, each with torch.onnx.export) becomes a hashed dmpemu checkpoint of kind
 * `mpnn` that agents run decentralised (mpnnDmp.ts, on the ONNX interpreter of onnxGraph.ts).
 * ONNX files are protobuf: they are decoded here with protobufjs from the few messages of
 * onnx.proto the import reads (field numbers as in onnx/onnx), so agents never parse protobuf.
 */
import { createHash } from 'node:crypto';
import { basename, dirname, resolve as resolvePath } from 'node:path';
import protobuf from 'protobufjs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { createAlgorithm, makeCheckpoint, MPNN_EDGE_FEATURES, MPNN_NODE_FEATURES, ONNX_OPERATORS, runInProcess, saveCheckpoint, type Checkpoint, type MpnnArchitecture, type OnnxGraph, type OnnxNode, type WeightTensor } from '@dmpemu/dmp';
import { rayleighInstance, Rng } from '@dmpemu/wireless';
import { readBounded, readBoundedText } from '../scenario/boundedRead.ts';
import { FILE_LIMITS, nameSchema } from '../scenario/limits.ts';
import { UsageError } from '../scenario/usageError.ts';
import { formatIssues } from '../scenario/zodIssues.ts';

/** The part of onnx.proto an import reads (onnx/onnx, onnx.proto; unknown fields are skipped). */
const ONNX_PROTO = `
syntax = "proto3";
package onnx;
message ModelProto { int64 ir_version = 1; repeated OperatorSetIdProto opset_import = 8; string producer_name = 2; string producer_version = 3; GraphProto graph = 7; }
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
message GraphProto { repeated NodeProto node = 1; string name = 2; repeated TensorProto initializer = 5; repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12; }
message ValueInfoProto { string name = 1; }
message NodeProto { repeated string input = 1; repeated string output = 2; string name = 3; string op_type = 4; string domain = 7; repeated AttributeProto attribute = 5; }
message AttributeProto { string name = 1; int32 type = 20; float f = 2; int64 i = 3; bytes s = 4; TensorProto t = 5; GraphProto g = 6; repeated float floats = 7; repeated int64 ints = 8; repeated bytes strings = 9; }
message TensorProto { repeated int64 dims = 1; int32 data_type = 2; repeated float float_data = 4; repeated int32 int32_data = 5; repeated int64 int64_data = 7; string name = 8; bytes raw_data = 9; repeated double double_data = 10; int32 data_location = 14; }
`;
const ModelProto = protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');

/** AttributeProto.AttributeType values (onnx.proto). */
const ATTRIBUTE_FLOAT = 1, ATTRIBUTE_INT = 2, ATTRIBUTE_FLOATS = 6, ATTRIBUTE_INTS = 7;

/** TensorProto.DataType values the import reads. */
const DTYPES: Record<number, { name: string; bytes: number; read: (v: DataView, o: number) => number }> = {
  1: { name: 'float32', bytes: 4, read: (v, o) => v.getFloat32(o, true) },
  6: { name: 'int32', bytes: 4, read: (v, o) => v.getInt32(o, true) },
  7: { name: 'int64', bytes: 8, read: (v, o) => Number(v.getBigInt64(o, true)) },
  11: { name: 'float64', bytes: 8, read: (v, o) => v.getFloat64(o, true) },
  9: { name: 'bool', bytes: 1, read: (v, o) => v.getUint8(o) }, // Dropout's training_mode
};

/** A model file (model.yaml): the two ONNX networks and what the export cannot say. */
const modelSchema = z.strictObject({
  name: nameSchema,
  description: z.string().optional(),
  message: z.union([z.string(), z.array(z.string()).min(1)]),
  update: z.union([z.string(), z.array(z.string()).min(1)]),
  aggregation: z.enum(['sum', 'mean', 'max']),
  rounds: z.number().int().positive().max(10_000),
  state: z.array(z.union([z.number(), z.enum(MPNN_NODE_FEATURES)])).min(1),
  edge: z.array(z.enum(MPNN_EDGE_FEATURES)),
  output: z.strictObject({ power: z.number().int().nonnegative() }),
  /** The amplitudes' scaling as in training: (T(g) - shift) / scale; default linear, shift 0, scale 1. */
  features: z
    .strictObject({
      transform: z.enum(['linear', 'db', 'log1p']),
      direct: z.strictObject({ shift: z.number(), scale: z.number().refine((s) => s !== 0, 'scale must not be 0') }),
      cross: z.strictObject({ shift: z.number(), scale: z.number().refine((s) => s !== 0, 'scale must not be 0') }),
    })
    .optional(),
});

interface Decoded {
  graph: OnnxGraph;
  weights: Record<string, WeightTensor>;
  sha256: string;
}

const long = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'object' && v !== null && 'toNumber' in v ? (v as { toNumber(): number }).toNumber() : Number(v));

/** The values of a TensorProto as numbers (float32 kept as Float32Array: the weights stay exact). */
function tensorValues(t: Record<string, unknown>, where: string): WeightTensor {
  const shape = ((t.dims as unknown[]) ?? []).map(long);
  const type = t.data_type as number;
  const dt = DTYPES[type] ?? fail(where, `data type ${type} is not supported (float32, float64, int32, int64, bool)`);
  if (t.data_location === 1) fail(where, 'external data is not supported (export with the weights inside the file)');
  const n = shape.reduce((a, b) => a * b, 1);
  const raw = t.raw_data as Uint8Array | undefined;
  let values: number[];
  if (raw && raw.length) {
    if (raw.length !== n * dt.bytes) fail(where, `raw data of ${raw.length} bytes, shape [${shape.join(', ')}] of ${dt.name} needs ${n * dt.bytes}`);
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    values = Array.from({ length: n }, (_, i) => dt.read(v, i * dt.bytes));
  } else {
    const field = type === 1 ? 'float_data' : type === 6 || type === 9 ? 'int32_data' : type === 7 ? 'int64_data' : 'double_data';
    values = ((t[field] as unknown[]) ?? []).map(long);
    if (values.length !== n) fail(where, `${values.length} values, shape [${shape.join(', ')}] needs ${n}`);
  }
  return { shape, data: type === 1 ? Float32Array.from(values) : Float64Array.from(values) };
}

function fail(where: string, why: string): never {
  throw new UsageError(`${where}: ${why}`);
}

/** Decode one ONNX file into a graph and its weights (initializers and Constant values) under `prefix/`. */
export function decodeOnnx(path: string, prefix: string, label: string): Decoded {
  const bytes = readBounded(path, FILE_LIMITS.onnx, `${label}: cannot read`);
  let model: Record<string, unknown>;
  try {
    model = ModelProto.toObject(ModelProto.decode(bytes), { defaults: false, arrays: true }) as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(`${label}: ${path} is not an ONNX model (${(e as Error).message.split('\n')[0]})`);
  }
  const g = model.graph as Record<string, unknown> | undefined;
  if (!g || !Array.isArray(g.node) || g.node.length === 0) fail(label, `${path} has no graph`);
  const weights: Record<string, WeightTensor> = {};
  const inits = new Set<string>();
  for (const t of (g.initializer as Record<string, unknown>[]) ?? []) {
    const name = String(t.name);
    weights[`${prefix}/${name}`] = tensorValues(t, `${label}: initializer ${name}`);
    inits.add(name);
  }
  const nodes: OnnxNode[] = (g.node as Record<string, unknown>[]).map((n, i) => {
    const op = String(n.op_type);
    const at = `${label}: node ${i} (${op})`;
    if (n.domain && n.domain !== 'ai.onnx') fail(at, `operator domain ${n.domain} is not supported (the default ONNX domain only)`);
    if (!(ONNX_OPERATORS as readonly string[]).includes(op)) fail(label, `operator ${op} (node ${i}${n.name ? ` ${n.name}` : ''}) is not supported (supported: ${ONNX_OPERATORS.join(', ')})`);
    const attrs: OnnxNode['attrs'] = {};
    const outputs = ((n.output as string[]) ?? []).map(String);
    for (const a of (n.attribute as Record<string, unknown>[]) ?? []) {
      const key = String(a.name);
      if (a.t !== undefined) {
        const name = `const/${outputs[0]}`;
        weights[`${prefix}/${name}`] = tensorValues(a.t as Record<string, unknown>, `${at}: attribute ${key}`);
        attrs.value_tensor = name;
      } else if (a.g !== undefined) fail(at, `attribute ${key} is a subgraph (control flow is not supported)`);
      else if (a.floats !== undefined && (a.floats as unknown[]).length) attrs[key] = (a.floats as number[]).map(Number);
      else if (a.ints !== undefined && (a.ints as unknown[]).length) attrs[key] = (a.ints as unknown[]).map(long);
      else if (a.s !== undefined) attrs[key] = Buffer.from(a.s as Uint8Array).toString('utf8');
      else if (a.i !== undefined) attrs[key] = long(a.i);
      else if (a.f !== undefined) attrs[key] = Number(a.f);
      else if (a.type === ATTRIBUTE_FLOAT || a.type === ATTRIBUTE_INT) attrs[key] = 0; // proto3 writers leave a 0 off the wire: not the operator's default
      else if (a.type === ATTRIBUTE_FLOATS || a.type === ATTRIBUTE_INTS) attrs[key] = [];
      const v = attrs[key];
      const bad = (Array.isArray(v) ? v : [v]).find((x) => typeof x === 'number' && !Number.isFinite(x));
      if (bad !== undefined) fail(at, `attribute ${key} is ${bad} (expected finite numbers)`); // JSON would write it as null, read back as the default
    }
    // Constant's value_float / value_int / value_floats / value_ints become a constant tensor too
    if (op === 'Constant' && attrs.value_tensor === undefined) {
      const v = attrs.value_float ?? attrs.value_int ?? attrs.value_floats ?? attrs.value_ints;
      if (v === undefined || typeof v === 'string') fail(at, 'a Constant needs a value (value, value_float, value_int, value_floats or value_ints)');
      const list = Array.isArray(v) ? v : [v as number];
      const name = `const/${outputs[0]}`;
      weights[`${prefix}/${name}`] = { shape: Array.isArray(v) ? [list.length] : [], data: Float64Array.from(list) };
      attrs.value_tensor = name;
    }
    return { op, inputs: ((n.input as string[]) ?? []).map(String), outputs, attrs };
  });
  const inputs = ((g.input as Record<string, unknown>[]) ?? []).map((v) => String(v.name)).filter((name) => !inits.has(name));
  const outputs = ((g.output as Record<string, unknown>[]) ?? []).map((v) => String(v.name));
  return { graph: { inputs, outputs, nodes }, weights, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Read and check model.yaml (one-line errors naming the key), decode its ONNX files, build and check the checkpoint. */
export function importModel(file: string): Checkpoint<MpnnArchitecture> {
  let data: unknown;
  try {
    data = parseYaml(readBoundedText(file, FILE_LIMITS.modelFile, 'cannot read model file'));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${file}: not valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  const r = modelSchema.safeParse(data);
  if (!r.success) throw new UsageError(`${file}: invalid model file: ${formatIssues(r.error)}`);
  const m = r.data;
  const dir = dirname(resolvePath(file));
  const files = (k: 'message' | 'update'): string[] => (typeof m[k] === 'string' ? [m[k] as string] : (m[k] as string[]));
  for (const k of ['message', 'update'] as const)
    if (files(k).length !== 1 && files(k).length !== m.rounds) throw new UsageError(`${file}: invalid model file: ${k}: one file (shared by the rounds) or ${m.rounds} (one per round), got ${files(k).length}`);
  if (m.output.power >= m.state.length) throw new UsageError(`${file}: invalid model file: output.power: ${m.output.power} is not an index of state (0..${m.state.length - 1})`);
  const weights: Record<string, WeightTensor> = {};
  const source: Record<string, string> = { model: basename(file) };
  const graphs = (k: 'message' | 'update'): OnnxGraph[] =>
    files(k).map((f, i) => {
      const d = decodeOnnx(resolvePath(dir, f), `${k}.${i}`, `${file}: ${k}${files(k).length > 1 ? `[${i}]` : ''} ${f}`);
      Object.assign(weights, d.weights);
      source[f] = d.sha256;
      return d.graph;
    });
  const architecture: MpnnArchitecture = {
    kind: 'mpnn',
    task: 'power',
    layers: m.rounds,
    state: m.state,
    edge: m.edge,
    aggregation: m.aggregation,
    output: m.output,
    message: graphs('message'),
    update: graphs('update'),
    source,
    features: m.features ?? { transform: 'linear', direct: { shift: 0, scale: 1 }, cross: { shift: 0, scale: 1 } },
  };
  const c = makeCheckpoint({ architecture, weights, training: { importedFrom: basename(file), ...(m.description ? { description: m.description } : {}) }, metrics: {} });
  try {
    createAlgorithm({ name: 'mpnn', checkpoint: c }); // compiles both graphs: shapes and operators fit
    const out = runInProcess(rayleighInstance(new Rng('import'), { K: 4, snrDb: 10 }), { name: 'mpnn', checkpoint: c }).outputs;
    if (!out.every((o) => o.every(Number.isFinite))) throw new Error(`the model's output is not finite on a test network (p = ${out.map((o) => o[0]).join(', ')})`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${file}: ${(e as Error).message}`);
  }
  return c;
}

/** `dmpemu import`: returns the line to print. */
export function importCommand(file: string, out: string): string {
  const c = importModel(file);
  try {
    saveCheckpoint(out, c);
  } catch (e) {
    throw new UsageError(`--out: cannot write ${out} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const a = c.architecture;
  return `wrote ${out}: mpnn, ${a.layers} rounds, ${a.aggregation} aggregation, state of ${a.state.length}, ${Object.keys(c.weights).length} tensors (hash ${c.hash.slice(0, 12)}); run it with --algorithm mpnn --checkpoint ${out}`;
}
