import { isMiso, type Instance } from './instance.ts';
import { linkUniform } from './rng.ts';

/**
 * A time-varying channel (faults.channel): the small-scale fading f_ij of every link takes a
 * first-order Gauss-Markov step every round (the REGNN paper's per-slot fading, made correlated),
 *   f_ij(t) = rho f_ij(t-1) + sqrt(1 - rho^2) w_ij(t),   w_ij(t) ~ CN(0, 1) drawn from (seed, t, i, j),
 * and the amplitude of the link is |h_ij(t)| = a_ij |f_ij(t)|, a_ij the large-scale amplitude (path
 * loss and shadowing; 1 for rayleigh-ic). f_ij(0) = |h_ij| / a_ij e^{i theta_ij}, theta_ij drawn
 * from (seed, i, j): round 0 is the instance. Every party that follows a link (the coordinator all
 * of them, an agent those of its local view) computes the same numbers from the same seed.
 */
export interface ChannelDynamics {
  seed: number;
  /** rho: the correlation of f between consecutive rounds. */
  correlation: number;
}

const PHASE = 0x6368; // salts of the draws: the initial phase, the innovation's radius and angle
const RADIUS = 0x6369;
const ANGLE = 0x636a;

/** The fading of a set of links (i_l, j_l), followed round by round. */
export class FadingLinks {
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly spread: number;
  /** The round the fading is at. */
  t = 0;

  /**
   * @param from, to the links' transmitters and receivers
   * @param amplitude |h(0)| per link; @param large a per link
   */
  constructor(
    private readonly d: ChannelDynamics,
    private readonly from: Int32Array,
    private readonly to: Int32Array,
    private readonly amplitude0: Float64Array,
    private readonly large: Float64Array,
  ) {
    const n = from.length;
    this.re = new Float64Array(n);
    this.im = new Float64Array(n);
    for (let l = 0; l < n; l++) {
      const r = large[l] > 0 ? amplitude0[l] / large[l] : 0;
      const theta = 2 * Math.PI * linkUniform(d.seed, PHASE, 0, from[l], to[l]);
      this.re[l] = r * Math.cos(theta);
      this.im[l] = r * Math.sin(theta);
    }
    this.spread = Math.sqrt(1 - d.correlation * d.correlation);
  }

  /** Advance to round t (t > this.t), one Gauss-Markov step per round. */
  advance(t: number): void {
    const { re, im, from, to, d, spread } = this;
    const rho = d.correlation;
    for (let s = this.t + 1; s <= t; s++)
      for (let l = 0; l < re.length; l++) {
        const i = from[l], j = to[l];
        // w ~ CN(0, 1): |w|^2 ~ Exp(1), uniform angle
        const radius = Math.sqrt(-Math.log(1 - linkUniform(d.seed, RADIUS, s, i, j)));
        const angle = 2 * Math.PI * linkUniform(d.seed, ANGLE, s, i, j);
        re[l] = rho * re[l] + spread * radius * Math.cos(angle);
        im[l] = rho * im[l] + spread * radius * Math.sin(angle);
      }
    this.t = Math.max(this.t, t);
  }

  /** |h_l| at the current round (round 0: the instance's amplitude itself). */
  amplitude(l: number): number {
    return this.t === 0 ? this.amplitude0[l] : this.large[l] * Math.hypot(this.re[l], this.im[l]);
  }
}

/** The instance's large-scale amplitudes a_ij, when it has them (generated with `largeScale`; rayleigh-ic: 1). */
export function largeScaleOf(inst: Instance): Float64Array | undefined {
  if (inst.largeScale) return inst.largeScale;
  if (inst.model === 'rayleigh-ic') return new Float64Array(inst.K * inst.K).fill(1);
  return undefined;
}

/** Why this instance cannot evolve (undefined: it can): beamforming channels and instances without large-scale amplitudes. */
export function cannotEvolve(inst: Instance): string | undefined {
  if (isMiso(inst)) return 'a time-varying channel is for power control (SISO) networks, not miso';
  if (!largeScaleOf(inst)) return 'a time-varying channel needs the large-scale fading of every link: a network the run generates (model d2d, rayleigh-ic or regnn-adhoc), not a file';
  return undefined;
}

/** The whole channel over the rounds: the instance of the moment, from round 0 on. */
export class EvolvingChannel {
  private readonly links: FadingLinks;
  private readonly now: Instance;

  constructor(readonly inst: Instance, d: ChannelDynamics) {
    const why = cannotEvolve(inst);
    if (why) throw new Error(why);
    const K = inst.K;
    const from = new Int32Array(K * K), to = new Int32Array(K * K);
    for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) (from[i * K + j] = i), (to[i * K + j] = j);
    this.links = new FadingLinks(d, from, to, inst.gain, largeScaleOf(inst)!);
    this.now = { ...inst, gain: inst.gain.slice() };
  }

  /** The instance at round t (rounds only go forward; the object is reused). */
  at(t: number): Instance {
    if (t > this.links.t) {
      this.links.advance(t);
      const g = this.now.gain;
      for (let l = 0; l < g.length; l++) g[l] = this.links.amplitude(l);
    }
    return this.now;
  }
}
