import { localViews, objective, type Instance, type LocalView } from '@dmpemu/wireless';
import type { AlgorithmSpec } from './contract.ts';
import { createAlgorithm } from './algorithms.ts';
import { toDecision } from './decision.ts';
import { deliveryDelayMs, isLost, linkKm, type DeliveryFaults } from './deliveryFaults.ts';
import { linkReceive } from './messageFaults.ts';
import { pack, quantize } from './quantization.ts';
import { NodeRunner, type MissingPolicy } from './nodeRunner.ts';

export interface InProcessResult {
  /** Final outputs per node. */
  outputs: Float64Array[];
  /** True objective (weighted sum rate on the full channel) after every round. */
  history: number[];
  rounds: number;
}

export interface InProcessOptions {
  policy?: MissingPolicy;
  /** The local views to run on (default: the instance's own; faults may have altered them). */
  views?: LocalView[];
  /** Lost deliveries are skipped; a delivery later than `roundDeadlineMs` counts as missing. */
  faults?: DeliveryFaults;
  roundDeadlineMs?: number;
  /** Evaluate the true objective after every round (default true; false for timing inference alone). */
  history?: boolean;
  /** After every round: the nodes' outputs then (read-only). */
  onRound?: (t: number, outputs: Float64Array[]) => void;
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
  for (let t = 0; t < alg.rounds; t++) {
    const raw = nodes.map((n) => n.broadcast(t));
    const q = faults?.quantization;
    const b = raw.map((x) => quantize(q, x));
    const packed = q && faults?.bitErrors ? raw.map((x) => pack(q, x)) : undefined;
    for (const node of nodes) {
      for (const j of node.neighbours) {
        if (isLost(faults, t, j, node.k) || deliveryDelayMs(faults, t, j, node.k, faults?.distanceDelay ? linkKm(inst, j, node.k) : 0) >= deadline) continue;
        const seen = linkReceive(faults, t, j, node.k, b[j], packed?.[j]);
        if (seen) node.receive(t, j, seen); // undefined: bit errors made it undecodable (lost)
      }
      node.update(t);
    }
    const outputs = o.history !== false || o.onRound ? nodes.map((n) => n.output()) : undefined;
    if (o.history !== false) history.push(objective(inst, toDecision(inst, outputs!)));
    o.onRound?.(t, outputs!);
  }
  return { outputs: nodes.map((n) => n.output()), history, rounds: alg.rounds };
}
