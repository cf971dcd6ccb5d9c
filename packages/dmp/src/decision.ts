import type { Decision, Instance } from '@dmpemu/wireless';

/**
 * Whether the outputs are beamformers: always with Nt > 1; on a MISO network with Nt = 1 when any
 * node gave 2 numbers (a silent node's [0] is then v_k = 0, not a reason to read the others' Re v_k
 * as powers).
 */
function isBeam(inst: Instance, outputs: ArrayLike<Float64Array>): boolean {
  if (inst.Nt > 1) return true;
  for (let k = 0; k < outputs.length; k++) if (outputs[k].length === 2) return true;
  return false;
}

/** Assemble the per-node outputs ([p_k], or [Re v_k, Im v_k]) into a decision on the whole instance. */
export function toDecision(inst: Instance, outputs: ArrayLike<Float64Array>): Decision {
  const { K, Nt } = inst;
  if (!isBeam(inst, outputs)) return { kind: 'power', p: Float64Array.from({ length: K }, (_, k) => outputs[k][0]) };
  const vRe = new Float64Array(K * Nt);
  const vIm = new Float64Array(K * Nt);
  for (let k = 0; k < K; k++) {
    if (outputs[k].length !== 2 * Nt) continue; // silent: v_k = 0 (OneKind refuses a power beside beams)
    vRe.set(outputs[k].subarray(0, Nt), k * Nt);
    vIm.set(outputs[k].subarray(Nt, 2 * Nt), k * Nt);
  }
  return { kind: 'beam', vRe, vIm };
}

/**
 * A run's outputs on a MISO network with Nt = 1, where each is a power or a beamformer: its
 * decisions hold one kind, except powers of 0 (silent nodes) beside beamformers.
 */
export class OneKind {
  private beamFrom?: number;
  private powerFrom?: number;

  /** A fresh check for a run on `inst`; undefined where no output can be of either kind (anything but MISO with Nt = 1). */
  static of(inst: Instance): OneKind | undefined {
    return inst.Nt === 1 && inst.hRe !== undefined ? new OneKind() : undefined;
  }

  /** Why node k's valid output cannot stand beside the run's earlier ones (undefined: it can, and is recorded). */
  admit(k: number, out: Float64Array): string | undefined {
    if (out.length === 2 && this.powerFrom !== undefined) return `a beamformer where agent ${this.powerFrom} reported a power (one decision holds one kind)`;
    if (out.length === 1 && out[0] !== 0 && this.beamFrom !== undefined) return `a power of ${out[0]} where agent ${this.beamFrom} reported a beamformer (one decision holds one kind)`;
    if (out.length === 2) this.beamFrom ??= k;
    else if (out[0] !== 0) this.powerFrom ??= k;
    return undefined;
  }
}

/**
 * Why `out` is not one node's decision in the instance (undefined: it is one): a power in
 * [0, pmax], or a beamformer of Nt complex entries (2 Nt finite numbers) with ||v||^2 <= pmax;
 * `pmax` is the algorithm's own limit where it has one (REGNN's p0).
 */
export function checkOutput(out: Float64Array, inst: Instance, pmax = inst.pmax): string | undefined {
  // a MISO network with Nt = 1 takes a power (wmmse-dmp runs power control there) or a beam of 1 complex entry
  const beam = inst.Nt > 1 || (inst.hRe !== undefined && out.length === 2);
  const n = beam ? 2 * inst.Nt : 1;
  if (out.length !== n) return `an output of length ${out.length}, expected ${n} (${beam ? `a beamformer of Nt = ${inst.Nt} complex entries` : 'a power'})`;
  for (let i = 0; i < n; i++) if (!Number.isFinite(out[i])) return 'an output that is not finite';
  const tol = pmax * (1 + 1e-9);
  if (!beam) return out[0] < 0 || out[0] > tol ? `a power of ${out[0]}, outside [0, Pmax = ${pmax}]` : undefined;
  let norm2 = 0;
  for (let i = 0; i < n; i++) norm2 += out[i] * out[i];
  return norm2 > tol ? `a beamformer of power ${norm2}, above Pmax = ${pmax}` : undefined;
}

/** Throws `agent k reported <why> in round t` for the first node whose output is not a decision, or not of the run's kind (`kinds`, on MISO with Nt = 1) (the in-process executors; over NATS the coordinator fails the job with the same words). */
export function checkOutputs(outputs: ArrayLike<Float64Array>, inst: Instance, t: number, pmax = inst.pmax, kinds?: OneKind): void {
  for (let k = 0; k < outputs.length; k++) {
    const bad = checkOutput(outputs[k], inst, pmax) ?? kinds?.admit(k, outputs[k]);
    if (bad) throw new Error(`agent ${k} reported ${bad} in round ${t}`);
  }
}
