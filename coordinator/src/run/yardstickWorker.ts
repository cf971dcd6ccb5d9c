import { parentPort, workerData } from 'node:worker_threads';
import type { Instance } from '@dmpemu/wireless';
import { sampled, wmmseCurve } from './yardstick.ts';

/** Worker of Yardstick: WMMSE's curve on each instance (shared memory), posted as each is done. */
const { insts, n } = workerData as { insts: Instance[]; n: number };
insts.forEach((inst, i) => parentPort!.postMessage({ i, curve: wmmseCurve(inst, n, (t) => sampled(t, n)) }));
