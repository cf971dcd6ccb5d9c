import { performance } from 'node:perf_hooks';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { encode } from '@dmpemu/wire';
import { generateInstance, localView, Rng, type Instance } from '@dmpemu/wireless';
import { Coordinator } from '../coordinator/src/run/coordinator.ts';
import { partition } from '../coordinator/src/run/launcher.ts';
import { NatsServer } from '../coordinator/src/run/natsServer.ts';

interface Case {
  label: string;
  inst: Instance;
  perProcess: number;
}

const ROUNDS = 40;
const WARMUP = 6;

/** Round latency and deliveries/s of decentralised WMMSE, beside a bare nats.js loop with the same fan-out. */
export async function benchRuntime(only?: number[]): Promise<void> {
  console.log('\n## Decentralised rounds over NATS (wmmse-dmp), agent hosts, one nats-server');
  // d2d fields keep the papers' density (50 pairs per 1000 m x 1000 m)
  const cases: Case[] = [
    { label: 'K=50 complete graph (rayleigh-ic)', make: () => generateInstance('rayleigh-ic', new Rng(1), { K: 50, snrDb: 10 }), K: 50, perProcess: 25 },
    { label: 'K=200 d2d, CSI range 300 m', make: () => generateInstance('d2d', new Rng(2), { K: 200, field: 2000, csiRange: 300 }), K: 200, perProcess: 100 },
    { label: 'K=1000 d2d, CSI range 300 m', make: () => generateInstance('d2d', new Rng(3), { K: 1000, field: 4472, csiRange: 300 }), K: 1000, perProcess: 500 },
  ]
    .filter((c) => !only || only.includes(c.K))
    .map(({ label, make, perProcess }) => ({ label, inst: make(), perProcess }));
  for (const c of cases) {
    const server = await NatsServer.start();
    try {
      const bare = await measureBare(server.url, c);
      const edges = localDegreeSum(c.inst);
      const parts = [`${c.label.padEnd(34)} ${edges} deliveries/round, ${partition(c.inst.K, c.perProcess).length} hosts | bare pub/sub loop ${bare.meanMs.toFixed(2)} ms/round`];
      for (const clock of ['barrier', 'local'] as const) {
        const ours = await measureRuntime(server.url, c, clock);
        parts.push(`${clock} ${ours.meanMs.toFixed(2)} ms/round (x${(ours.meanMs / bare.meanMs).toFixed(2)}), ${(ours.perSecond / 1e3).toFixed(0)}k deliveries/s`);
      }
      console.log(parts.join(' | '));
    } finally {
      await server.dispose();
    }
  }
}

function localDegreeSum(inst: Instance): number {
  let s = 0;
  for (let k = 0; k < inst.K; k++) s += localView(inst, k).neighbours.length;
  return s;
}

/** Mean time per round of a job (its wall time over its rounds, as meanRoundLatencyMs), after a warm-up job. */
async function measureRuntime(url: string, c: Case, clock: 'barrier' | 'local'): Promise<{ meanMs: number; perSecond: number }> {
  const co = await Coordinator.start({ broker: url });
  try {
    await co.launch(c.inst.K, c.perProcess, 120);
    await co.runJob(c.inst, { name: 'wmmse-dmp', iterations: WARMUP / 2 }, { roundDeadlineMs: 10_000, policy: 'skip', clock });
    const r = await co.runJob(c.inst, { name: 'wmmse-dmp', iterations: ROUNDS / 2 }, { roundDeadlineMs: 10_000, policy: 'skip', clock });
    const meanMs = r.wallMs / r.rounds.length;
    return { meanMs, perSecond: (r.rounds.reduce((s, x) => s + x.messages, 0) / r.wallMs) * 1000 };
  } finally {
    await co.shutdown();
  }
}

/**
 * The same traffic with nothing of ours: one connection per host, every node publishes one
 * broadcast-sized message per round to its subject, its neighbours subscribe; a round ends when
 * every delivery arrived.
 */
async function measureBare(url: string, c: Case): Promise<{ meanMs: number; perSecond: number }> {
  const groups = partition(c.inst.K, c.perProcess);
  const conns: NatsConnection[] = await Promise.all(groups.map(() => connect({ servers: url })));
  const hostOf = (k: number): NatsConnection => conns[Math.floor(k / c.perProcess)];
  const payload = encode([1, 0, 0, new Float64Array(1)]);
  let pending = 0;
  let wake: () => void = () => {};
  let total = 0;
  for (let k = 0; k < c.inst.K; k++) {
    for (const j of localView(c.inst, k).neighbours) {
      total++;
      hostOf(k).subscribe(`bare.${j}`, { callback: () => void (--pending === 0 && wake()) });
    }
  }
  await Promise.all(conns.map((nc) => nc.flush()));
  const times: number[] = [];
  for (let t = 0; t < ROUNDS; t++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      pending = total;
      wake = resolve;
      for (let k = 0; k < c.inst.K; k++) hostOf(k).publish(`bare.${k}`, payload);
    });
    times.push(performance.now() - t0);
  }
  await Promise.all(conns.map((nc) => nc.close()));
  const kept = times.slice(WARMUP);
  return { meanMs: kept.reduce((s, x) => s + x, 0) / kept.length, perSecond: (total * kept.length * 1000) / kept.reduce((s, x) => s + x, 0) };
}
