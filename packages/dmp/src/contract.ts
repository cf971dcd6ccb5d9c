import type { LocalView } from '@dmpemu/wireless';
import type { Checkpoint } from './checkpoint.ts';
import type { ModuleCode } from './modules.ts';

/** Permutation-invariant aggregation of the messages a node receives in a round. */
export type Aggregation = 'sum' | 'max' | 'mean';

/**
 * A distributed message passing (DMP) algorithm (Algorithm 1 of mpgnn-wcgcn-scalable-rrm.md;
 * architecture.md): per node k and round t,
 *   b_k = broadcast(x_k)                       what k publishes to its neighbours
 *   m_jk = message(x_k, b_j, e_jk)             what k makes of neighbour j's broadcast
 *   y_k = aggregate_j m_jk                     sum, max or mean
 *   x_k = update(x_k, y_k)
 * and finally output(x_k). A node only ever sees its own local view. `S` is the node state.
 * With node types (`types`; a view says its node's type and each neighbour's), sizes and the
 * aggregation may depend on the type (the receiver's for messages, the sender's for broadcasts),
 * `message` on the sender's type (view.neighbourTypes[i]), and `listens` says which neighbours a
 * node aggregates in a round (HetGNN: the other type; CF-PCGNN: the APs, then the other users).
 */
export interface DmpAlgorithm<S> {
  readonly name: string;
  /** Communication rounds the algorithm runs. */
  readonly rounds: number;
  /** Rounds after which the meaning of a broadcast repeats (WMMSE: 2, a GNN layer: 1). */
  readonly period: number;
  /**
   * The largest power (or beamformer power) the algorithm may output when that is not the
   * instance's Pmax (REGNN's on-power p0); the coordinator refuses outputs above it.
   */
  readonly powerLimit?: number;
  init(view: LocalView): S;
  /** Node types the algorithm knows (absent: the one type of transceiver pairs). */
  readonly types?: readonly string[];
  /** Length of the broadcast vector in round t (of a node of `type`, with node types). */
  broadcastSize(t: number, type?: string): number;
  /** Length of the message vector in round t (at a receiver of `type`, with node types). */
  messageSize(t: number, type?: string): number;
  aggregation(t: number, type?: string): Aggregation;
  /** Node types: whether the node of `view` aggregates neighbour slot i in round t (absent: every slot); the others are not waited for. */
  listens?(view: LocalView, t: number, i: number): boolean;
  broadcast(s: S, t: number, out: Float64Array): void;
  /** The message from neighbour slot i (j = view.neighbours[i]) given its broadcast b_j. */
  message(s: S, t: number, i: number, b: Float64Array, out: Float64Array): void;
  /** Update with the aggregate y (of `received` messages; may be fewer than the neighbours under faults). */
  update(s: S, t: number, y: Float64Array, received: number): void;
  /**
   * The agent measured its channel anew at the start of round t (faults.channel, a time-varying
   * channel): go on from state s with the CSI of `view` (the same agent, neighbours and node
   * features; new amplitudes), now or from a later round of its choice (WMMSE: the next iteration).
   * Algorithms without it cannot run on a time-varying channel (refused before the run).
   */
  refresh?(s: S, t: number, view: LocalView): void;
  /** The decision: [p_k] for power control, [Re v_k..., Im v_k...] (2 Nt numbers) for beamforming. */
  output(s: S): Float64Array;
}

/** What a coordinator ships to an agent to name an algorithm: plain data. */
export interface AlgorithmSpec {
  name: string;
  /** WMMSE iterations (wmmse-dmp: 2 rounds each). */
  iterations?: number;
  /** Learned algorithms (wcgcn): the trained model, verified against its hash before use. */
  checkpoint?: Checkpoint;
  /** Learned algorithms: rounds to run (default: the layers it was trained with; the layers share weights). */
  rounds?: number;
  /** `name: 'module'`: an own algorithm's bundled code (modules.ts) and the parameters its factory gets. */
  module?: ModuleCode;
  params?: Record<string, unknown>;
}
