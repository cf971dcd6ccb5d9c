import type { DmpAlgorithm } from './contract.ts';
import type { Checkpoint, MpnnArchitecture } from './checkpoint.ts';
import { compileGraph, type CompiledGraph, type OnnxGraph } from './onnxGraph.ts';
import { scaleGain } from './wcgcnDmp.ts';
import type { LocalView } from '@dmpemu/wireless';

interface MpnnState {
  view: LocalView;
  /** x_k, the node state. */
  x: Float64Array;
  /** edge_attr per neighbour slot i at i * E (the `edge` columns). */
  edges: Float64Array;
}

/** The inputs a message graph may take (PyG's names) and an update graph. */
const MESSAGE_INPUTS = ['x_j', 'edge_attr', 'x_i'] as const;
const UPDATE_INPUTS = ['x', 'aggr_out'] as const;

/** The graph inputs of `g`, each one of `allowed`, all of `required` among them. */
function inputOrder<T extends string>(g: OnnxGraph, allowed: readonly T[], required: readonly T[], where: string): T[] {
  const bad = g.inputs.filter((n) => !(allowed as readonly string[]).includes(n));
  if (bad.length) throw new Error(`${where}: input ${JSON.stringify(bad[0])} is not one of ${allowed.join(', ')} (name the inputs with torch.onnx.export's input_names)`);
  const missing = required.filter((n) => !g.inputs.includes(n));
  if (missing.length) throw new Error(`${where}: the graph has no input ${missing.join(', ')} (its inputs: ${g.inputs.join(', ')})`);
  if (g.outputs.length !== 1) throw new Error(`${where}: the graph must have one output, it has ${g.outputs.length}`);
  return g.inputs as T[];
}

/**
 * An imported message-passing GNN (MpnnArchitecture; the PyG MessagePassing layer) as a DMP
 * algorithm, one round per layer: node k broadcasts x_k; its message from neighbour slot i is
 * message([x_j = b_j, edge_attr = e_jk, x_i = x_k]); the aggregate (0 when nothing arrived, as
 * PyG's scatter gives) goes with x_k through update([x, aggr_out]) to the new x_k; finally
 * p_k = Pmax x_k[output.power]. The ONNX graphs run on the interpreter of onnxGraph.ts.
 * `c` must be verified (createAlgorithm does); shapes are checked here by compiling the graphs.
 */
export function mpnnDmp(c: Checkpoint<MpnnArchitecture>, rounds = c.architecture.layers): DmpAlgorithm<MpnnState> {
  const a = c.architecture;
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`mpnn: rounds must be a positive integer, got ${rounds}`);
  if ((a.message.length > 1 || a.update.length > 1) && rounds !== a.layers) throw new Error(`mpnn: rounds must equal the model's layers (${a.layers}: it has a graph per round), got ${rounds}`);
  const S = a.state.length, E = a.edge.length;
  const weight = (prefix: string) => (name: string) => c.weights[`${prefix}/${name}`];
  const messages: { g: CompiledGraph; order: string[] }[] = a.message.map((g, r) => {
    const where = `mpnn: message graph${a.message.length > 1 ? ` of round ${r}` : ''}`;
    const order = inputOrder(g, MESSAGE_INPUTS, ['x_j'], where);
    return { g: compileGraph(g, order.map((n) => (n === 'edge_attr' ? E : S)), weight(`message.${r}`), where), order };
  });
  const M = messages[0].g.outputWidths[0];
  messages.forEach((m, r) => {
    if (m.g.outputWidths[0] !== M) throw new Error(`mpnn: the message graph of round ${r} gives ${m.g.outputWidths[0]} numbers, round 0's ${M}`);
  });
  const updates: { g: CompiledGraph; order: string[] }[] = a.update.map((g, r) => {
    const where = `mpnn: update graph${a.update.length > 1 ? ` of round ${r}` : ''}`;
    const order = inputOrder(g, UPDATE_INPUTS, UPDATE_INPUTS, where);
    const u = compileGraph(g, order.map((n) => (n === 'x' ? S : M)), weight(`update.${r}`), where);
    if (u.outputWidths[0] !== S) throw new Error(`${where}: its output has ${u.outputWidths[0]} numbers, the state x_k ${S} (the update must return the new x_k)`);
    return { g: u, order };
  });
  const at = <T>(l: T[], t: number): T => l[l.length === 1 ? 0 : t];
  const empty = new Float64Array(0);
  const feeds: Float64Array[] = [];
  const f = a.features;
  return {
    name: 'mpnn',
    rounds,
    period: 1,
    init(view) {
      const n = view.neighbours.length;
      const edges = new Float64Array(E * n);
      for (let i = 0; i < n; i++)
        a.edge.forEach((col, e) => (edges[i * E + e] = scaleGain(col === 'g_in' ? view.gIn[i] : view.gOut[i], 'cross', f)));
      const node = { direct: scaleGain(view.direct, 'direct', f), weight: view.weight, noise: view.noise, pmax: view.pmax };
      return { view, x: Float64Array.from(a.state, (s) => (typeof s === 'number' ? s : node[s])), edges };
    },
    broadcastSize: () => S,
    messageSize: () => M,
    aggregation: () => a.aggregation,
    broadcast(s, _t, out) {
      out.set(s.x);
    },
    message(s, t, i, b, out) {
      const m = at(messages, t);
      feeds.length = 0;
      for (const name of m.order) feeds.push(name === 'x_j' ? b : name === 'x_i' ? s.x : s.edges.subarray(i * E, (i + 1) * E));
      out.set(m.g.run(feeds)[0]);
    },
    update(s, t, y) {
      const u = at(updates, t);
      feeds.length = 0;
      for (const name of u.order) feeds.push(name === 'x' ? s.x : y ?? empty);
      s.x.set(u.g.run(feeds)[0]);
    },
    output: (s) => Float64Array.of(s.x[a.output.power] * s.view.pmax),
  };
}
