/**
 * Turn the weights a PyTorch script wrote in dmpemu's layout (`weights.json`: architecture,
 * weights by dmpemu's names with kernels [in, out], training, metrics; see wcgcn_rayleigh.py and wcgcn_miso.py) into
 * a hashed dmpemu checkpoint, checked against the architecture as every checkpoint is.
 * Usage: node --import tsx examples/pytorch/weights-to-checkpoint.ts <weights.json> <checkpoint.json>
 * A file that is not that layout is refused in one line naming the field (exit 2); nothing is written.
 */
import { readFileSync } from 'node:fs';
import { assertCheckpoint, createAlgorithm, makeCheckpoint, saveCheckpoint, type CheckpointArchitecture } from '@dmpemu/dmp';

const isRecord = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);

/** The checkpoint the weights file describes; throws one line naming what is wrong. */
function convert(from: string): ReturnType<typeof makeCheckpoint> {
  let w: unknown;
  try {
    w = JSON.parse(readFileSync(from, 'utf8'));
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    throw new Error(`${from}: cannot read it as JSON (${why}${/NaN|Infinity/.test(why) ? '; NaN and Infinity are not JSON: did the training diverge?' : ''})`);
  }
  if (!isRecord(w) || !isRecord(w.weights) || !isRecord(w.architecture)) throw new Error(`${from}: expected an object with architecture, weights, training and metrics`);
  const weights: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of Object.entries(w.weights)) {
    if (!isRecord(t) || !Array.isArray(t.shape) || !t.shape.every((n) => Number.isInteger(n) && n >= 0)) throw new Error(`${from}: weights.${name}.shape must be a list of non-negative integers`);
    const size = (t.shape as number[]).reduce((a, b) => a * b, 1);
    // every value a JSON number: null (what JSON.stringify writes for NaN), true or "1.5" would become 0, 1 or 1.5
    if (!Array.isArray(t.data) || t.data.length !== size) throw new Error(`${from}: weights.${name}.data must list ${size} numbers (shape ${JSON.stringify(t.shape)})`);
    const bad = t.data.findIndex((x) => typeof x !== 'number');
    if (bad >= 0) throw new Error(`${from}: weights.${name}.data[${bad}] must be a number, got ${JSON.stringify(t.data[bad])}`);
    weights[name] = { shape: t.shape as number[], data: Float32Array.from(t.data as number[]) };
  }
  const c = makeCheckpoint({ architecture: w.architecture as unknown as CheckpointArchitecture, weights, training: isRecord(w.training) ? w.training : {}, metrics: isRecord(w.metrics) ? w.metrics : {} });
  assertCheckpoint(c, from); // the architecture's structure, finite weights
  try {
    createAlgorithm({ name: c.architecture.kind, checkpoint: c }, (c.architecture as { Nt?: number }).Nt ?? 1); // the shapes fit the architecture (a beamforming WCGCN on its Nt)
  } catch (e) {
    throw new Error(`${from}: ${(e as Error).message}`);
  }
  return c;
}

const [from, to] = process.argv.slice(2);
if (!from || !to) {
  console.error('usage: weights-to-checkpoint.ts <weights.json> <checkpoint.json>');
  process.exit(2);
}
try {
  const c = convert(from);
  saveCheckpoint(to, c);
  console.log(`wrote ${to} (${c.architecture.kind}, hash ${c.hash.slice(0, 12)})`);
} catch (e) {
  console.error(`weights-to-checkpoint: ${(e as Error).message.split('\n')[0]}`);
  process.exit(2);
}
