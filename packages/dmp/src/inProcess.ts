import { EvolvingChannel, largeScaleOf, localViews, objective, type Instance, type LocalView } from '@dmpemu/wireless';
import type { AlgorithmSpec } from './contract.ts';
import { createAlgorithm } from './algorithms.ts';
import { checkOutputs, OneKind, toDecision } from './decision.ts';
import { deliveryDelayMs, isLost, linkKm, publishDelayMs, type DeliveryFaults } from './deliveryFaults.ts';
import { linkReceive } from './messageFaults.ts';
import { pack, quantize } from './quantization.ts';
import { NodeRunner, type MissingPolicy } from './nodeRunner.ts';
import { isAway, silentOutput, type Absence } from './churn.ts';
import { linkScales, LocalChannel, refreshesAt, type ChannelFault } from './localChannel.ts';

export interface InProcessResult {
  /** Final outputs per node. */
  outputs: Float64Array[];
  /** True objective (weighted sum rate on the full channel) after every round. */
  history: number[];
  rounds: number;
  /** Per round, summed over the nodes: broadcasts received, neighbour messages missing, nodes that closed on the deadline (a delivery at or past it); as the coordinator records them over NATS. */
  received: number[];
  missing: number[];
  timedOut: number[];
  /**
   * Deliveries dropped by messageLoss or made undecodable by bitErrors, and deliveries at or past
   * the round deadline (late). Over NATS `late` differs: it misses deliveries that would arrive
   * after the job ended, and adds control messages of closed rounds.
   */
  lost: number;
  late: number;
}

export interface InProcessOptions {
  policy?: MissingPolicy;
  /** The local views to run on (default: the instance's own; faults may have altered them). */
  views?: LocalView[];
  /** Lost deliveries are skipped; a delivery later than `roundDeadlineMs` counts as missing. */
  faults?: DeliveryFaults;
  roundDeadlineMs?: number;
  /** churn: per agent, the rounds it is away (churn.ts). */
  churn?: (Absence | undefined)[];
  /** A time-varying channel: the objective is on the channel of the round, the nodes measure theirs anew every coherenceRounds. */
  channel?: ChannelFault;
  /** Evaluate the true objective after every round (default true; false for timing inference alone). */
  history?: boolean;
  /** Fail on an output that is not a decision (checkOutputs; default true): false where a diverging model's NaN is a number to record (training's validation). */
  checkOutputs?: boolean;
  /** After every round: the nodes' outputs then, each node's missing messages and the nodes that closed on the deadline (read-only). */
  onRound?: (t: number, outputs: Float64Array[], missing: number[], timedOut: number[]) => void;
}

/**
 * The in-process executor, the reference: every node is a NodeRunner given only its local view;
 * round t delivers each node's broadcast to the nodes that have it as a neighbour.
 */
export function runInProcess(inst: Instance, spec: AlgorithmSpec, o: InProcessOptions = {}): InProcessResult {
  const alg = createAlgorithm(spec, inst.Nt);
  const views = o.views ?? localViews(inst);
  const nodes = views.map((v) => new NodeRunner(alg, v, o.policy));
  const { faults } = o;
  const deadline = o.roundDeadlineMs ?? Infinity;
  const history: number[] = [];
  const kinds = OneKind.of(inst); // MISO with Nt = 1: one kind of output
  const away = (k: number, t: number): boolean => isAway(o.churn?.[k], t);
  const silent = silentOutput(inst.Nt);
  const outputsOf = (t: number): Float64Array[] => nodes.map((n, k) => (away(k, t) ? silent : n.output()));
  const channel = o.channel && new EvolvingChannel(inst, o.channel);
  const local = o.channel && views.map((v) => new LocalChannel(v, o.channel!, linkScales(largeScaleOf(inst)!, inst.K, v)));
  const received: number[] = [], missing: number[] = [], timedOut: number[] = [];
  let lost = 0, late = 0;
  for (let t = 0; t < alg.rounds; t++) {
    if (refreshesAt(o.channel, t)) nodes.forEach((n, k) => n.refresh(t, local![k].viewAt(t)));
    o.churn?.forEach((a, k) => a?.joinRound === t && nodes[k].rejoin());
    const raw = nodes.map((n, k) => (away(k, t) ? undefined : n.broadcast(t)));
    const q = faults?.quantization;
    const b = raw.map((x) => x && quantize(q, x));
    const packed = q && faults?.bitErrors ? raw.map((x) => x && pack(q, x)) : undefined;
    const missingNow = new Array<number>(nodes.length).fill(0);
    const closedOnDeadline: number[] = [];
    let receivedNow = 0;
    for (const node of nodes) {
      if (away(node.k, t)) continue;
      let closed = false;
      const nb = node.neighbours;
      for (let i = 0; i < nb.length; i++) {
        const j = nb[i];
        if (!node.listensAt(t, i)) continue; // node types: a neighbour it does not aggregate this round (agents ignore its message)
        if (away(j, t)) {
          node.awaySlot(i);
          continue;
        }
        if (!faults) {
          node.receiveSlot(i, b[j]!);
          continue;
        }
        // as the agents decide on arrival: a message is lost to messageLoss or to bit errors that
        // make it undecodable, and it arrives after j's straggling plus (unless lost) the link delay
        const seen = isLost(faults, t, j, node.k) ? undefined : linkReceive(faults, t, j, node.k, b[j]!, packed?.[j]);
        const arrival = seen ? deliveryDelayMs(faults, t, j, node.k, faults.distanceDelay ? linkKm(inst, j, node.k) : 0) : publishDelayMs(faults, j);
        if (arrival >= deadline) {
          late++; // the round closed on its deadline first
          closed = true;
        } else if (!seen) lost++;
        else node.receiveSlot(i, seen);
      }
      const r = node.update(t);
      receivedNow += r.received;
      missingNow[node.k] = r.missing;
      if (closed) closedOnDeadline.push(node.k);
    }
    received.push(receivedNow);
    missing.push(missingNow.reduce((s, m) => s + m, 0));
    timedOut.push(closedOnDeadline.length);
    const outputs = o.history !== false || o.onRound ? outputsOf(t) : undefined;
    if (outputs && o.checkOutputs !== false) checkOutputs(outputs, inst, t, alg.powerLimit ?? inst.pmax, kinds); // as the coordinator checks reports
    if (o.history !== false) history.push(objective(channel ? channel.at(t) : inst, toDecision(inst, outputs!)));
    o.onRound?.(t, outputs!, missingNow, closedOnDeadline);
  }
  return { outputs: outputsOf(alg.rounds - 1), history, rounds: alg.rounds, received, missing, timedOut, lost, late };
}

/**
 * Let the event loop run (signals, timers, I/O): the in-process executor and a training step
 * compute without a macrotask (awaits resolve as microtasks), so without this a SIGINT or
 * SIGTERM is never handled while they run.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
