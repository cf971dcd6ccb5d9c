import type { Decision, Instance } from '@dmpemu/wireless';

/** Assemble the per-node outputs ([p_k], or [Re v_k, Im v_k]) into a decision on the whole instance. */
export function toDecision(inst: Instance, outputs: ArrayLike<Float64Array>): Decision {
  const { K, Nt } = inst;
  if (outputs[0].length === 1) return { kind: 'power', p: Float64Array.from({ length: K }, (_, k) => outputs[k][0]) };
  const vRe = new Float64Array(K * Nt);
  const vIm = new Float64Array(K * Nt);
  for (let k = 0; k < K; k++) {
    vRe.set(outputs[k].subarray(0, Nt), k * Nt);
    vIm.set(outputs[k].subarray(Nt, 2 * Nt), k * Nt);
  }
  return { kind: 'beam', vRe, vIm };
}
