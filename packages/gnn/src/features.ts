import { powerDb, transformGain, type FeatureScaling } from '@dmpemu/dmp';
import { knowsEdge, type Instance } from '@dmpemu/wireless';

/**
 * Standardise the model's channel inputs on training data, as the papers' code does: shift and
 * scale are the mean and standard deviation of T(g) over the direct channels g_kk and, separately,
 * over the cross channels g_jk, g_kj of the edges agents know (their CSI). T is the identity
 * (`linear`) or 20 log10 (`db`); with `log1p` (channel vectors: g = ||h||, T = log10(1 + g^2)) the
 * shift is 0 and the scale the root mean square of T. The constants go into the checkpoint, so every agent scales its
 * local view the same way.
 */
export function fitFeatureScaling(instances: readonly Instance[], transform: FeatureScaling['transform']): FeatureScaling {
  const acc = { direct: [0, 0, 0], cross: [0, 0, 0] };
  const add = (a: number[], g: number): void => {
    const t = transformGain(g, transform);
    a[0]++;
    a[1] += t;
    a[2] += t * t;
  };
  for (const inst of instances) {
    const { K, gain } = inst;
    for (let k = 0; k < K; k++) {
      add(acc.direct, gain[k * K + k]);
      for (let j = 0; j < K; j++) {
        if (j === k || !knowsEdge(inst, j, k)) continue;
        add(acc.cross, gain[j * K + k]);
        add(acc.cross, gain[k * K + j]);
      }
    }
  }
  const stats = ([n, s, s2]: number[]): { shift: number; scale: number } => {
    if (n === 0) return { shift: 0, scale: 1 };
    if (transform === 'log1p') return { shift: 0, scale: Math.sqrt(s2 / n) || 1 }; // no shift: a vector keeps its direction
    const mean = s / n;
    const std = Math.sqrt(Math.max(s2 / n - mean * mean, 0));
    return { shift: mean, scale: std > 1e-9 * Math.max(1, Math.abs(mean)) ? std : 1 };
  };
  return { transform, direct: stats(acc.direct), cross: stats(acc.cross) };
}

/**
 * The scaling of a PCGNN's transmit-power feature (Table II of the DMP paper): mean and standard
 * deviation of 10 log10(Pmax / sigma^2) over the training instances (scale 1 when every instance has
 * one power).
 */
export function fitPowerScaling(instances: readonly Instance[]): { shift: number; scale: number } {
  const x = instances.map((inst) => powerDb(inst.pmax, inst.noise));
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  const std = Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length);
  return { shift: mean, scale: std > 1e-9 * Math.max(1, Math.abs(mean)) ? std : 1 };
}
