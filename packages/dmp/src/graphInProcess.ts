import { cellFreeMinRate, cellFreeTerms, cellFreeViews, type CellFreeInstance, type LocalView } from '@dmpemu/wireless';
import type { AlgorithmSpec } from './contract.ts';
import { createAlgorithm } from './algorithms.ts';
import { NodeRunner } from './nodeRunner.ts';

/**
 * The in-process executor on any graph given by its local views (node k is views[k]; node types
 * included): round t hands every node the broadcasts of the neighbours it listens to, in slot
 * order, as runInProcess does for networks of pairs (which adds the faults). `check` says why a
 * node's output is not a decision (the run fails: `agent k reported <why> in round t`, as over
 * NATS); `evaluate` scores the outputs after every round.
 */
export function runGraphInProcess(views: LocalView[], spec: AlgorithmSpec, evaluate: (outputs: Float64Array[]) => number, check?: (k: number, out: Float64Array) => string | undefined): { outputs: Float64Array[]; history: number[]; received: number[] } {
  views.forEach((v, k) => {
    if (v.k !== k) throw new Error(`runGraphInProcess: views[${k}] is the view of node ${v.k}`);
  });
  const alg = createAlgorithm(spec, 1);
  const nodes = views.map((v) => new NodeRunner(alg, v));
  const history: number[] = [];
  /** Per round: broadcasts delivered, summed over the nodes. */
  const received: number[] = [];
  for (let t = 0; t < alg.rounds; t++) {
    const b = nodes.map((n) => n.broadcast(t));
    let delivered = 0;
    for (const node of nodes) {
      const nb = node.neighbours;
      for (let i = 0; i < nb.length; i++) if (node.heard(i)) node.receiveSlot(i, b[nb[i]]);
      delivered += node.update(t).received;
    }
    received.push(delivered);
    const outputs = nodes.map((n) => n.output());
    outputs.forEach((out, k) => {
      const bad = check?.(k, out);
      if (bad) throw new Error(`agent ${k} reported ${bad} in round ${t}`);
    });
    history.push(evaluate(outputs));
  }
  return { outputs: nodes.map((n) => n.output()), history, received };
}

/** Why node k's output on a cell-free network of M APs is not a decision (undefined: it is): an AP outputs nothing, a user a power in [0, 1] (of its Pmax). */
export function checkCellFreeOutput(M: number, k: number, out: Float64Array): string | undefined {
  if (k < M) return out.length === 0 ? undefined : `an output of length ${out.length} from an AP, expected none`;
  if (out.length !== 1) return `an output of length ${out.length}, expected 1 (a power)`;
  return Number.isFinite(out[0]) && out[0] >= 0 && out[0] <= 1 + 1e-9 ? undefined : `a power of ${out[0]}, outside [0, 1]`;
}

/** A DMP on a cell-free network in process: one node per AP and per user (cellFreeViews); the objective is eq. 6's minimum rate of the users' powers. */
export function runCellFreeInProcess(inst: CellFreeInstance, spec: AlgorithmSpec): { p: Float64Array; history: number[]; received: number[] } {
  const terms = cellFreeTerms(inst);
  const powers = (outputs: Float64Array[]): Float64Array => Float64Array.from(outputs.slice(inst.M), (o) => o[0]);
  const r = runGraphInProcess(cellFreeViews(inst), spec, (out) => cellFreeMinRate(inst, powers(out), terms), (k, out) => checkCellFreeOutput(inst.M, k, out));
  return { p: powers(r.outputs), history: r.history, received: r.received };
}
