import * as tf from '@tensorflow/tfjs';
import type { TfModel } from './model.ts';

/**
 * Adam's state by weight name (TF.js names variables by creation order, so a restored model's
 * variables have other names): the step count and the first and second moments m, v.
 * Kept beside a checkpoint so that `--resume` continues the same optimisation.
 */
export interface AdamState {
  iterations: number;
  moments: Record<string, { m: number[]; v: number[] }>;
}

/** The optimizer's state for the model's weights (none before the first step). */
export async function adamState(optimizer: tf.AdamOptimizer, m: TfModel): Promise<AdamState | undefined> {
  const [iter, ...acc] = await optimizer.getWeights();
  if (acc.length === 0) return undefined;
  const byVariable = new Map<string, string>([...m.weights].map(([name, v]) => [v.name, name]));
  const n = acc.length / 2;
  const moments: AdamState['moments'] = {};
  for (let i = 0; i < n; i++) {
    const name = byVariable.get(acc[i].name.replace(/\/m$/, '')); // moments are named <variable>/m, <variable>/v
    if (name === undefined) throw new Error(`adamState: the optimizer holds moments of ${acc[i].name}, not a weight of this model`);
    moments[name] = { m: Array.from(acc[i].tensor.dataSync()), v: Array.from(acc[n + i].tensor.dataSync()) };
  }
  return { iterations: iter.tensor.dataSync()[0], moments };
}

/**
 * Give the optimizer `state` for the model's weights, in the order `vars` lists them (Adam matches
 * moments to gradients by position). Throws when a weight has no moments or another size.
 */
export async function restoreAdamState(optimizer: tf.AdamOptimizer, vars: readonly tf.Variable[], m: TfModel, state: AdamState): Promise<void> {
  const nameOf = new Map<tf.Variable, string>([...m.weights].map(([name, v]) => [v, name]));
  const first: { name: string; tensor: tf.Tensor }[] = [], second: { name: string; tensor: tf.Tensor }[] = [];
  for (const v of vars) {
    const name = nameOf.get(v)!;
    const s = state.moments[name];
    if (!s || s.m.length !== v.size || s.v.length !== v.size) throw new Error(`restoreAdamState: no moments of size ${v.size} for weight ${name}`);
    first.push({ name: `${v.name}/m`, tensor: tf.tensor(s.m, v.shape) });
    second.push({ name: `${v.name}/v`, tensor: tf.tensor(s.v, v.shape) });
  }
  await optimizer.setWeights([{ name: 'iter', tensor: tf.scalar(state.iterations, 'int32') }, ...first, ...second]);
  tf.dispose([...first, ...second].map((t) => t.tensor));
}
