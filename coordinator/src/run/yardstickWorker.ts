import { parentPort, workerData } from 'node:worker_threads';
import type { Instance } from '@dmpemu/wireless';
import { normaliserOf, sampled, wmmseCurve, type NormaliserOptions } from './yardstick.ts';

/** Worker of Yardstick: WMMSE's curve (sampled where it is read) and the normaliser of each instance (shared memory), posted as each is done. */
const { insts, n, o } = workerData as { insts: Instance[]; n: number; o: NormaliserOptions };
insts.forEach((inst, i) => {
  const curve = wmmseCurve(inst, n, (t) => sampled(t, n));
  parentPort!.postMessage({ i, curve, normaliser: normaliserOf(inst, i, curve, o) });
});
