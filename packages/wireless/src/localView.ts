import { knowsEdge, type Instance } from './instance.ts';

/**
 * Everything agent k is ever given (architecture.md, "local view"): its node features and, for
 * each neighbour j within its CSI, the edge features e_jk = [g_jk, g_kj]. Plain data (numbers and
 * typed arrays) so it can be shipped over the wire as it is.
 */
export interface LocalView {
  /** This agent's index k. */
  k: number;
  /** Node features. */
  weight: number;
  noise: number;
  pmax: number;
  /** Transmit antennas (1 for SISO). */
  Nt: number;
  /** Direct channel: amplitude g_kk (SISO) or ||h_kk|| (MISO). */
  direct: number;
  /** MISO only: h_kk in C^Nt. */
  directRe?: Float64Array;
  directIm?: Float64Array;
  /** N(k): the neighbours j whose edge (j, k) agent k knows, ascending. */
  neighbours: Int32Array;
  /** Edge features, one entry per neighbour n = neighbours[i]: g_jk (incoming) and g_kj (outgoing). */
  gIn: Float64Array;
  gOut: Float64Array;
  /** MISO only: h_jk and h_kj at offset i * Nt. */
  hInRe?: Float64Array;
  hInIm?: Float64Array;
  hOutRe?: Float64Array;
  hOutIm?: Float64Array;
  /**
   * Networks with node types (cell-free: 'ap' and 'ue'): this node's type and each neighbour
   * slot's; absent on the one-type networks of transceiver pairs.
   */
  type?: string;
  neighbourTypes?: string[];
}

/** The local view of agent k: exactly its node features and the edges within its CSI. */
export function localView(inst: Instance, k: number): LocalView {
  const { K, Nt } = inst;
  const nb: number[] = [];
  for (let j = 0; j < K; j++) if (j !== k && knowsEdge(inst, j, k)) nb.push(j);
  const n = nb.length;
  const view: LocalView = {
    k,
    weight: inst.weights[k],
    noise: inst.noise,
    pmax: inst.pmax,
    Nt,
    direct: inst.gain[k * K + k],
    neighbours: Int32Array.from(nb),
    gIn: Float64Array.from(nb, (j) => inst.gain[j * K + k]),
    gOut: Float64Array.from(nb, (j) => inst.gain[k * K + j]),
  };
  if (inst.hRe && inst.hIm) {
    const { hRe, hIm } = inst;
    const slice = (a: Float64Array, i: number, j: number): Float64Array => a.slice((i * K + j) * Nt, (i * K + j + 1) * Nt);
    view.directRe = slice(hRe, k, k);
    view.directIm = slice(hIm, k, k);
    view.hInRe = new Float64Array(n * Nt);
    view.hInIm = new Float64Array(n * Nt);
    view.hOutRe = new Float64Array(n * Nt);
    view.hOutIm = new Float64Array(n * Nt);
    nb.forEach((j, i) => {
      view.hInRe!.set(slice(hRe, j, k), i * Nt);
      view.hInIm!.set(slice(hIm, j, k), i * Nt);
      view.hOutRe!.set(slice(hRe, k, j), i * Nt);
      view.hOutIm!.set(slice(hIm, k, j), i * Nt);
    });
  }
  return view;
}

/** The local views of all agents of an instance. */
export function localViews(inst: Instance): LocalView[] {
  return Array.from({ length: inst.K }, (_, k) => localView(inst, k));
}
