import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { compileGraph, loadCheckpoint, runInProcess, type Checkpoint, type MpnnArchitecture } from '@dmpemu/dmp';
import { objective } from '@dmpemu/wireless';
import { Coordinator } from '../coordinator/src/run/coordinator.ts';
import { readInstancesFile } from '../coordinator/src/scenario/instancesFile.ts';

const run = promisify(execFile);
const CLI = new URL('../bin/dmpemu.js', import.meta.url).pathname;
const FIX = new URL('./fixtures/igcnet/', import.meta.url).pathname;
/** IGCNet exported from PyTorch 1.13 with BatchNorm (one negative scale) and the powers PyTorch computes (make_fixture.py). */
const expected: number[][] = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')).powers;
const instances = [...readInstancesFile(join(FIX, 'instances-k10.json')).instances, ...readInstancesFile(join(FIX, 'instances-k8-partial.json')).instances];
const relErr = (a: ArrayLike<number>, b: ArrayLike<number>): number => Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i]) / Math.abs(b[i])));

describe('dmpemu import: a PyTorch model through ONNX', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmpemu-import-'));
  const out = join(dir, 'igcnet.json');

  it('imports IGCNet and gives PyTorch\'s powers to 1e-5, in process and decentralised over NATS (full and partial CSI)', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'import', join(FIX, 'igcnet.yaml'), '--out', out]);
    expect(stdout).toMatch(/^wrote .*igcnet\.json: mpnn, 3 rounds, max aggregation, state of 3, \d+ tensors \(hash [0-9a-f]{12}\)/);
    const c = loadCheckpoint(out) as Checkpoint<MpnnArchitecture>;
    expect(c.architecture.message[0].nodes.map((n) => n.op)).toContain('BatchNormalization'); // applied as the operator, not folded
    const inProcess = instances.map((inst) => runInProcess(inst, { name: 'mpnn', checkpoint: c }).outputs.map((o) => o[0]));
    inProcess.forEach((p, n) => expect(relErr(p, expected[n])).toBeLessThan(1e-5));
    const co = await Coordinator.start({ broker: inject('natsUrl') });
    try {
      await co.launch(10, 5);
      for (const [n, inst] of instances.entries()) {
        const r = await co.runJob(inst, { name: 'mpnn', checkpoint: c }, { roundDeadlineMs: 5000, policy: 'skip' });
        expect(r.outputs.map((o) => o[0])).toEqual(inProcess[n]); // decentralised = in process, bit for bit
        expect(r.rounds.at(-1)!.objective).toBe(objective(inst, { kind: 'power', p: Float64Array.from(inProcess[n]) }));
      }
    } finally {
      await co.shutdown();
    }
  });

  it('runs from the CLI and scenarios like a built-in: eval --algorithm mpnn --checkpoint', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'eval', '--instances', join(FIX, 'instances-k10.json'), '--algorithm', 'mpnn', '--checkpoint', out, '--json']);
    const r = JSON.parse(stdout);
    const c = loadCheckpoint(out);
    expect(r.rates).toEqual(instances.slice(0, 2).map((inst) => runInProcess(inst, { name: 'mpnn', checkpoint: c }).history.at(-1)));
  });

  it('refuses bad model files, ONNX files and operators in one line naming what was wrong', async () => {
    copyFileSync(join(FIX, 'message.onnx'), join(dir, 'message.onnx'));
    copyFileSync(join(FIX, 'update.onnx'), join(dir, 'update.onnx'));
    writeFileSync(join(dir, 'junk.onnx'), Buffer.from([0xff, 0xff, 0xff, 0x01]));
    copyFileSync(new URL('./fixtures/train-mode/message.onnx', import.meta.url).pathname, join(dir, 'train-mode.onnx')); // exported with TrainingMode.TRAINING (make_fixture.py there)
    // an ONNX file with an operator the interpreter does not run: the message graph's first Relu node made a Selu (NodeProto.op_type, field 4)
    const bytes = readFileSync(join(FIX, 'message.onnx'));
    const at = bytes.indexOf(Buffer.from('\x22\x04Relu', 'latin1'));
    writeFileSync(join(dir, 'selu.onnx'), Buffer.concat([bytes.subarray(0, at), Buffer.from('\x22\x04Selu', 'latin1'), bytes.subarray(at + 6)]));
    const base = readFileSync(join(FIX, 'igcnet.yaml'), 'utf8');
    let n = 0;
    const model = (...edits: [string, string][]): string => {
      const f = join(dir, `m${n++}.yaml`);
      writeFileSync(f, edits.reduce((s, [a, b]) => s.replace(a, b), base));
      return f;
    };
    const cases: [string, string | RegExp][] = [
      [model(['aggregation: max', 'aggregation: median']), 'invalid model file: aggregation: Invalid option: expected one of "sum"|"mean"|"max"'],
      [model(['output: { power: 2 }', 'output: { power: 3 }']), 'invalid model file: output.power: 3 is not an index of state (0..2)'],
      [model(['edge: [g_out, g_in]', 'edge: [g_out, g_jk]']), 'invalid model file: edge[1]: Invalid option: expected one of "g_in"|"g_out"'],
      [model(['message: message.onnx', 'message: junk.onnx']), new RegExp(`: message junk.onnx: ${join(dir, 'junk.onnx')} is not an ONNX model \\(invalid wire type`)],
      [model(['message: message.onnx', 'message: selu.onnx']), 'message selu.onnx: operator Selu (node 2 /mlp1/mlp1.0/mlp1.0.1/Relu) is not supported (supported: Gemm, MatMul, Add, Sub, Mul, Div, Relu, LeakyRelu, Sigmoid, Tanh, BatchNormalization, Concat, Slice, Gather, Identity, Flatten, Unsqueeze, Squeeze, Constant, Dropout)'],
      [model(['state: [direct, weight, 1]', 'state: [direct, weight]'], ['output: { power: 2 }', 'output: { power: 1 }']), 'mpnn: message graph: node 1 (Gemm -> /mlp1/mlp1.0/mlp1.0.0/Gemm_output_0): the input has 4 columns, B expects 5'],
      // before: "node 4 (Constant): attribute value: data type 9 is not supported", the bool of training_mode
      [model(['message: message.onnx', 'message: train-mode.onnx']), 'mpnn: message graph: node 5 (Dropout -> /mlp/mlp.2/Dropout_output_0): training-mode Dropout (training_mode true: it drops units at random): export the model in eval mode (model.eval(), and no training=TrainingMode.TRAINING in torch.onnx.export)'],
      [model(['update: update.onnx', 'update: message.onnx']), "mpnn: update graph: input \"x_j\" is not one of x, aggr_out (name the inputs with torch.onnx.export's input_names)"],
    ];
    for (const [f, why] of cases) {
      const r = await run(process.execPath, [CLI, 'import', f, '--out', join(dir, 'bad.json')]).then(() => ({ code: 0, stderr: '' }), (e) => ({ code: e.code, stderr: e.stderr as string }));
      expect([r.code, r.stderr.split('\n').length]).toEqual([2, 2]); // one line
      if (typeof why === 'string') expect(r.stderr).toBe(`dmpemu: ${f}: ${why}\n`);
      else expect(r.stderr).toMatch(why);
    }
    expect(existsSync(join(dir, 'bad.json'))).toBe(false);
  });

  it("reads a Gemm's alpha of 0 left off the wire (proto3 writers) as 0, not as the default 1, and refuses a NaN alpha (JSON would write null, read back as 1)", async () => {
    copyFileSync(join(FIX, 'update.onnx'), join(dir, 'update.onnx'));
    const bytes = readFileSync(join(FIX, 'message.onnx'));
    const alpha = Buffer.from('\x0a\x05alpha\x15', 'latin1'); // AttributeProto: name "alpha", then f (field 2, fixed32)
    const at = bytes.indexOf(alpha) + alpha.length - 1; // the tag of f, then its 4 bytes
    const variant = (name: string, edit: (b: Buffer) => void): string => {
      const b = Buffer.from(bytes);
      edit(b);
      writeFileSync(join(dir, `${name}.onnx`), b);
      const f = join(dir, `${name}.yaml`);
      writeFileSync(f, readFileSync(join(FIX, 'igcnet.yaml'), 'utf8').replace('message: message.onnx', `message: ${name}.onnx`));
      return f;
    };
    const imported = async (f: string): Promise<Checkpoint> => {
      await run(process.execPath, [CLI, 'import', f, '--out', join(dir, 'alpha.json')]);
      return loadCheckpoint(join(dir, 'alpha.json'));
    };
    const explicit = await imported(variant('alpha-0', (b) => b.writeFloatLE(0, at + 1)));
    const omitted = await imported(variant('alpha-omitted', (b) => (b[at] = 0x55))); // f's tag made an unknown field 10: no f, type FLOAT
    const gemm = (c: Checkpoint) => (c.architecture as MpnnArchitecture).message[0].nodes.find((n) => n.op === 'Gemm' && n.attrs.alpha !== undefined)!.attrs;
    expect(gemm(explicit).alpha).toBe(0);
    expect(gemm(omitted).alpha).toBe(0); // it was absent: Gemm ran with alpha = 1
    const powers = (c: Checkpoint) => runInProcess(instances[0], { name: 'mpnn', checkpoint: c }).outputs.map((o) => o[0]);
    expect(powers(omitted)).toEqual(powers(explicit));
    expect(relErr(powers(explicit), expected[0])).toBeGreaterThan(1e-3); // alpha = 0 is another model than PyTorch's
    const nan = variant('alpha-nan', (b) => b.writeFloatLE(NaN, at + 1));
    const r = await run(process.execPath, [CLI, 'import', nan, '--out', join(dir, 'nan.json')]).then(() => ({ code: 0, stderr: '' }), (e) => ({ code: e.code, stderr: e.stderr as string }));
    expect(r).toEqual({ code: 2, stderr: `dmpemu: ${nan}: message alpha-nan.onnx: node 1 (Gemm): attribute alpha is NaN (expected finite numbers)\n` });
    expect(existsSync(join(dir, 'nan.json'))).toBe(false);
    // --out that cannot be written: exit 2 naming it (it was exit 1 with the bare errno message)
    const r2 = await run(process.execPath, [CLI, 'import', join(FIX, 'igcnet.yaml'), '--out', join(dir, 'no', 'such', 'dir.json')]).then(() => ({ code: 0, stderr: '' }), (e) => ({ code: e.code, stderr: e.stderr as string }));
    expect(r2).toEqual({ code: 2, stderr: `dmpemu: --out: cannot write ${join(dir, 'no', 'such', 'dir.json')} (ENOENT)\n` });
  });

  it('the interpreter applies BatchNormalization as an operator: a negative scale flips the sign where folding into a max would not', () => {
    const weights: Record<string, { shape: number[]; data: Float64Array }> = {
      's': { shape: [2], data: Float64Array.of(-2, 1) }, 'b': { shape: [2], data: Float64Array.of(0.5, 0) },
      'm': { shape: [2], data: Float64Array.of(1, 0) }, 'v': { shape: [2], data: Float64Array.of(3, 1) },
    };
    const g = compileGraph({ inputs: ['x'], outputs: ['y'], nodes: [{ op: 'BatchNormalization', inputs: ['x', 's', 'b', 'm', 'v'], outputs: ['y'], attrs: { epsilon: 1 } }] }, [2], (n) => weights[n], 'bn');
    const [y] = g.run([Float64Array.of(3, 2)]);
    expect(Array.from(y)).toEqual([(-2 * (3 - 1)) / Math.sqrt(4) + 0.5, 2 / Math.sqrt(2)]);
  });
});
