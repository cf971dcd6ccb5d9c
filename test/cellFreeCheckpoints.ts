/** Cell-free checkpoints with random weights for the tests of cell-free scenarios (M = 8 APs, K = 4 users for the MLP). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cfPcgnnWeightShapes, cellFreeMlpWeightShapes, hetgnnWeightShapes, makeCheckpoint, serializeCheckpoint, type CellFreeMlpArchitecture, type CfPcgnnArchitecture, type Checkpoint, type HetgnnArchitecture } from '@dmpemu/dmp';
import { Rng } from '@dmpemu/wireless';

const features = { transform: 'db', direct: { shift: 0, scale: 1 }, cross: { shift: -60, scale: 10 } } as const;

/** A checkpoint with random weights (seeded) for `a`, written to `dir`; returns its path. */
function randomCheckpoint(dir: string, file: string, a: CfPcgnnArchitecture | HetgnnArchitecture | CellFreeMlpArchitecture, shapes: Record<string, number[]>, seed: number): string {
  const rng = new Rng(seed);
  const weights: Checkpoint['weights'] = {};
  for (const [name, shape] of Object.entries(shapes)) weights[name] = { shape, data: Float32Array.from({ length: shape.reduce((p, q) => p * q, 1) }, () => rng.normal() / Math.sqrt(shape[0])) };
  const path = join(dir, file);
  writeFileSync(path, serializeCheckpoint(makeCheckpoint({ architecture: a, weights, training: { note: 'random weights (test)' }, metrics: {} } as Parameters<typeof makeCheckpoint>[0])));
  return path;
}

/** A CF-PCGNN (2 layers), a HetGNN (3 layers) and an MLP for M = 8, K = 4, written to `dir`: their paths. */
export function cellFreeCheckpoints(dir: string): { CF: string; HET: string; MLP: string } {
  const cfPcgnn: CfPcgnnArchitecture = { kind: 'cf-pcgnn', task: 'power', layers: 2, hidden: 8, head: [4], aggregation: 'mean', features };
  const hetgnn: HetgnnArchitecture = { kind: 'hetgnn', task: 'power', layers: 3, hidden: 8, head: [4], aggregation: 'mean', features };
  const mlp: CellFreeMlpArchitecture = { kind: 'cf-mlp', task: 'power', M: 8, K: 4, hidden: [16], features };
  return {
    CF: randomCheckpoint(dir, 'cf.json', cfPcgnn, cfPcgnnWeightShapes(cfPcgnn), 1),
    HET: randomCheckpoint(dir, 'het.json', hetgnn, hetgnnWeightShapes(hetgnn), 2),
    MLP: randomCheckpoint(dir, 'mlp.json', mlp, cellFreeMlpWeightShapes(mlp), 3),
  };
}
