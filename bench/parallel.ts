import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { generateInstance, Rng, type Instance } from '@dmpemu/wireless';

const K = 50, BATCH = 64, STEPS = 6, REPEATS = 3;

/** `f`'s mean time in ms over `n` runs. */
function ms(f: () => unknown, n = 20): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  return (performance.now() - t0) / n;
}

/**
 * Data-parallel training (train's `workers`): samples/s of the default WCGCN on Rayleigh K=50,
 * batch 64, with 1 and 2 gradient workers, interleaved and repeated in the same run (the load
 * average is printed: other processes share the cores), and what a step sends to the workers.
 */
export async function benchParallelTraining(): Promise<void> {
  const { ensureBackend, flatWeights, modelKindImpl, fitFeatureScaling, disposeModel, train } = await import('@dmpemu/gnn');
  await ensureBackend();
  const draw = (rng: Rng): Instance => generateInstance('rayleigh-ic', rng, { K, snrDb: 10 });
  console.log(`\n## Data-parallel gradient workers: WCGCN (MLP1 5-32-32, MLP2 35-16-1) Rayleigh K=${K}, batch ${BATCH}`);
  const rng = new Rng('bench-parallel');
  const half = Array.from({ length: BATCH / 2 }, () => draw(rng));
  const model = modelKindImpl('wcgcn').create({}, fitFeatureScaling(half, 'db'), half[0], rng);
  const { weights } = flatWeights(model);
  disposeModel(model);
  const bytes = half.reduce((s, i) => s + i.gain.byteLength + i.weights.byteLength, 0);
  console.log(`per worker per step: ${BATCH / 2} instances ${(bytes / 1e6).toFixed(2)} MB (structuredClone ${ms(() => structuredClone(half)).toFixed(2)} ms), weights ${(weights.byteLength / 1e3).toFixed(1)} kB (structuredClone ${ms(() => structuredClone(weights)).toFixed(3)} ms)`);
  const sps = new Map<number, number[]>([[1, []], [2, []]]);
  for (let r = 0; r < REPEATS; r++) {
    const line: string[] = [`run ${r + 1}: load ${loadavg()[0].toFixed(2)}`];
    for (const workers of [1, 2]) {
      const steps: number[] = [];
      let cpu0 = process.cpuUsage(); // CPU time of all threads of this process: what the cores would give without other load
      const onStep = (s: { step: number; samplesPerSecond: number }) => (s.step === 0 ? (cpu0 = process.cpuUsage()) : steps.push(s.samplesPerSecond)); // step 0: warm-up (workers start, WASM loads)
      await train({ generator: draw, steps: STEPS, batch: BATCH, seed: r, workers, onStep });
      const cpu = process.cpuUsage(cpu0);
      const mean = steps.reduce((a, x) => a + x, 0) / steps.length;
      sps.get(workers)!.push(mean);
      line.push(`workers=${workers} ${mean.toFixed(1).padStart(6)} samples/s (${((cpu.user + cpu.system) / 1000 / (steps.length * BATCH)).toFixed(1)} CPU ms/sample)`);
    }
    console.log(`${line.join('   ')}   x${(sps.get(2)![r] / sps.get(1)![r]).toFixed(2)}`);
  }
  const span = (xs: number[]): string => `${Math.min(...xs).toFixed(1)}..${Math.max(...xs).toFixed(1)}`;
  const ratios = sps.get(2)!.map((x, i) => x / sps.get(1)![i]);
  console.log(`workers=1 ${span(sps.get(1)!)} samples/s, workers=2 ${span(sps.get(2)!)} samples/s, ratio ${span(ratios)} (load average now ${loadavg().map((x) => x.toFixed(2)).join(' ')})`);
}
