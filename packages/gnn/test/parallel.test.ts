import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateInstance, Rng, type Instance } from '@dmpemu/wireless';
import { ensureBackend, fitFeatureScaling, GradientPool, modelKindImpl, splitBatch, toCheckpoint, train, disposeModel, type ModelKind, type TfModel } from '../src/index.ts';

const rayleigh = (rng: Rng): Instance => generateInstance('rayleigh-ic', rng, { K: 8, snrDb: 10 });
const miso = (rng: Rng): Instance => generateInstance('miso', rng, { K: 8, Nt: 2, field: 150, dmin: 2, dmax: 40 });

let pool: GradientPool;
beforeAll(async () => {
  await ensureBackend();
  pool = new GradientPool(2);
});
afterAll(() => pool.close());

/** The in-process gradient of the mean loss over the whole batch, by weight name, and that loss. */
function inProcess(kind: ModelKind, model: TfModel, insts: Instance[]): { loss: number; grads: Map<string, Float32Array> } {
  const vars = [...model.weights.values()];
  const { value, grads } = tf.variableGrads(() => modelKindImpl(kind).loss(model, insts), vars);
  const out = new Map([...model.weights].map(([name, v]) => [name, grads[v.name].dataSync() as Float32Array]));
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads)]);
  return { loss, grads: out };
}

describe('data-parallel gradient workers (parallel.ts)', () => {
  it('splitBatch: contiguous parts differing by at most one, in order, none empty', () => {
    expect(splitBatch([1, 2, 3, 4, 5, 6, 7], 2)).toEqual([[1, 2, 3], [4, 5, 6, 7]]);
    expect(splitBatch([1, 2, 3], 3)).toEqual([[1], [2], [3]]);
    expect(splitBatch([1], 2)).toEqual([[1]]);
  });

  const cases: [string, ModelKind, (rng: Rng) => Instance, 'db' | 'log1p'][] = [
    ['WCGCN power control', 'wcgcn', rayleigh, 'db'],
    ['WCGCN beamforming (miso, Nt = 2)', 'wcgcn', miso, 'log1p'],
    ['MLP', 'mlp', rayleigh, 'db'],
  ];
  for (const [what, kind, draw, transform] of cases) {
    it(`${what}: the size-weighted mean of the workers' gradients (parts of 3 and 4) is the whole batch's gradient to 1e-5`, async () => {
      const rng = new Rng(`parallel-${what}`);
      const insts = Array.from({ length: 7 }, () => draw(rng));
      const impl = modelKindImpl(kind);
      const model = impl.create({}, fitFeatureScaling(insts, transform), insts[0], rng);
      try {
        const ref = inProcess(kind, model, insts);
        const got = await pool.gradients(model, insts);
        expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-5 * Math.abs(ref.loss));
        expect([...got.grads.keys()]).toEqual([...ref.grads.keys()]);
        for (const [name, g] of ref.grads) {
          const scale = g.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
          const diff = got.grads.get(name)!.reduce((m, x, i) => Math.max(m, Math.abs(x - g[i])), 0);
          expect(diff, name).toBeLessThanOrEqual(1e-5 * scale);
        }
        expect([...ref.grads.values()].some((g) => g.some((x) => x !== 0))).toBe(true);
      } finally {
        disposeModel(model);
      }
    });
  }

  it('train({ workers: 2 }) gives the losses of workers: 1 from the same seed and records workers in the checkpoint', async () => {
    const run = async (workers: number) => {
      const losses: number[] = [];
      const c = await train({ generator: rayleigh, steps: 10, batch: 8, seed: 'parallel-train', workers, onStep: (s) => losses.push(s.loss) });
      return { c, losses };
    };
    const one = await run(1);
    const two = await run(2);
    expect(two.losses.length).toBe(10);
    two.losses.forEach((l, i) => expect(Math.abs(l - one.losses[i])).toBeLessThan(1e-4 * Math.abs(one.losses[i])));
    expect(one.c.training.workers).toBe(1);
    expect(two.c.training.workers).toBe(2);
  });

  it('a bad workers value is refused with a message naming the option', async () => {
    for (const workers of [0, 1.5]) {
      await expect(train({ generator: rayleigh, steps: 1, batch: 2, seed: 1, workers })).rejects.toHaveProperty(
        'message',
        `train: workers must be a positive integer (1 = in process, n >= 2 = n gradient worker threads), got ${workers}`,
      );
    }
  });

  it("an error in a worker rejects train() with that worker's message (and the pool closes)", async () => {
    const rng = new Rng('parallel-error');
    const power = rayleigh(rng);
    const impl = modelKindImpl('wcgcn');
    const model = impl.create({}, fitFeatureScaling([power], 'db'), power, rng);
    const init = toCheckpoint(model);
    disposeModel(model);
    const instances = [miso(rng), miso(rng)]; // a power-control model cannot evaluate MISO instances
    const message = 'denseBatch: instance 0 is MISO (Nt = 2); use beamBatch for beamforming';
    await expect(train({ init, instances, steps: 2, batch: 2, seed: 1 })).rejects.toHaveProperty('message', message);
    await expect(train({ init, instances, steps: 2, batch: 2, seed: 1, workers: 2 })).rejects.toHaveProperty('message', message);
  });
});
