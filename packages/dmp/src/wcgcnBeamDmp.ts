import type { LocalView } from '@dmpemu/wireless';
import type { Checkpoint, FeatureScaling, WcgcnArchitecture } from './checkpoint.ts';
import type { DmpAlgorithm } from './contract.ts';
import { DenseLayers } from './denseLayers.ts';
import { transformGain, validateWcgcn, wcgcnWidths } from './wcgcnDmp.ts';

/**
 * The input normalisation of a channel vector h in C^Nt (Nt reals `re[off..]`, `im[off..]`):
 * its direction kept, its norm r mapped to (T(r) - shift) / scale, written as Nt real parts then
 * Nt imaginary parts at `out[at..]`. A zero vector stays zero.
 */
export function scaleChannel(re: ArrayLike<number>, im: ArrayLike<number>, off: number, Nt: number, kind: 'direct' | 'cross', f: FeatureScaling, out: Float64Array | Float32Array, at: number): void {
  let r2 = 0;
  for (let n = 0; n < Nt; n++) r2 += re[off + n] * re[off + n] + im[off + n] * im[off + n];
  const r = Math.sqrt(r2);
  const factor = r > 0 ? (transformGain(r, f.transform) - f[kind].shift) / (f[kind].scale * r) : 0;
  for (let n = 0; n < Nt; n++) {
    out[at + n] = re[off + n] * factor;
    out[at + Nt + n] = im[off + n] * factor;
  }
}

/** sigma(y) = y / max(||y||, 1) of section V-C, in place: the projection onto ||v||^2 <= 1. */
export function clipToUnitBall(y: Float64Array | Float32Array, off = 0, n = y.length): void {
  let s = 0;
  for (let i = 0; i < n; i++) s += y[off + i] * y[off + i];
  if (s <= 1) return;
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < n; i++) y[off + i] *= inv;
}

/** Throws unless `c` is a beamforming WCGCN whose features keep a channel's direction. */
export function validateWcgcnBeam(c: Checkpoint<WcgcnArchitecture>): void {
  const a = c.architecture;
  if (a.task !== 'beamforming') throw new Error(`wcgcn beamforming: the checkpoint does ${JSON.stringify(a.task)}, expected "beamforming"`);
  if (a.features.transform === 'db') throw new Error('wcgcn beamforming: architecture.features.transform must be log1p or linear (db has no sign to scale a vector by)');
  if (a.features.direct.shift !== 0 || a.features.cross.shift !== 0) throw new Error('wcgcn beamforming: architecture.features shifts must be 0 (a shift would flip small channels)');
  validateWcgcn(c);
}

export interface WcgcnBeamState {
  view: LocalView;
  /** x_k = [scaled h_kk (2 Nt), v_k / sqrt(Pmax) (2 Nt)]. */
  x: Float64Array;
  /** Scaled e_jk per neighbour slot: h_jk (`in`), h_kj (`out`) or h_jk then h_kj (`both`), 2 Nt each. */
  edges: Float64Array;
}

/**
 * WCGCN beamforming as a DMP algorithm (eq. 8 with sigma(x) = x / max(||x||, 1), section V-C of
 * mpgnn-wcgcn-scalable-rrm.md): node k broadcasts x_k = [h_kk, v_k]; its message from slot i is
 * MLP1([x_j, e_jk]) with e_jk = h_jk, h_kj or both (`edges`) from its local view; max (or sum/mean) aggregation; v_k =
 * sigma(MLP2([x_k, aggregate])). v_k starts at 1/sqrt(Nt) (the WMMSE start of channel-models.md)
 * and is kept as v_k / sqrt(Pmax) so ||v_k||^2 <= Pmax. Output [Re v_k, Im v_k] (2 Nt numbers).
 * `c` must be verified (createAlgorithm does); its shapes are checked here.
 */
export function wcgcnBeamDmp(c: Checkpoint<WcgcnArchitecture>, rounds = c.architecture.layers): DmpAlgorithm<WcgcnBeamState> {
  validateWcgcnBeam(c);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`wcgcn: rounds must be a positive integer, got ${rounds}`);
  const a = c.architecture;
  const Nt = a.Nt!;
  const w = wcgcnWidths(a);
  const edgesIn = a.edges !== 'out';
  const edgesOut = a.edges === 'out' || a.edges === 'both';
  const mlp1 = new DenseLayers(a.mlp1, c.weights, 'mlp1', a.mlp1Output === 'relu');
  const mlp2 = new DenseLayers(a.mlp2, c.weights, 'mlp2', false);
  const msgSize = a.mlp1[a.mlp1.length - 1];
  const in1 = new Float64Array(a.mlp1[0]);
  const in2 = new Float64Array(a.mlp2[0]);
  const y = new Float64Array(w.output);
  const f = a.features;
  return {
    name: 'wcgcn',
    rounds,
    period: 1,
    init(view) {
      if (view.Nt !== Nt || !view.directRe || !view.directIm || !view.hInRe || !view.hInIm || !view.hOutRe || !view.hOutIm) {
        throw new Error(`wcgcn: the checkpoint does beamforming with Nt = ${Nt}; agent ${view.k} has Nt = ${view.Nt}${view.directRe ? '' : ' and no complex channels'}`);
      }
      const n = view.neighbours.length;
      const edges = new Float64Array(w.edge * n);
      for (let i = 0; i < n; i++) {
        if (edgesIn) scaleChannel(view.hInRe, view.hInIm, i * Nt, Nt, 'cross', f, edges, w.edge * i);
        if (edgesOut) scaleChannel(view.hOutRe, view.hOutIm, i * Nt, Nt, 'cross', f, edges, w.edge * i + (edgesIn ? 2 * Nt : 0));
      }
      const x = new Float64Array(w.node);
      scaleChannel(view.directRe, view.directIm, 0, Nt, 'direct', f, x, 0);
      x.fill(1 / Math.sqrt(Nt), 2 * Nt, 3 * Nt);
      return { view, x, edges };
    },
    broadcastSize: () => w.node,
    messageSize: () => msgSize,
    aggregation: () => a.aggregation,
    broadcast(s, _t, out) {
      out.set(s.x);
    },
    message(s, _t, i, b, out) {
      in1.set(b);
      for (let d = 0, at = w.edge * i; d < w.edge; d++) in1[w.node + d] = s.edges[at + d];
      mlp1.forward(in1, out);
    },
    update(s, _t, agg) {
      in2.set(s.x);
      in2.set(agg, w.node);
      mlp2.forward(in2, y);
      clipToUnitBall(y);
      s.x.set(y, 2 * Nt);
    },
    output(s) {
      const v = s.x.slice(2 * Nt);
      const root = Math.sqrt(s.view.pmax);
      for (let i = 0; i < v.length; i++) v[i] *= root;
      return v;
    },
  };
}
