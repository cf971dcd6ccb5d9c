import { performance } from 'node:perf_hooks';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { loadCheckpoint, runInProcess, type AlgorithmSpec } from '@dmpemu/dmp';
import { encode } from '@dmpemu/wire';
import { generateInstance, localView, localViews, Rng, type Instance } from '@dmpemu/wireless';
import { Coordinator } from '../coordinator/src/run/coordinator.ts';
import { partition } from '../coordinator/src/run/launcher.ts';
import { NatsServer } from '../coordinator/src/run/natsServer.ts';

interface Case {
  label: string;
  inst: Instance;
  perProcess: number;
}

const ROUNDS = 40;
/** Jobs of ROUNDS rounds run before measuring: V8 compiles the agents' and the coordinator's hot code over the first few hundred rounds (a K = 200 host's first job runs at about 3x its later rounds). */
const WARMUP_JOBS = 3;
/** Jobs measured after the warm-up; the median job is reported. */
const MEASURED_JOBS = 3;

/** Round latency and deliveries/s of decentralised WMMSE, beside a bare nats.js loop with the same fan-out. */
export async function benchRuntime(only?: number[]): Promise<void> {
  console.log(`\n## Decentralised rounds over NATS (wmmse-dmp), agent hosts, one nats-server: the median of ${MEASURED_JOBS} jobs of ${ROUNDS} rounds after ${WARMUP_JOBS} (the bare loop: the rounds after as many)`);
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
      const bare = await measureBare(server.url, c, false);
      const shared = await measureBare(server.url, c, true);
      const edges = localDegreeSum(c.inst);
      const parts = [`${c.label.padEnd(34)} ${edges} deliveries/round, ${partition(c.inst.K, c.perProcess).length} hosts | bare loop ${bare.meanMs.toFixed(2)} ms/round (shared subscriptions ${shared.meanMs.toFixed(2)})`];
      for (const clock of ['barrier', 'local'] as const) {
        const ours = await measureRuntime(server.url, c, clock);
        parts.push(`${clock} ${ours.meanMs.toFixed(2)} ms/round (x${(ours.meanMs / bare.meanMs).toFixed(2)}, x${(ours.meanMs / shared.meanMs).toFixed(1)} shared; first job ${ours.firstMs.toFixed(2)}), ${(ours.perSecond / 1e3).toFixed(0)}k deliveries/s`);
      }
      console.log(parts.join(' | '));
    } finally {
      await server.dispose();
    }
  }
}

/**
 * A learned DMP's round against WMMSE's over NATS, same network and hosts: the shipped WCGCN
 * (its 3 rounds, and 12: the layers' weights are shared, so a round costs the same) against
 * wmmse-dmp of 2 and 10 iterations (4 and 20 rounds) on K = 50 d2d networks (CSI range 300 m),
 * barrier clock, one host and two. After a warm-up of 20 jobs each, 20 jobs on other networks:
 * time per round as meanRoundLatencyMs (a job's wall time over its rounds), and from the two
 * lengths of each algorithm a job's time split into a fixed part and a cost per round (the slope).
 * Beside it, the compute of a round: every agent in process on one thread, no messaging.
 */
export async function benchLearnedRounds(): Promise<void> {
  console.log('\n## A learned DMP\'s rounds against WMMSE\'s over NATS: K=50 d2d, CSI range 300 m, barrier clock (mean of 20 jobs after 20); a job = fixed + rounds x per round, from two lengths; compute: all 50 agents in process on one thread, the same two lengths\' slope');
  const wcgcn = loadCheckpoint(new URL('../scenarios/models/wcgcn-d2d-k50.json', import.meta.url).pathname);
  const algorithms: { label: string; specs: [AlgorithmSpec, AlgorithmSpec] }[] = [
    { label: 'wcgcn', specs: [{ name: 'wcgcn', checkpoint: wcgcn }, { name: 'wcgcn', checkpoint: wcgcn, rounds: 12 }] },
    { label: 'wmmse-dmp', specs: [{ name: 'wmmse-dmp', iterations: 2 }, { name: 'wmmse-dmp', iterations: 10 }] },
  ];
  const insts = Array.from({ length: 40 }, (_, n) => generateInstance('d2d', Rng.derive(50, n), { K: 50, field: 1000, csiRange: 300, weighted: true }));
  const compute = algorithms.map((a) => computePerRound(insts, a.specs));
  console.log(`compute per round: ${algorithms.map((a, i) => `${a.label} ${compute[i].toFixed(3)} ms (${((compute[i] / 50) * 1000).toFixed(1)} us per agent)`).join(' | ')}`);
  for (const perProcess of [50, 25]) {
    const server = await NatsServer.start();
    const co = await Coordinator.start({ broker: server.url });
    try {
      await co.launch(50, perProcess, 120);
      const parts: string[] = [];
      const slopes: number[] = [];
      for (const a of algorithms) {
        const jobs: { rounds: number; ms: number }[] = [];
        for (const spec of a.specs) {
          let wall = 0, rounds = 0;
          for (let n = 0; n < insts.length; n++) {
            const r = await co.runJob(insts[n], spec, { roundDeadlineMs: 10_000, policy: 'skip', clock: 'barrier' });
            if (n < insts.length / 2) continue;
            wall += r.wallMs;
            rounds = r.rounds.length;
          }
          jobs.push({ rounds, ms: wall / (insts.length / 2) });
        }
        const [short, long] = jobs;
        const slope = (long.ms - short.ms) / (long.rounds - short.rounds);
        slopes.push(slope);
        parts.push(`${a.label} ${jobs.map((j) => `${(j.ms / j.rounds).toFixed(2)} ms/round over ${j.rounds}`).join(', ')}: ${(short.ms - slope * short.rounds).toFixed(2)} ms + ${slope.toFixed(2)} per round`);
      }
      const hosts = 50 / perProcess;
      // a host runs its share of the agents' compute; hosts run side by side
      console.log(
        `${String(hosts)} host(s) of ${perProcess}: ${parts.join(' | ')} | wcgcn / wmmse-dmp per round x${(slopes[0] / slopes[1]).toFixed(2)}, less the compute x${((slopes[0] - compute[0] / hosts) / (slopes[1] - compute[1] / hosts)).toFixed(2)}`,
      );
    } finally {
      await co.shutdown();
      await server.dispose();
    }
  }
}

/**
 * Milliseconds per round of every agent on one thread, no messaging: the in-process executor
 * (local views prebuilt, no objective history) timed at both lengths, its slope, so building the
 * algorithm and the nodes (done at configure on the agents) drops out. Mean over the networks,
 * after one pass to warm up.
 */
function computePerRound(insts: Instance[], specs: [AlgorithmSpec, AlgorithmSpec]): number {
  const views = insts.map((i) => localViews(i));
  const timed = specs.map((spec) => {
    let ms = 0, rounds = 0;
    for (let pass = 0; pass < 3; pass++) {
      for (let n = 0; n < insts.length; n++) {
        const t0 = performance.now();
        const r = runInProcess(insts[n], spec, { views: views[n], history: false });
        if (pass === 0) continue;
        ms += performance.now() - t0;
        rounds = r.rounds;
      }
    }
    return { ms: ms / (2 * insts.length), rounds };
  });
  return (timed[1].ms - timed[0].ms) / (timed[1].rounds - timed[0].rounds);
}

function localDegreeSum(inst: Instance): number {
  let s = 0;
  for (let k = 0; k < inst.K; k++) s += localView(inst, k).neighbours.length;
  return s;
}

/**
 * Time per round of a job (its wall time over its rounds, as meanRoundLatencyMs): the median of
 * MEASURED_JOBS jobs after WARMUP_JOBS, and the first job's (cold code) beside it.
 */
async function measureRuntime(url: string, c: Case, clock: 'barrier' | 'local'): Promise<{ meanMs: number; firstMs: number; perSecond: number }> {
  const co = await Coordinator.start({ broker: url });
  try {
    await co.launch(c.inst.K, c.perProcess, 120);
    const job = () => co.runJob(c.inst, { name: 'wmmse-dmp', iterations: ROUNDS / 2 }, { roundDeadlineMs: 10_000, policy: 'skip', clock });
    const first = await job();
    for (let n = 1; n < WARMUP_JOBS; n++) await job();
    const measured = [];
    for (let n = 0; n < MEASURED_JOBS; n++) measured.push(await job());
    measured.sort((a, b) => a.wallMs - b.wallMs);
    const r = measured[MEASURED_JOBS >> 1];
    const meanMs = r.wallMs / r.rounds.length;
    return { meanMs, firstMs: first.wallMs / first.rounds.length, perSecond: (r.rounds.reduce((s, x) => s + x.messages, 0) / r.wallMs) * 1000 };
  } finally {
    await co.shutdown();
  }
}

/**
 * The same traffic with nothing of ours: one connection per host, every node publishes one
 * broadcast-sized message per round to its subject, and every node listening to it subscribes
 * (the broker delivers a copy per listening node: the fan-out of the issue's bare loop); with
 * `shared`, a host subscribes once to each subject some of its nodes listen to, as agent hosts do,
 * and counts a delivery per listening node (the broker sends a copy per host). A round ends when
 * every delivery arrived.
 */
async function measureBare(url: string, c: Case, shared: boolean): Promise<{ meanMs: number; perSecond: number }> {
  const groups = partition(c.inst.K, c.perProcess);
  const conns: NatsConnection[] = await Promise.all(groups.map(() => connect({ servers: url })));
  const hostOf = (k: number): number => Math.floor(k / c.perProcess);
  const payload = encode([1, 0, 0, new Float64Array(1)]);
  let pending = 0;
  let wake: () => void = () => {};
  let total = 0;
  const listeners = groups.map(() => new Map<number, number>()); // per host: subject j -> its nodes listening
  for (let k = 0; k < c.inst.K; k++) {
    for (const j of localView(c.inst, k).neighbours) {
      total++;
      const l = listeners[hostOf(k)];
      l.set(j, (l.get(j) ?? 0) + 1);
    }
  }
  listeners.forEach((l, h) => {
    for (const [j, n] of l) {
      if (shared) conns[h].subscribe(`bare.${j}`, { callback: () => void ((pending -= n) === 0 && wake()) });
      else for (let i = 0; i < n; i++) conns[h].subscribe(`bare.${j}`, { callback: () => void (--pending === 0 && wake()) });
    }
  });
  await Promise.all(conns.map((nc) => nc.flush()));
  const times: number[] = [];
  for (let t = 0; t < ROUNDS * (WARMUP_JOBS + MEASURED_JOBS); t++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      pending = total;
      wake = resolve;
      for (let k = 0; k < c.inst.K; k++) conns[hostOf(k)].publish(`bare.${k}`, payload);
    });
    times.push(performance.now() - t0);
  }
  await Promise.all(conns.map((nc) => nc.close()));
  const kept = times.slice(ROUNDS * WARMUP_JOBS);
  return { meanMs: kept.reduce((s, x) => s + x, 0) / kept.length, perSecond: (total * kept.length * 1000) / kept.reduce((s, x) => s + x, 0) };
}
