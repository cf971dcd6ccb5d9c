/**
 * The compact forms in which a network's layout and its agents' state leave the process: into a
 * run directory (layouts.jsonl, agents.jsonl) and to the dashboard's pages. Positions are rounded
 * to centimetres, powers to 4 significant digits, CSI edges packed as base64 of little-endian
 * uint16 pairs (j, k): K is at most 10000.
 */
import type { RoundAgents } from '../run/observer.ts';

export interface Layout {
  K: number;
  /** Geometric models: positions in metres, x and y interleaved (absent: the page draws a circle). */
  tx?: number[];
  rx?: number[];
  /** Links j -> k within CSI (agent k knows the edge): base64 of uint16 LE pairs, or 'all' (full CSI). */
  edges: string;
  /** Number of links. */
  links: number;
  /** Cell-free: agents 0..M-1 are access points, the others users; tx and rx are each agent's position, edges the AP -> user links. */
  M?: number;
}

/** Per agent, as the page draws it: power, and who was dead, timed out or short of messages (pairs [k, count]). */
export interface AgentState {
  power: number[];
  dead: number[];
  timedOut: number[];
  missing: [number, number][];
}

const cm = (xs: ArrayLike<number>): number[] => Array.from(xs, (x) => Math.round(x * 100) / 100);

export function encodeLayout(K: number, tx: ArrayLike<number> | undefined, rx: ArrayLike<number> | undefined, edges: readonly number[], M?: number): Layout {
  const links = edges.length / 2;
  const out: Layout = { K, edges: links === K * (K - 1) && K > 1 ? 'all' : packPairs(edges), links, ...(M === undefined ? {} : { M }) };
  if (tx && rx) {
    out.tx = cm(tx);
    out.rx = cm(rx);
  }
  return out;
}

function packPairs(edges: readonly number[]): string {
  const b = Buffer.alloc(2 * edges.length);
  for (let i = 0; i < edges.length; i++) b.writeUInt16LE(edges[i], 2 * i);
  return b.toString('base64');
}

/** The (j, k) pairs of a layout's `edges` (undefined for 'all'). */
export function unpackPairs(edges: string): Uint16Array | undefined {
  if (edges === 'all') return undefined;
  const b = Buffer.from(edges, 'base64');
  const out = new Uint16Array(b.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = b.readUInt16LE(2 * i);
  return out;
}

const sig4 = (x: number): number => (x === 0 || !Number.isFinite(x) ? x : Number(x.toPrecision(4)));

export function agentState(a: RoundAgents): AgentState {
  const missing: [number, number][] = [];
  a.missing.forEach((m, k) => m > 0 && missing.push([k, m]));
  return { power: a.power.map(sig4), dead: [...a.dead], timedOut: [...a.timedOut], missing };
}
