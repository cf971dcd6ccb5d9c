/**
 * Turn the weights a PyTorch script wrote in dmpemu's layout (`weights.json`: architecture,
 * weights by dmpemu's names with kernels [in, out], training, metrics; see wcgcn_rayleigh.py and wcgcn_miso.py) into
 * a hashed dmpemu checkpoint, checked against the architecture as every checkpoint is.
 * Usage: node --import tsx examples/pytorch/weights-to-checkpoint.ts <weights.json> <checkpoint.json>
 */
import { readFileSync } from 'node:fs';
import { createAlgorithm, makeCheckpoint, saveCheckpoint, type Checkpoint, type CheckpointArchitecture } from '@dmpemu/dmp';

const [from, to] = process.argv.slice(2);
if (!from || !to) throw new Error('usage: weights-to-checkpoint.ts <weights.json> <checkpoint.json>');
const w = JSON.parse(readFileSync(from, 'utf8')) as {
  architecture: CheckpointArchitecture;
  weights: Record<string, { shape: number[]; data: number[] }>;
  training: Record<string, unknown>;
  metrics: Record<string, unknown>;
};
const weights = Object.fromEntries(Object.entries(w.weights).map(([name, t]) => [name, { shape: t.shape, data: Float32Array.from(t.data) }]));
const c = makeCheckpoint({ architecture: w.architecture, weights, training: w.training, metrics: w.metrics }) as Checkpoint;
createAlgorithm({ name: c.architecture.kind, checkpoint: c }, (c.architecture as { Nt?: number }).Nt ?? 1); // the shapes fit the architecture (a beamforming WCGCN on its Nt)
saveCheckpoint(to, c);
console.log(`wrote ${to} (${c.architecture.kind}, hash ${c.hash.slice(0, 12)})`);
