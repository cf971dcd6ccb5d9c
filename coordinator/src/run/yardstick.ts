import { tsWorker } from './tsWorker.ts';
import { bestFplinqPower, objective, Rng, runCentralized, type Instance } from '@dmpemu/wireless';
import { NORMALISER_LABELS, NORMALISERS, type Normaliser } from '../scenario/algorithmNames.ts';

export { NORMALISER_LABELS, NORMALISERS, type Normaliser };

/** Centralized WMMSE with global CSI on the same instances: the yardstick of every comparison. */
export interface WmmseYardstick {
  /** Mean objective of WMMSE after 100 iterations (from the full-power start). */
  wmmse100: number;
  /** WMMSE-100 of each instance (per-instance ratios are taken against it). */
  perInstance: number[];
  /**
   * Mean objective after i iterations, i = 0 (the full-power start) .. iterations. Large networks
   * (measured in a worker) have it at i <= 10, every tenth i and the last two only, NaN (null in
   * JSON) elsewhere: each objective costs as much as a WMMSE iteration.
   */
  history: number[];
}

/** The yardstick with the normaliser a run divides by: `normaliser` is its mean, `perInstanceNormaliser` its value per instance. */
export interface RunYardstick extends WmmseYardstick {
  normaliseBy: Normaliser;
  normaliser: number;
  perInstanceNormaliser: number[];
}

/** Which normaliser and the seed of Best FPLinQ's random starts (instance n draws from Rng.derive(seed, n), as `best-fplinq` run as an algorithm does). */
export interface NormaliserOptions {
  normaliseBy: Normaliser;
  seed: number;
}

/** The normaliser of instance n: its WMMSE-100 (the curve's entry 100), or Best FPLinQ. */
export function normaliserOf(inst: Instance, n: number, curve: Float64Array, o: NormaliserOptions): number {
  return o.normaliseBy === 'wmmse-100' ? curve[100] : bestFplinqPower(inst, { rng: Rng.derive(o.seed, n), iterations: 100 }).value;
}

/** The iterations a large network's WMMSE curve is sampled at (those every table and comparison reads). */
export function sampled(t: number, n: number): boolean {
  return t <= 10 || t % 10 === 0 || t >= n - 1;
}

/** The objective of WMMSE after 0..n iterations (0: the full-power start) on one instance; `at` picks the iterations (others NaN). */
export function wmmseCurve(inst: Instance, n: number, at: (t: number) => boolean = () => true): Float64Array {
  const curve = new Float64Array(n + 1).fill(NaN);
  curve[0] = objective(inst, runCentralized('full', inst));
  runCentralized('wmmse', inst, { iterations: n, onIteration: (t, d) => void (at(t) && (curve[t] = objective(inst, d))) });
  return curve;
}

/** The yardstick from per-instance curves. */
export function fromCurves(curves: Float64Array[]): WmmseYardstick {
  const n = curves[0].length;
  const history = new Array<number>(n).fill(0);
  for (const c of curves) for (let i = 0; i < n; i++) history[i] += c[i] / curves.length;
  return { wmmse100: history[100], perInstance: curves.map((c) => c[100]), history };
}

export function wmmseYardstick(insts: Instance[], iterations = 100): WmmseYardstick {
  const n = Math.max(100, iterations);
  return fromCurves(insts.map((inst) => wmmseCurve(inst, n)));
}

function withNormaliser(y: WmmseYardstick, perInstanceNormaliser: number[], normaliseBy: Normaliser): RunYardstick {
  return { ...y, normaliseBy, normaliser: perInstanceNormaliser.reduce((s, v) => s + v, 0) / perInstanceNormaliser.length, perInstanceNormaliser };
}

/** Channel matrices at least this large (K^2 x instances) are measured in a worker thread, beside the run. */
const WORKER_FROM = 4e6;

/**
 * The yardstick of a network, computed while its algorithms run: in a worker thread for large
 * networks (centralized WMMSE-100 at K = 10^4 is about a minute on one core, Best FPLinQ about 101
 * times that), in the caller's thread otherwise. WMMSE's curve is always computed (the
 * rounds-against-iterations tables and `overtakes` need it); `of(n)` gives instance n's
 * normaliser (WMMSE-100 or Best FPLinQ) once it is known.
 */
export class Yardstick {
  private readonly known: (number | undefined)[];
  readonly done: Promise<RunYardstick>;

  /**
   * `onCurve` hears each instance's curve (WMMSE's objective after 0..n iterations) once known;
   * `workerFrom`: the K^2 x instances from which the worker thread is used (tests lower it).
   */
  constructor(
    insts: Instance[],
    iterations = 100,
    o: NormaliserOptions = { normaliseBy: 'wmmse-100', seed: 0 },
    onCurve: (instance: number, curve: Float64Array) => void = () => {},
    workerFrom = WORKER_FROM,
  ) {
    this.known = new Array(insts.length);
    const n = Math.max(100, iterations);
    if (insts.reduce((s, i) => s + i.K * i.K, 0) < workerFrom) {
      const curves = insts.map((inst) => wmmseCurve(inst, n));
      const normalisers = insts.map((inst, i) => normaliserOf(inst, i, curves[i], o));
      normalisers.forEach((v, i) => ((this.known[i] = v), onCurve(i, curves[i])));
      this.done = Promise.resolve(withNormaliser(fromCurves(curves), normalisers, o.normaliseBy));
      return;
    }
    for (const inst of insts) share(inst);
    this.done = inWorker(insts, n, o, (i, v, c) => ((this.known[i] = v), onCurve(i, c)));
    this.done.catch(() => {}); // awaited later: not an unhandled rejection meanwhile
  }

  of(instance: number): number | undefined {
    return this.known[instance];
  }
}

const WORKER = new URL('./yardstickWorker.ts', import.meta.url);

function inWorker(insts: Instance[], n: number, o: NormaliserOptions, onInstance: (i: number, normaliser: number, curve: Float64Array) => void): Promise<RunYardstick> {
  return new Promise((resolve, reject) => {
    const w = tsWorker(WORKER, { workerData: { insts, n, o } });
    const curves: Float64Array[] = [];
    const normalisers: number[] = [];
    w.on('message', (m: { i: number; curve: Float64Array; normaliser: number }) => {
      curves[m.i] = m.curve;
      normalisers[m.i] = m.normaliser;
      onInstance(m.i, m.normaliser, m.curve);
      if (curves.filter(Boolean).length === insts.length) {
        void w.terminate();
        resolve(withNormaliser(fromCurves(curves), normalisers, o.normaliseBy));
      }
    });
    w.on('error', reject);
    w.on('exit', (code) => curves.filter(Boolean).length < insts.length && reject(new Error(`the WMMSE yardstick worker exited with code ${code}`)));
  });
}

/** Move an instance's typed arrays into shared memory, so the worker reads them without a copy of 8 K^2 bytes. */
function share(inst: Instance): void {
  const o = inst as unknown as Record<string, unknown>;
  for (const [key, v] of Object.entries(o)) {
    if (!(v instanceof Float64Array || v instanceof Uint8Array) || v.buffer instanceof SharedArrayBuffer) continue;
    const Ctor = v.constructor as Float64ArrayConstructor | Uint8ArrayConstructor;
    const s = new Ctor(new SharedArrayBuffer(v.byteLength) as unknown as ArrayBuffer);
    s.set(v as never);
    o[key] = s;
  }
}
