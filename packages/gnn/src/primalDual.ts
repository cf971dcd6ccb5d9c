import * as tf from '@tensorflow/tfjs';
import { nextTurn, type Checkpoint, type RegnnArchitecture } from '@dmpemu/dmp';
import { generateInstance, Rng, sinrSiso, squaredGains, type Instance } from '@dmpemu/wireless';
import { ensureBackend } from './backend.ts';
import { toCheckpoint } from './model.ts';
import { disposeRegnn, disposeRegnnBatch, fitRegnnScaling, initRegnn, REGNN_DEFAULTS, regnnBatch, regnnFromCheckpoint, regnnLogits, type RegnnModel } from './regnn.ts';

/*
 * Model-free primal-dual training of a REGNN (Algorithm 1 of regnn-primal-dual.md) for problem
 * (49): max sum_i r_i s.t. r_i = E[log2(1 + SINR_i)], E[1^T p] <= Pmax, p in {0, p0}^m, with
 * Lagrangian L = sum_i r_i + lambda^T (E[f] - r) + mu (Pmax - E[1^T p]) (eq. 40 with the budget as
 * the constraint on an expectation). Each step draws fresh instances (new positions and fading),
 * samples actions from the Bernoulli policy, probes the rates f and updates, all from step k's values:
 *   A: Adam ascent on the score-function estimate of grad E[lambda^T f - mu 1^T p]        (47-48)
 *   r: Adam ascent on grad_r L = 1 - lambda                                               (42)
 *   lambda <- lambda - eps_k (mean f - r)                                                  (45)
 *   mu <- [mu + eps_k (mean 1^T p - Pmax)]^+ (descent on L, projected)                     (43)
 * with eps_k = eps_0 gamma^k. With u_0 = sum r linear the saddle has lambda = 1: r and lambda are
 * kept for fidelity to Algorithm 1 and start there (lambda_0 = 1, r_0 = the first probe's rates).
 * Linear u_0 gives (r, lambda) no curvature: lambda stays near 1 (the policy's per-pair weights
 * barely move) but r under Adam drifts and is no estimate of E[f]; the measured rates are `objective`.
 * The baseline is the leave-one-out mean reward of the same instance's other action samples.
 */

/** Ergodic rates f_i = log2(1 + SINR_i) of powers p on an instance's true channel (the "probe"). */
export function probeRates(g2: Float64Array, inst: Instance, p: ArrayLike<number>, out = new Float64Array(inst.K)): Float64Array {
  sinrSiso(g2, inst.K, inst.noise, p, out);
  for (let i = 0; i < inst.K; i++) out[i] = Math.log2(1 + out[i]);
  return out;
}

/** Eq. 43: projected dual descent mu <- [mu + eps (mean 1^T p - Pmax)]^+. */
export function dualUpdate(mu: number, violation: number, eps: number): number {
  return Math.max(0, mu + eps * violation);
}

/** Eq. 45: lambda <- lambda - eps (mean f - r), unprojected (an equality constraint). */
export function lambdaUpdate(lambda: Float64Array, fMean: Float64Array, r: Float64Array, eps: number): Float64Array<ArrayBuffer> {
  return Float64Array.from(lambda, (l, i) => l - eps * (fMean[i] - r[i]));
}

/** The geometrically decaying dual step eps_k = eps_0 gamma^k. */
export function dualStep(eps0: number, gamma: number, k: number): number {
  return eps0 * gamma ** k;
}

/** The dual state of Algorithm 1, recorded in a checkpoint's `training.dual` (to resume). */
export interface DualState {
  mu: number;
  lambda: number[];
  r: number[];
}

export interface PrimalDualStep {
  step: number;
  /** Mean sum capacity (bit/s/Hz) of the sampled actions: u_0 of the probe. */
  objective: number;
  /** Mean 1^T p of the sampled actions: the constraint's value (<= Pmax when met). */
  power: number;
  /** L(A_k, r_k, lambda_k, mu_k) estimated on the step's samples. */
  lagrangian: number;
  /** mu_k (the price of power) and the mean of lambda_k. */
  mu: number;
  lambda: number;
  samplesPerSecond: number;
}

export interface PrimalDualOptions {
  /** m: pairs of the default generator, regnn-adhoc (default 20, Fig. 3). */
  K?: number;
  /** sigma^2 of the default generator (default 1). */
  noise?: number;
  /** Instances drawn fresh per batch (default regnn-adhoc with K and noise). All must have K pairs. */
  generator?: (rng: Rng) => Instance;
  steps: number;
  /** Instances per step. */
  batch: number;
  /** Actions sampled per instance (default 4); the baseline is the leave-one-out mean over them (over the batch when 1). */
  samples?: number;
  seed: number | string;
  /** The average budget E[1^T p] <= Pmax (default K: the authors' code, an average of Pmax/K = 1 per pair). */
  Pmax?: number;
  /** Architecture over REGNN_DEFAULTS; features (the graph normalisation) fitted when absent. */
  architecture?: Partial<Omit<RegnnArchitecture, 'kind' | 'task'>>;
  /** Adam learning rates: filter tensor A (default 1e-3) and the auxiliary rates r (default 1e-2). */
  lr?: number;
  rLr?: number;
  /** Dual step eps_0 (default 1e-3) and its geometric decay gamma per step (default 0.9999). */
  dualStep?: number;
  dualDecay?: number;
  /** mu_0 (default 0). */
  mu0?: number;
  /** Continue from a REGNN checkpoint: its weights and (when recorded) its dual state and step count. */
  init?: Checkpoint;
  training?: Record<string, unknown>;
  onStep?: (s: PrimalDualStep) => void;
  every?: number;
  onCheckpoint?: (c: Checkpoint<RegnnArchitecture>, stepsDone: number) => void | Promise<void>;
  signal?: AbortSignal;
}

/** What one step's probe observed: actions a [B S m] (0/1), rewards rho [B S], mean rates and totals. */
interface Probe {
  actions: Uint8Array;
  rho: Float64Array;
  fMean: Float64Array;
  objective: number;
  power: number;
}

/**
 * Algorithm 1, step 4: S actions per instance from Bernoulli(pi) (p_i = a_i p0), the rates f they
 * get (probeRates) and the reward of the Lagrangian, rho = lambda^T f - mu 1^T p (eq. 48).
 */
function probePolicy(insts: readonly Instance[], pi: Float64Array, S: number, p0: number, lambda: Float64Array, mu: number, rng: Rng): Probe {
  const B = insts.length, K = insts[0].K, n = B * S;
  const out: Probe = { actions: new Uint8Array(n * K), rho: new Float64Array(n), fMean: new Float64Array(K), objective: 0, power: 0 };
  const p = new Float64Array(K), f = new Float64Array(K);
  insts.forEach((inst, b) => {
    const g2 = squaredGains(inst);
    for (let s = 0; s < S; s++) {
      const row = (b * S + s) * K;
      for (let i = 0; i < K; i++) {
        out.actions[row + i] = rng.uniform() < pi[b * K + i] ? 1 : 0;
        p[i] = out.actions[row + i] * p0;
      }
      probeRates(g2, inst, p, f);
      let value = 0, used = 0;
      for (let i = 0; i < K; i++) {
        value += lambda[i] * f[i];
        used += p[i];
        out.fMean[i] += f[i] / n;
        out.objective += f[i] / n;
      }
      out.power += used / n;
      out.rho[b * S + s] = value - mu * used;
    }
  });
  return out;
}

/**
 * Eq. 47 for the logits y: grad E[rho] = E[(rho - baseline) (a - pi) grad y], as the coefficient of
 * each y_bi (averaged over the B S samples); the baseline is the leave-one-out mean of the other
 * samples of the same instance (of the whole batch when S = 1), so it does not bias the estimate.
 */
function scoreCoefficients(probe: Probe, pi: Float64Array, B: number, S: number, K: number): Float32Array {
  const { rho, actions } = probe;
  const C = new Float32Array(B * K);
  const group = S > 1 ? S : B;
  for (let b = 0; b < B; b++) {
    const first = S > 1 ? b * S : 0;
    let sum = 0;
    for (let q = 0; q < group; q++) sum += rho[first + q];
    for (let s = 0; s < S; s++) {
      const j = b * S + s;
      const advantage = rho[j] - (sum - rho[j]) / (group - 1);
      for (let i = 0; i < K; i++) C[b * K + i] += (advantage * (actions[j * K + i] - pi[b * K + i])) / (B * S);
    }
  }
  return C;
}

/** Names the auxiliary variable r of each run (TF.js variable names are global). */
let runs = 0;

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Algorithm 1 (see the top of this file) on the fastest TensorFlow.js backend. Returns the
 * checkpoint: `training` holds the settings and the final dual state, `metrics` the final
 * objective (sum capacity), constraint value (mean 1^T p) and Lagrangian, averaged over the last
 * tenth of the steps (at most 100).
 */
export async function trainRegnn(o: PrimalDualOptions): Promise<Checkpoint<RegnnArchitecture>> {
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new Error(`trainRegnn: steps must be a positive integer, got ${o.steps}`);
  if (!Number.isInteger(o.batch) || o.batch < 1) throw new Error(`trainRegnn: batch must be a positive integer, got ${o.batch}`);
  const S = o.samples ?? 4;
  if (!Number.isInteger(S) || S < 1 || (S === 1 && o.batch < 2)) throw new Error(`trainRegnn: samples must be a positive integer (with batch >= 2 when 1), got ${S}`);
  if (o.init && o.init.architecture.kind !== 'regnn') throw new Error(`trainRegnn: the init checkpoint is a ${JSON.stringify(o.init.architecture.kind)}, not a regnn`);
  const backend = await ensureBackend();
  const K = o.K ?? 20;
  const gen = o.generator ?? ((rng: Rng) => generateInstance('regnn-adhoc', rng, { K, noise: o.noise ?? 1 }));
  const Pmax = o.Pmax ?? K;
  const lr = o.lr ?? 1e-3, rLr = o.rLr ?? 1e-2, eps0 = o.dualStep ?? 1e-3, gamma = o.dualDecay ?? 0.9999;
  const dataRng = Rng.derive(o.seed, 'data');
  const actRng = Rng.derive(o.seed, 'actions');
  let model: RegnnModel;
  if (o.init) model = regnnFromCheckpoint(o.init);
  else {
    const p0 = o.architecture?.p0 ?? REGNN_DEFAULTS.p0;
    const fitRng = Rng.derive(o.seed, 'features');
    const features = o.architecture?.features ?? fitRegnnScaling(Array.from({ length: 64 }, () => gen(fitRng)), p0);
    const a = { kind: 'regnn', task: 'power', ...REGNN_DEFAULTS, ...o.architecture, features } as RegnnArchitecture;
    model = initRegnn({ ...a, taps: [...a.taps], widths: [...a.widths] }, Rng.derive(o.seed, 'init'));
  }
  const a = model.architecture;
  const stepsBefore = Number(o.init?.training.steps ?? 0);
  const resumed = o.init?.training.dual as DualState | undefined;
  let mu = resumed?.mu ?? o.mu0 ?? 0;
  let lambda = resumed ? Float64Array.from(resumed.lambda) : new Float64Array(K).fill(1);
  let r: Float64Array | undefined = resumed ? Float64Array.from(resumed.r) : undefined;
  const optimizer = tf.train.adam(lr);
  const rOpt = tf.train.adam(rLr);
  const rVar = tf.variable(tf.zeros([K]), true, `regnn-r-${++runs}`);
  const vars = [...model.weights.values()];
  const history: { objective: number; power: number; lagrangian: number }[] = [];
  const t0 = performance.now();
  try {
    if (r) tf.tidy(() => rVar.assign(tf.tensor1d(Float32Array.from(r!))));
    const snapshot = (done: number): Checkpoint<RegnnArchitecture> => {
      const tail = history.slice(-Math.max(1, Math.min(100, Math.round(history.length / 10))));
      const seconds = (performance.now() - t0) / 1000;
      return toCheckpoint(model, {
        training: {
          ...o.training, method: 'primal-dual (Algorithm 1), REINFORCE with a leave-one-out baseline', seed: o.seed, steps: stepsBefore + done, batch: o.batch, samplesSeen: (stepsBefore + done) * o.batch, actionSamples: S, K, Pmax,
          lr, rLr, optimizer: 'adam', dualStep: eps0, dualDecay: gamma, backend, dual: { mu, lambda: [...lambda], r: [...(r ?? [])] } satisfies DualState,
        },
        metrics: {
          initialObjective: history[0]?.objective, objective: mean(tail.map((h) => h.objective)), power: mean(tail.map((h) => h.power)), Pmax,
          lagrangian: mean(tail.map((h) => h.lagrangian)), mu, seconds, samplesPerSecond: (done * o.batch) / seconds,
        },
      });
    };
    let done = 0;
    for (let step = 0; step < o.steps && !o.signal?.aborted; step++) {
      await nextTurn();
      if (o.signal?.aborted) break;
      const s0 = performance.now();
      const insts = Array.from({ length: o.batch }, () => gen(dataRng));
      const B = insts.length;
      if (insts.some((x) => x.K !== K)) throw new Error(`trainRegnn: every instance must have K = ${K} pairs (lambda and r have one entry per pair)`);
      const d = regnnBatch(insts, a);
      let probe: Probe | undefined;
      try {
        const loss = optimizer.minimize(() => {
          const y = regnnLogits(model, d);
          const pi = Float64Array.from(y.dataSync() as Float32Array, (v) => 1 / (1 + Math.exp(-v)));
          probe = probePolicy(insts, pi, S, a.p0, lambda, mu, actRng);
          return tf.neg(tf.sum(tf.mul(tf.tensor2d(scoreCoefficients(probe, pi, B, S, K), [B, K]), y))) as tf.Scalar;
        }, true, vars);
        loss?.dispose();
      } finally {
        disposeRegnnBatch(d);
      }
      const { fMean, objective, power } = probe!;
      if (!Number.isFinite(objective) || !Number.isFinite(power)) throw new Error(`trainRegnn: non-finite probe at step ${step}`);
      if (!r) {
        r = Float64Array.from(fMean); // r_0: the first probe's rates
        tf.tidy(() => rVar.assign(tf.tensor1d(Float32Array.from(r!))));
      }
      const rk = r;
      const lagrangian = rk.reduce((x, v) => x + v, 0) + lambda.reduce((x, l, i) => x + l * (fMean[i] - rk[i]), 0) + mu * (Pmax - power);
      // primal r: Adam ascent on 1 - lambda (minimising lambda - 1)
      tf.tidy(() => rOpt.applyGradients([{ name: rVar.name, tensor: tf.tensor1d(Float32Array.from(lambda, (l) => l - 1)) }]));
      // dual: eqs. 45 and 43 with step k's values
      const eps = dualStep(eps0, gamma, stepsBefore + step);
      lambda = lambdaUpdate(lambda, fMean, rk, eps);
      mu = dualUpdate(mu, power - Pmax, eps);
      r = Float64Array.from(rVar.dataSync() as Float32Array);
      history.push({ objective, power, lagrangian });
      o.onStep?.({ step, objective, power, lagrangian, mu, lambda: mean([...lambda]), samplesPerSecond: o.batch / ((performance.now() - s0) / 1000) });
      done = step + 1;
      if (o.every && o.onCheckpoint && (stepsBefore + done) % o.every === 0 && done < o.steps) await o.onCheckpoint(snapshot(done), done);
    }
    const final = snapshot(done);
    await o.onCheckpoint?.(final, done);
    return final;
  } finally {
    optimizer.dispose();
    rOpt.dispose();
    rVar.dispose();
    disposeRegnn(model);
  }
}
