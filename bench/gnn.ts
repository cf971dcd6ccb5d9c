import { performance } from 'node:perf_hooks';
import { loadCheckpoint, runInProcess, setDefaultDenseKernel, type Checkpoint, type DenseKernel } from '@dmpemu/dmp';
import { generateInstance, localViews, Rng, wmmsePower, type Instance } from '@dmpemu/wireless';

/**
 * Training throughput (samples/s) per TensorFlow.js backend that loads, and the time of one
 * decentralised WCGCN inference (all agents, in process) against centralized WMMSE-100 on the
 * same D2D instances (the papers' Fig. 4 comparison, on this CPU).
 */
export async function benchGnn(): Promise<void> {
  const { selectBackend, train, TF_BACKENDS } = await import('@dmpemu/gnn');
  console.log('\n## WCGCN training throughput (3 layers, MLP1 5-32-32, MLP2 35-16-1, batch 64)');
  let checkpoint: Checkpoint | undefined;
  const wasmSps = new Map<number, number>(); // K -> our TF.js WASM samples/s, for the torch ratio below
  for (const b of TF_BACKENDS) {
    const loaded = await selectBackend([b]).then(
      () => true,
      () => false,
    );
    if (!loaded) {
      console.log(`${b.padEnd(14)} not available here`);
      continue;
    }
    for (const K of [10, 50]) {
      const steps = K === 10 ? 12 : 4;
      const sps: number[] = [];
      const c = await train({ generator: (rng) => generateInstance('rayleigh-ic', rng, { K, snrDb: 10 }), steps, batch: 64, seed: 1, onStep: (s) => s.step > 0 && sps.push(s.samplesPerSecond) });
      if (K === 10) checkpoint = c;
      if (b === 'wasm') wasmSps.set(K, sps.reduce((a, x) => a + x, 0) / sps.length);
      console.log(`${b.padEnd(14)} K=${String(K).padEnd(4)} ${(sps.reduce((a, x) => a + x, 0) / sps.length).toFixed(0).padStart(6)} samples/s`);
    }
  }
  console.log('\n## The same WCGCN in PyTorch (PyG-style edge list, and dense), same machine, same run');
  const { spawnSync } = await import('node:child_process');
  const py = spawnSync('python3', [new URL('wcgcn_torch.py', import.meta.url).pathname], { encoding: 'utf8' });
  if (py.error) console.log(`python3 not found here (${py.error.message})`);
  else if (py.status !== 0) console.log(`wcgcn_torch.py failed: ${py.stderr.trim().split('\n').pop()}`);
  else {
    console.log(py.stdout.trimEnd());
    // torch per core: threads=1, the faster of the two formulations, per K
    const torchSps = new Map<number, number>();
    for (const [, threads, K, sps] of py.stdout.matchAll(/^torch-\w+\s+threads=(\d+)\s+K=(\d+)\s+(\d+) samples\/s/gm)) {
      if (threads === '1') torchSps.set(Number(K), Math.max(torchSps.get(Number(K)) ?? 0, Number(sps)));
    }
    for (const [K, t] of torchSps) {
      const w = wasmSps.get(K);
      console.log(`K=${String(K).padEnd(4)} torch (1 thread, faster formulation) ${t.toFixed(0).padStart(6)} samples/s` + (w ? `   TF.js WASM ${w.toFixed(0).padStart(5)} samples/s   torch / WASM x${(t / w).toFixed(1)}` : '   (no WASM figure this run)'));
    }
  }
  await benchInference(checkpoint);
}

/**
 * One decentralised WCGCN inference (3 rounds, every agent in one process) against centralized
 * WMMSE-100 on the same D2D instances; `checkpoint` default: the shipped wcgcn-d2d-k50.
 */
export async function benchInference(checkpoint?: Checkpoint): Promise<void> {
  checkpoint ??= loadCheckpoint(new URL('../scenarios/models/wcgcn-d2d-k50.json', import.meta.url).pathname);
  console.log('\n## Inference: WCGCN (3 rounds, every agent in one process, typed arrays; local views prebuilt) vs centralized WMMSE-100, d2d with CSI range 300 m');
  for (const [K, field, reps] of [[50, 1000, 20], [200, 2000, 10], [1000, 4472, 5]] as const) {
    const insts: Instance[] = Array.from({ length: reps }, (_, n) => generateInstance('d2d', Rng.derive(K, n), { K, field, csiRange: 300 }));
    const time = (f: (i: Instance) => void): number => {
      f(insts[0]);
      const t0 = performance.now();
      for (const i of insts) f(i);
      return (performance.now() - t0) / reps;
    };
    const views = new Map(insts.map((i) => [i, localViews(i)]));
    const wcgcn = (kernel: DenseKernel): number => {
      setDefaultDenseKernel(kernel); // the algorithm is built per instance, its dense layers on this kernel
      try {
        return time((i) => runInProcess(i, { name: 'wcgcn', checkpoint }, { views: views.get(i), history: false }));
      } finally {
        setDefaultDenseKernel(undefined);
      }
    };
    const gnn = wcgcn('wasm');
    const js = wcgcn('js');
    const wmmse = time((i) => wmmsePower(i, { iterations: 100 }));
    console.log(`K=${String(K).padEnd(5)} WCGCN ${gnn.toFixed(1).padStart(8)} ms (JS dense kernel ${js.toFixed(1)} ms, x${(js / gnn).toFixed(2)})   WMMSE-100 ${wmmse.toFixed(1).padStart(8)} ms   WCGCN / WMMSE-100 ${(gnn / wmmse).toFixed(3)}`);
  }
}
