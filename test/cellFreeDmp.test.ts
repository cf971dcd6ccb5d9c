import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { encode, subjects } from '@dmpemu/wire';
import { Coordinator } from '../coordinator/src/run/coordinator.ts';
import { bundleModule } from '../coordinator/src/scenario/algorithmModules.ts';
import { cfPcgnnWeightShapes, createAlgorithm, hetgnnWeightShapes, type HetgnnArchitecture, loadModule, makeCheckpoint, NodeRunner, runCellFreeInProcess, transformGain, type AlgorithmSpec, type CfPcgnnArchitecture, type Checkpoint } from '@dmpemu/dmp';
import { cellFreeInstance, cellFreeMinRate, cellFreeV, cellFreeViews, Rng, type CellFreeInstance } from '@dmpemu/wireless';

/** A CF-PCGNN with random weights, its input scaling fitted to `inst`. */
function randomCfPcgnn(inst: CellFreeInstance, layers = 3, H = 8, aggregation: 'mean' | 'sum' = 'mean'): Checkpoint<CfPcgnnArchitecture> {
  const x = Array.from(cellFreeV(inst), (v) => transformGain(Math.sqrt(v), 'db'));
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  const std = Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length);
  const a: CfPcgnnArchitecture = { kind: 'cf-pcgnn', task: 'power', layers, hidden: H, head: [4], aggregation, features: { transform: 'db', direct: { shift: 0, scale: 1 }, cross: { shift: mean, scale: std } } };
  const rng = new Rng(3);
  const weights: Checkpoint['weights'] = {};
  for (const [name, shape] of Object.entries(cfPcgnnWeightShapes(a))) weights[name] = { shape, data: Float32Array.from({ length: shape.reduce((p, q) => p * q, 1) }, () => rng.normal() / Math.sqrt(shape[0])) };
  return makeCheckpoint({ architecture: a, weights, training: { note: 'random weights' }, metrics: {} });
}

/** A HetGNN with random weights (the CF-PCGNN's input scaling). */
function randomHetgnn(inst: CellFreeInstance): Checkpoint<HetgnnArchitecture> {
  const a: HetgnnArchitecture = { kind: 'hetgnn', task: 'power', layers: 3, hidden: 8, head: [4], aggregation: 'sum', features: randomCfPcgnn(inst).architecture.features };
  const rng = new Rng(5);
  const weights: Checkpoint['weights'] = {};
  for (const [name, shape] of Object.entries(hetgnnWeightShapes(a))) weights[name] = { shape, data: Float32Array.from({ length: shape.reduce((p, q) => p * q, 1) }, () => rng.normal() / Math.sqrt(shape[0] * (name.includes('neighbour') ? 10 : 1))) };
  return makeCheckpoint({ architecture: a, weights, training: { note: 'random weights' }, metrics: {} });
}

/** Eqs. 22-23 on the whole network at once: the dense reference the per-agent DMP must match. */
function cfPcgnnDense(c: Checkpoint<CfPcgnnArchitecture>, inst: CellFreeInstance): Float64Array {
  const { M, K } = inst;
  const a = c.architecture, H = a.hidden, f = a.features.cross;
  const W = (n: string) => Float64Array.from(c.weights[n].data);
  const relu = (v: number) => Math.max(0, v);
  const xW = (x: ArrayLike<number>, w: Float64Array, n: number, m: number) => Array.from({ length: m }, (_, o) => Array.from({ length: n }, (_, i) => x[i] * w[i * m + o]).reduce((s, v) => s + v, 0));
  const w1 = W('ap.kernel'), b1 = W('ap.bias');
  const v = cellFreeV(inst);
  let d = Array.from({ length: K }, (_, k) => Array.from({ length: H }, (_, h) => {
    let s = 0;
    for (let m = 0; m < M; m++) s += relu(w1[h] * ((10 * Math.log10(v[m * K + k]) - f.shift) / f.scale) + b1[h]);
    return s / M;
  }));
  for (let t = 1; t < a.layers; t++) {
    const W1 = W(`layer.${t}.neighbour.kernel`), W2 = W(`layer.${t}.self.kernel`), b = W(`layer.${t}.bias`);
    const all = d.map((dk) => xW(dk, W1, H, H)).reduce((s, v) => s.map((x, h) => x + v[h])).map((x) => (a.aggregation === 'mean' ? x / K : x));
    d = d.map((dk) => xW(dk, W2, H, H).map((v, h) => relu(v + all[h] + b[h])));
  }
  const k0 = W('head.0.kernel'), c0 = W('head.0.bias'), k1 = W('head.1.kernel'), c1 = W('head.1.bias');
  return Float64Array.from(d, (dk) => {
    const hdn = xW(dk, k0, H, 4).map((v, i) => relu(v + c0[i]));
    return 1 / (1 + Math.exp(-(xW(hdn, k1, 4, 1)[0] + c1[0])));
  });
}

describe('node types: a DMP on the bipartite graph of a cell-free network (APs and users)', () => {
  const inst = cellFreeInstance(new Rng(12), { M: 12, K: 5 });

  it('local views: an AP knows v_mk of every user; a user knows v_mk of every AP and has the other users as neighbours', () => {
    const views = cellFreeViews(inst);
    const v = cellFreeV(inst);
    expect(views.map((v) => v.type)).toEqual([...new Array(12).fill('ap'), ...new Array(5).fill('ue')]);
    expect(Array.from(views[3].neighbours)).toEqual([12, 13, 14, 15, 16]);
    expect(Array.from(views[3].gIn)).toEqual(Array.from({ length: 5 }, (_, k) => Math.sqrt(v[3 * 5 + k])));
    const ue = views[14];
    expect(Array.from(ue.neighbours)).toEqual([...Array.from({ length: 12 }, (_, m) => m), 12, 13, 15, 16]);
    expect(ue.neighbourTypes).toEqual([...new Array(12).fill('ap'), 'ue', 'ue', 'ue', 'ue']);
    expect(Array.from(ue.gIn.slice(0, 12))).toEqual(Array.from({ length: 12 }, (_, m) => Math.sqrt(v[m * 5 + 2])));
  });

  it('CF-PCGNN per agent (AP -> user, then user -> user rounds) equals eqs. 22-23 computed on the whole network', () => {
    for (const [layers, aggregation] of [[2, 'mean'], [3, 'mean'], [3, 'sum']] as const) {
      const c = randomCfPcgnn(inst, layers, 8, aggregation);
      const r = runCellFreeInProcess(inst, { name: 'cf-pcgnn', checkpoint: c });
      const dense = cfPcgnnDense(c, inst);
      r.p.forEach((p, k) => expect(p).toBeCloseTo(dense[k], 12));
      expect(r.history).toHaveLength(layers);
      expect(r.history.at(-1)).toBeCloseTo(cellFreeMinRate(inst, dense), 12);
    }
  });

  it('a node waits only for the neighbours it listens to: a user for the APs in round 0, then for the users; an AP for nobody', () => {
    const alg = createAlgorithm({ name: 'cf-pcgnn', checkpoint: randomCfPcgnn(inst) });
    const views = cellFreeViews(inst);
    const ap = new NodeRunner(alg, views[0]), ue = new NodeRunner(alg, views[12]);
    expect(ap.complete()).toBe(true);
    expect(ue.complete()).toBe(false);
    for (let m = 0; m < 12; m++) ue.receiveSlot(m, new Float64Array(0));
    expect(ue.complete()).toBe(true);
    ue.update(0);
    expect(ue.complete()).toBe(false); // round 1: the 4 other users
    for (let i = 12; i < 16; i++) ue.receiveSlot(i, new Float64Array(8));
    expect(ue.complete()).toBe(true);
    // an AP's broadcast is empty; a user's in round 1 is its hidden state; an AP outputs nothing
    expect(ap.broadcast(0)).toHaveLength(0);
    expect(ue.broadcast(1)).toHaveLength(8);
    expect(ap.output()).toHaveLength(0);
    expect(ue.receive(1, 0, new Float64Array(0))).toBe(false); // an AP in round 1: not listened to
  });

  it('over NATS, one agent per AP and per user (hosts mixing types), CF-PCGNN and HetGNN equal the in-process run under the barrier and local clocks', async () => {
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    try {
      await c.launch(inst.M + inst.K, 5);
      for (const spec of [{ name: 'cf-pcgnn', checkpoint: randomCfPcgnn(inst) }, { name: 'hetgnn', checkpoint: randomHetgnn(inst) }])
      for (const clock of ['barrier', 'local'] as const) {
        const twin = runCellFreeInProcess(inst, spec);
        const r = await c.runCellFreeJob(inst, spec, { roundDeadlineMs: 20_000, policy: 'skip', clock });
        expect(r.rounds.map((x) => x.objective)).toEqual(twin.history);
        expect(Float64Array.from(r.outputs.slice(inst.M), (o) => o[0])).toEqual(twin.p);
        expect(r.outputs.slice(0, inst.M).every((o) => o.length === 0)).toBe(true);
        expect(r.rounds.every((x) => x.timedOut === 0)).toBe(true); // nobody waited for a node it does not listen to
        expect(r.counters).toMatchObject({ malformedData: 0, late: 0, duplicate: 0 });
      }
      await expect(c.runCellFreeJob(inst, { name: 'wmmse-dmp', iterations: 2 }, { roundDeadlineMs: 5000, policy: 'skip' })).rejects.toThrow('wmmse-dmp does not know the node types of a cell-free network (ap, ue)');
    } finally {
      await c.shutdown();
    }
  });

  it('an own module\'s output that is not a decision (a user\'s power of 2, an AP that outputs) fails the run in process as over NATS, naming the agent and round: in process it was scored as a result', async () => {
    const module = (output: string): AlgorithmSpec => {
      const dir = mkdtempSync(join(tmpdir(), 'dmpemu-cf-module-'));
      writeFileSync(join(dir, 'cf.mjs'), [
        'export default function () {',
        '  return { name: "cf", types: ["ap", "ue"], rounds: 2, period: 1, init: (v) => ({ v }), broadcastSize: () => 1, messageSize: () => 1, aggregation: () => "sum",',
        '    broadcast(s, t, out) { out[0] = 1; }, message(s, t, i, b, out) { out[0] = b[0]; }, update() {},',
        `    output: (s) => ${output} };`,
        '}',
      ].join('\n'));
      return { name: 'module', module: bundleModule(join(dir, 'cf.mjs'), 'test'), params: {} };
    };
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    try {
      await c.launch(inst.M + inst.K, 5);
      for (const [output, line] of [
        ['s.v.type === "ap" ? new Float64Array(0) : Float64Array.of(s.v.k === 14 ? 2 : 0.5)', 'agent 14 reported a power of 2, outside [0, 1] in round 0'],
        ['s.v.k === 3 ? Float64Array.of(1) : s.v.type === "ap" ? new Float64Array(0) : Float64Array.of(0.5)', 'agent 3 reported an output of length 1 from an AP, expected none in round 0'],
      ]) {
        const spec = module(output);
        await loadModule(spec.module!);
        expect(() => runCellFreeInProcess(inst, spec)).toThrow(new Error(line)); // before: scored
        await expect(c.runCellFreeJob(inst, spec, { roundDeadlineMs: 5000, policy: 'skip' })).rejects.toThrow(line);
      }
      // a valid one is scored the same both ways
      const ok = module('s.v.type === "ap" ? new Float64Array(0) : Float64Array.of(0.25 + 0.05 * (s.v.k % 4))');
      await loadModule(ok.module!);
      const r = await c.runCellFreeJob(inst, ok, { roundDeadlineMs: 5000, policy: 'skip' });
      expect(r.rounds.map((x) => x.objective)).toEqual(runCellFreeInProcess(inst, ok).history);
    } finally {
      await c.shutdown();
    }
  });

  it('hostile broadcasts on a typed network (a real client on the broker): the wrong size for the sender\'s type, a wrong sender, and traffic for a round nobody aggregates leave the result unchanged', async () => {
    const spec = { name: 'cf-pcgnn', checkpoint: randomCfPcgnn(inst) };
    const c = await Coordinator.start({ broker: inject('natsUrl') });
    const nc = await connect({ servers: inject('natsUrl') });
    try {
      await c.launch(inst.M + inst.K, 5);
      const s = subjects(c.runId);
      const job = () => (c as unknown as { job: number }).job;
      const r = await c.runCellFreeJob(inst, spec, {
        roundDeadlineMs: 20_000,
        policy: 'skip',
        onRound: (rec) => {
          if (rec.t !== 0) return;
          nc.publish(s.broadcast(13), encode([job(), 1, 13, new Float64Array(3)])); // a user's round-1 state is 8 numbers: malformed at the 4 other users (the 12 APs do not aggregate it)
          nc.publish(s.broadcast(13), encode([job(), 1, 14, new Float64Array(8)])); // on user 13's subject as user 14: malformed at all 16 that hear the subject
          nc.publish(s.broadcast(2), encode([job(), 1, 2, new Float64Array(0)])); // an AP in round 1: nobody aggregates it, dropped
        },
      });
      expect(r.rounds.map((x) => x.objective)).toEqual(runCellFreeInProcess(inst, spec).history);
      expect(r.counters.malformedData).toBe(4 + 16);
      expect(r.counters.conflicting).toBe(0);
    } finally {
      await nc.close();
      await c.shutdown();
    }
  });

  it('a checkpoint of the wrong shape is refused naming the weight', () => {
    const c = randomCfPcgnn(inst);
    const bad = makeCheckpoint({ ...c, weights: { ...c.weights, 'ap.kernel': { shape: [2, 8], data: new Float32Array(16) } } });
    expect(() => createAlgorithm({ name: 'cf-pcgnn', checkpoint: bad })).toThrow('cf-pcgnn checkpoint: weight ap.kernel has shape [2,8] with 16 values, expected [1,8]');
  });
});
