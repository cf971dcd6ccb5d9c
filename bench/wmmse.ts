import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { instanceFileToJson, rayleighInstance, Rng, wmmsePower } from '@dmpemu/wireless';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Time per instance of our WMMSE (100 iterations) at K = 50, 200, 1000, beside a numpy loop in the same run. */
export function benchWmmse(): void {
  console.log('\n## WMMSE power control, 100 iterations, Rayleigh 10 dB');
  const dir = mkdtempSync(join(tmpdir(), 'dmpemu-bench-'));
  for (const [K, reps] of [[50, 40], [200, 10], [1000, 3]] as const) {
    const insts = Array.from({ length: reps }, (_, n) => rayleighInstance(Rng.derive(1, n), { K, snrDb: 10 }));
    wmmsePower(insts[0], { iterations: 100 }); // warm-up
    const t0 = performance.now();
    for (const inst of insts) wmmsePower(inst, { iterations: 100 });
    const ours = (performance.now() - t0) / reps;
    const file = join(dir, `k${K}.json`);
    writeFileSync(file, JSON.stringify(instanceFileToJson({ model: 'rayleigh-ic', instances: insts })));
    let numpy = NaN;
    try {
      numpy = Number(execFileSync('python3', [new URL('wmmse_numpy.py', import.meta.url).pathname, file], { encoding: 'utf8' }).trim());
    } catch {
      /* numpy not available: print ours only */
    }
    console.log(
      `K=${String(K).padEnd(5)} ours ${ours.toFixed(2).padStart(8)} ms/instance` +
        (Number.isFinite(numpy) ? `   numpy loop (papers' style) ${numpy.toFixed(2).padStart(8)} ms/instance   speed-up x${(numpy / ours).toFixed(1)}` : '   (python3 with numpy not found)'),
    );
  }
  rmSync(dir, { recursive: true, force: true });
}
