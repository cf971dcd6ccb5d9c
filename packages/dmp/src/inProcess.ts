import { localView, objective, type Instance } from '@dmpemu/wireless';
import type { AlgorithmSpec } from './contract.ts';
import { createAlgorithm } from './algorithms.ts';
import { toDecision } from './decision.ts';
import { NodeRunner, type MissingPolicy } from './nodeRunner.ts';

export interface InProcessResult {
  /** Final outputs per node. */
  outputs: Float64Array[];
  /** True objective (weighted sum rate on the full channel) after every round. */
  history: number[];
  rounds: number;
}

/**
 * The in-process executor, the reference: every node is a NodeRunner given only its local view;
 * round t delivers each node's broadcast to the nodes that have it as a neighbour.
 */
export function runInProcess(inst: Instance, spec: AlgorithmSpec, o: { policy?: MissingPolicy } = {}): InProcessResult {
  const alg = createAlgorithm(spec);
  const nodes = Array.from({ length: inst.K }, (_, k) => new NodeRunner(alg, localView(inst, k), o.policy));
  const history: number[] = [];
  for (let t = 0; t < alg.rounds; t++) {
    const b = nodes.map((n) => n.broadcast(t));
    for (const node of nodes) {
      for (const j of node.neighbours) node.receive(t, j, b[j]);
      node.update(t);
    }
    history.push(objective(inst, toDecision(inst, nodes.map((n) => n.output()))));
  }
  return { outputs: nodes.map((n) => n.output()), history, rounds: alg.rounds };
}
