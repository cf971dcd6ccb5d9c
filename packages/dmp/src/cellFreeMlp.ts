import { cellFreeV, type CellFreeInstance } from '@dmpemu/wireless';
import type { CellFreeMlpArchitecture, Checkpoint } from './checkpoint.ts';
import { DenseLayers } from './denseLayers.ts';
import { checkWeightShapes, denseWeightShapes } from './mlpInference.ts';

/** Widths of the cell-free MLP baseline: the M K inputs, the hidden layers, K outputs. */
export function cellFreeMlpWidths(a: CellFreeMlpArchitecture): number[] {
  return [a.M * a.K, ...a.hidden, a.K];
}

export function cellFreeMlpWeightShapes(a: CellFreeMlpArchitecture): Record<string, number[]> {
  return denseWeightShapes(cellFreeMlpWidths(a), 'mlp');
}

/**
 * The MLP baseline of Table IV (its reference [30], centralized): the M x K v_mk (10 log10, scaled
 * as features.cross, AP-major) -> ReLU hidden layers -> K sigmoids. It needs every v_mk, so it is
 * not a DMP, and it runs only on networks of exactly M APs and K users.
 */
export function cellFreeMlpPolicy(c: Checkpoint<CellFreeMlpArchitecture>): (inst: CellFreeInstance) => Float64Array {
  const a = c.architecture;
  checkWeightShapes('cell-free mlp checkpoint', c.weights, cellFreeMlpWeightShapes(a));
  const layers = new DenseLayers(cellFreeMlpWidths(a), c.weights, 'mlp', false);
  const f = a.features.cross;
  return (inst) => {
    if (inst.M !== a.M || inst.K !== a.K) throw new Error(`cell-free mlp: the checkpoint is for M = ${a.M}, K = ${a.K}; the network has M = ${inst.M}, K = ${inst.K}`);
    const v = cellFreeV(inst);
    const out = new Float64Array(a.K);
    layers.forward(Float64Array.from(v, (x) => (10 * Math.log10(x) - f.shift) / f.scale), out);
    return out.map((y) => 1 / (1 + Math.exp(-y)));
  };
}
