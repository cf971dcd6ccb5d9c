import type { Instance } from './instance.ts';
import type { LocalView } from './localView.ts';
import type { Rng } from './rng.ts';

/**
 * Missing CSI (architecture.md, faults): edges removed from the receivers' local views; the true
 * channel still interferes. `uniform` removes round(fraction * n_k) of agent k's known edges chosen
 * at random, `weakest` the round(fraction * n_k) with the smallest g_jk, `distance` every edge
 * whose transmitter j is farther than `distance` metres from receiver k. `agents` limits it to
 * those receivers (default: all).
 */
export interface MissingCsiSpec {
  select: 'uniform' | 'weakest' | 'distance';
  fraction?: number;
  distance?: number;
  agents?: number[];
}

/** A copy of `inst` whose CSI mask lacks the chosen edges (gains and positions untouched). */
export function withMissingCsi(inst: Instance, spec: MissingCsiSpec, rng: Rng): Instance {
  const { K } = inst;
  const csi = new Uint8Array(K * K);
  for (let j = 0; j < K; j++) for (let k = 0; k < K; k++) if (j !== k && (inst.csi === undefined || inst.csi[j * K + k] === 1)) csi[j * K + k] = 1;
  const targets = spec.agents ?? Array.from({ length: K }, (_, k) => k);
  for (const k of targets) {
    if (!Number.isInteger(k) || k < 0 || k >= K) throw new Error(`missingCsi.agents: agent ${k} is not in [0, ${K})`);
    const known: number[] = [];
    for (let j = 0; j < K; j++) if (csi[j * K + k] === 1) known.push(j);
    let drop: number[];
    if (spec.select === 'distance') {
      if (spec.distance === undefined) throw new Error('missingCsi: select "distance" needs a distance in metres');
      if (!inst.tx || !inst.rx) throw new Error(`missingCsi: select "distance" needs positions; model ${inst.model} has none`);
      const { tx, rx } = inst;
      drop = known.filter((j) => Math.hypot(tx[2 * j] - rx[2 * k], tx[2 * j + 1] - rx[2 * k + 1]) > spec.distance!);
    } else {
      const n = Math.round((spec.fraction ?? 0) * known.length);
      if (spec.select === 'weakest') drop = [...known].sort((a, b) => inst.gain[a * K + k] - inst.gain[b * K + k]).slice(0, n);
      else drop = shuffled(known, rng).slice(0, n);
    }
    for (const j of drop) csi[j * K + k] = 0;
  }
  return { ...inst, csi };
}

function shuffled<T>(xs: T[], rng: Rng): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const r = rng.int(i + 1);
    [a[i], a[r]] = [a[r], a[i]];
  }
  return a;
}

/**
 * CSI estimation error on a local view (every channel entry: direct and edges, SISO and MISO).
 * `multiplicative`: g' = g * max(0, 1 + std * z); `log-normal`: g' = g * 10^(std * z / 20), an
 * error of `std` dB. z ~ N(0, 1) from `rng`. MISO entries get the same factor on re and im.
 */
export interface CsiNoiseSpec {
  kind: 'multiplicative' | 'log-normal';
  std: number;
}

export function withCsiNoise(view: LocalView, spec: CsiNoiseSpec, rng: Rng): LocalView {
  const factor = (): number => {
    const z = rng.normal();
    return spec.kind === 'multiplicative' ? Math.max(0, 1 + spec.std * z) : 10 ** ((spec.std * z) / 20);
  };
  const scaleMiso = (re: Float64Array | undefined, im: Float64Array | undefined, f: Float64Array, Nt: number): [Float64Array, Float64Array] | undefined => {
    if (!re || !im) return undefined;
    const r = re.slice(), m = im.slice();
    for (let i = 0; i < r.length; i++) {
      r[i] *= f[Math.floor(i / Nt)];
      m[i] *= f[Math.floor(i / Nt)];
    }
    return [r, m];
  };
  const n = view.neighbours.length;
  const fDirect = factor();
  const fIn = Float64Array.from({ length: n }, factor);
  const fOut = Float64Array.from({ length: n }, factor);
  const out: LocalView = {
    ...view,
    direct: view.direct * fDirect,
    gIn: view.gIn.map((g, i) => g * fIn[i]),
    gOut: view.gOut.map((g, i) => g * fOut[i]),
  };
  const d = scaleMiso(view.directRe, view.directIm, Float64Array.of(fDirect), view.Nt);
  if (d) [out.directRe, out.directIm] = d;
  const hin = scaleMiso(view.hInRe, view.hInIm, fIn, view.Nt);
  if (hin) [out.hInRe, out.hInIm] = hin;
  const hout = scaleMiso(view.hOutRe, view.hOutIm, fOut, view.Nt);
  if (hout) [out.hOutRe, out.hOutIm] = hout;
  return out;
}
