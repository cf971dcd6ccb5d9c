import { localViews, objective, type Instance, type LocalView } from '@dmpemu/wireless';
import type { AlgorithmSpec } from './contract.ts';
import { createAlgorithm } from './algorithms.ts';
import { activation, type AsyncClock } from './asyncClock.ts';
import { checkOutputs, OneKind, toDecision } from './decision.ts';
import { isLost, linkDelayMs, linkKm, publishDelayMs, type DeliveryFaults } from './deliveryFaults.ts';
import { NodeRunner, type MissingPolicy, type RoundOutcome } from './nodeRunner.ts';
import { linkReceive } from './messageFaults.ts';
import { pack, quantize } from './quantization.ts';

export interface AsyncInProcessOptions {
  policy?: MissingPolicy;
  views?: LocalView[];
  /** Loss, link delays and stragglers, in virtual milliseconds. */
  faults?: DeliveryFaults;
}

export interface AsyncResult {
  /** Final outputs per node. */
  outputs: Float64Array[];
  /** Objective after iteration r: every agent's decision after its r-th update. */
  history: number[];
  /** Virtual time (ms) at which every agent had made its r-th update. */
  iterationMs: number[];
  /** How old the broadcasts used in updates were, in rounds of the algorithm: receiver's round minus the message's (count by age). */
  staleness: Record<string, number>;
  /** Activations per agent (updates are always the algorithm's rounds). */
  activations: number[];
  /** Per iteration r, summed over the agents: broadcasts that arrived since their previous update, and neighbours of r's phase nothing was held from; as the NATS agents report them. */
  received: number[];
  missing: number[];
  /** Per iteration r, each agent's missing neighbours (what it reports over NATS). */
  agentMissing: number[][];
  /** Deliveries dropped by messageLoss or bit errors; deliveries older than the one already held (late). */
  lost: number;
  late: number;
}

/** The latest broadcast kept per neighbour slot and phase, with the round it was sent for. */
export type Latest = ({ t: number; b: Float64Array } | undefined)[][];

/**
 * One update of the async clock (asyncClock.ts) on a node: feed it, for round r, the latest
 * broadcast of each neighbour of r's phase, update, and count how old each was. Shared by the
 * in-process twin and the NATS agents, so both compute the same function of what they hold.
 */
export function asyncUpdate(node: NodeRunner<unknown>, latest: Latest, r: number, staleness: Record<string, number>): RoundOutcome {
  const phase = latest[r % latest.length];
  for (let i = 0; i < phase.length; i++) {
    const m = phase[i];
    if (!m) continue;
    node.receiveSlot(i, m.b);
    const age = String(r - m.t);
    staleness[age] = (staleness[age] ?? 0) + 1;
  }
  return node.update(r);
}

/** Keep a broadcast of round t from slot i if it is the newest of its phase. */
export function keepLatest(latest: Latest, i: number, t: number, b: Float64Array): boolean {
  const phase = latest[t % latest.length];
  const prior = phase[i];
  if (prior && prior.t >= t) return false;
  phase[i] = { t, b };
  return true;
}

interface Event {
  ms: number;
  /** Activations before deliveries at the same time (a broadcast sent at T is heard after T: jitter 0 is the synchronous schedule), then by insertion. */
  order: number;
  seq: number;
  run: () => void;
}

/** A binary min-heap of events by (ms, order, seq). */
class Events {
  private readonly h: Event[] = [];
  private seq = 0;
  push(ms: number, order: number, run: () => void): void {
    const e = { ms, order, seq: this.seq++, run };
    const h = this.h;
    h.push(e);
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  pop(): Event | undefined {
    const h = this.h;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && less(h[l], h[m])) m = l;
        if (r < h.length && less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

function less(a: Event, b: Event): boolean {
  return a.ms !== b.ms ? a.ms < b.ms : a.order !== b.order ? a.order < b.order : a.seq < b.seq;
}

/**
 * The async clock in process, on virtual time: the same seeded activation schedule, link delays
 * and losses as the NATS agents, so an async study is reproducible here (the NATS run is real
 * time and close to it, not equal).
 */
export function runAsyncInProcess(inst: Instance, spec: AlgorithmSpec, clock: AsyncClock, o: AsyncInProcessOptions = {}): AsyncResult {
  const alg = createAlgorithm(spec, inst.Nt);
  const views = o.views ?? localViews(inst);
  const nodes = views.map((v) => new NodeRunner(alg, v, o.policy));
  const R = alg.rounds;
  const K = inst.K;
  const f = o.faults;
  const latest: Latest[] = nodes.map((n) => Array.from({ length: alg.period }, () => new Array(n.neighbours.length)));
  const listeners: { k: number; slot: number }[][] = Array.from({ length: K }, () => []);
  nodes.forEach((n, k) => n.neighbours.forEach((j, slot) => listeners[j].push({ k, slot })));
  const outputs: Float64Array[][] = nodes.map(() => []);
  const updateMs: number[][] = nodes.map(() => []);
  const done = new Array<number>(K).fill(0);
  const activations = new Array<number>(K).fill(0);
  const staleness: Record<string, number> = {};
  const arrived = new Array<number>(K).fill(0);
  const received: number[][] = nodes.map(() => []);
  const missing: number[][] = nodes.map(() => []);
  let lost = 0, late = 0;
  const q = new Events();
  /** j's round-t broadcast `raw` reaches its listeners: quantised, read through the message faults, lost or delayed per link. */
  const publish = (j: number, t: number, raw: Float64Array, at: number): void => {
    const sent = at + publishDelayMs(f, j);
    const quant = f?.quantization;
    const b = quantize(quant, raw);
    const packed = quant && f?.bitErrors ? pack(quant, raw) : undefined;
    for (const { k, slot } of listeners[j]) {
      if (!nodes[k].listensAt(t, slot)) continue; // node types: agents ignore a neighbour they do not aggregate in round t
      const seen = isLost(f, t, j, k) ? undefined : linkReceive(f, t, j, k, b, packed);
      if (!seen) lost++;
      else q.push(sent + linkDelayMs(f, t, j, k, f?.distanceDelay ? linkKm(inst, j, k) : 0), 2, () => (keepLatest(latest[k], slot, t, seen) ? arrived[k]++ : late++));
    }
  };
  const activate = (k: number, i: number, at: number): void => {
    activations[k]++;
    if (activation(clock, k, i).updates) {
      const r = done[k];
      missing[k].push(asyncUpdate(nodes[k], latest[k], r, staleness).missing);
      received[k].push(arrived[k]);
      arrived[k] = 0;
      outputs[k].push(nodes[k].output());
      updateMs[k].push(at);
      done[k] = r + 1;
      if (r + 1 < R) publish(k, r + 1, nodes[k].broadcast(r + 1), at);
    }
    if (done[k] < R) {
      const next = at + activation(clock, k, i + 1).afterMs;
      q.push(next, 1, () => activate(k, i + 1, next));
    }
  };
  for (let k = 0; k < K; k++) publish(k, 0, nodes[k].broadcast(0), 0);
  for (let k = 0; k < K; k++) {
    const first = activation(clock, k, 0).afterMs;
    q.push(first, 1, () => activate(k, 0, first));
  }
  for (let e = q.pop(); e; e = q.pop()) e.run();
  const history: number[] = [];
  const kinds = OneKind.of(inst); // MISO with Nt = 1: one kind of output
  const iterationMs: number[] = [];
  const sumAt = (per: number[][], r: number): number => per.reduce((s, x) => s + x[r], 0);
  for (let r = 0; r < R; r++) {
    const now = outputs.map((o) => o[r]);
    checkOutputs(now, inst, r, alg.powerLimit ?? inst.pmax, kinds); // as the coordinator checks reports
    history.push(objective(inst, toDecision(inst, now)));
    iterationMs.push(Math.max(...updateMs.map((m) => m[r])));
  }
  const rounds = [...Array(R).keys()];
  return { outputs: outputs.map((o) => o[R - 1]), history, iterationMs, staleness, activations, received: rounds.map((r) => sumAt(received, r)), missing: rounds.map((r) => sumAt(missing, r)), agentMissing: rounds.map((r) => missing.map((m) => m[r])), lost, late };
}
