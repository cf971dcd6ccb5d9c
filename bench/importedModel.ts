import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadCheckpoint, runInProcess } from '@dmpemu/dmp';
import { generateInstance, localViews, Rng } from '@dmpemu/wireless';
import { importModel } from '../coordinator/src/commands/import.ts';
import { MODELS_DIR } from '../coordinator/src/scenario/checkpoints.ts';

/**
 * One round of an imported model (the IGCNet fixture: PyTorch -> ONNX -> dmpemu import, run on
 * the ONNX interpreter) against one round of the built-in WCGCN (the shipped wcgcn-d2d-k50),
 * every agent in one process, local views prebuilt, d2d with CSI range 300 m.
 */
export function benchImportedModel(): void {
  const igcnet = importModel(new URL('../test/fixtures/igcnet/igcnet.yaml', import.meta.url).pathname);
  const wcgcn = loadCheckpoint(join(MODELS_DIR, 'wcgcn-d2d-k50.json'));
  console.log('\n## Imported model (IGCNet via ONNX, mlp1 5-16-32 with BatchNorm, mlp2 35-16-1) vs the built-in WCGCN (mlp1 5-32-32, mlp2 35-16-1), 3 rounds, every agent in one process');
  for (const [K, field, reps] of [[50, 1000, 20], [200, 2000, 5]] as const) {
    const insts = Array.from({ length: reps }, (_, n) => generateInstance('d2d', Rng.derive(`import/${K}`, n), { K, field, csiRange: 300 }));
    const views = new Map(insts.map((i) => [i, localViews(i)]));
    const time = (checkpoint: typeof wcgcn, name: string): number => {
      runInProcess(insts[0], { name, checkpoint }, { views: views.get(insts[0]), history: false });
      const t0 = performance.now();
      for (const i of insts) runInProcess(i, { name, checkpoint }, { views: views.get(i), history: false });
      return (performance.now() - t0) / reps / 3;
    };
    const [m, w] = [time(igcnet, 'mpnn'), time(wcgcn, 'wcgcn')];
    console.log(`K=${String(K).padEnd(5)} imported ${m.toFixed(2).padStart(7)} ms/round   WCGCN ${w.toFixed(2).padStart(7)} ms/round   imported / WCGCN x${(m / w).toFixed(2)}`);
  }
}
