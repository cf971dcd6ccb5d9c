import { workerData } from 'node:worker_threads';
import { HEARTBEAT_MS, NatsTransport, Sealer, subjects, type CoordinatorAliveMsg } from '@dmpemu/wire';

/**
 * Worker of Coordinator.startHeartbeat: the coordinator's `{type: alive}` on `ctl` every second,
 * on a connection of its own, so it goes on while the coordinator's thread computes (a
 * centralized baseline of a large network) and stops with the coordinator's process.
 */
const o = workerData as { url: string; user?: string; pass?: string; runId: string; secret: string; patienceMs: number };
const bus = await NatsTransport.connect(o.url, `dmpemu-coordinator-heartbeat-${o.runId}`, { user: o.user, pass: o.pass });
const sealer = new Sealer(o.secret);
const ctl = subjects(o.runId).control;
let seq = 0;
const beat = (): void => {
  const msg: CoordinatorAliveMsg = { type: 'alive', seq: ++seq, patienceMs: o.patienceMs };
  try {
    bus.publish(ctl, sealer.seal(ctl, msg));
  } catch {
    /* the broker may be gone: the hosts hear us once it is back */
  }
};
beat();
setInterval(beat, HEARTBEAT_MS);
