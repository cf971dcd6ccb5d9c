import { constants } from 'node:buffer';
import { z } from 'zod';
import { MAX_CELL_FREE_APS, MAX_K, MAX_NT } from '@dmpemu/wireless';

/**
 * What this tool refuses as unreasonable (README, CLI reference, "Limits"), and the zod schemas of
 * the bounded values: one definition each, used by the scenario keys and the CLI flags that mean
 * the same thing.
 */
export { MAX_CELL_FREE_APS, MAX_K, MAX_NT };
export const MAX_INSTANCES = 100_000;
export const MAX_ITERATIONS = 10_000;
export const MAX_ROUNDS = 10_000;
/** Points of a sweep (each a run of the scenario). */
export const MAX_SWEEP_POINTS = 1000;
export const MAX_WORKERS = 32;
export const MAX_STEPS = 10_000_000;
export const MAX_BATCH = 65_536;
const GiB = 2 ** 30, MiB = 2 ** 20;
/** Channel matrices (K^2 (1 + 2 Nt) float64s, Nt counted 0 for SISO) of one instance, and of all of a network's instances. */
export const MAX_INSTANCE_MATRIX_BYTES = 1 * GiB;
export const MAX_NETWORK_MATRIX_BYTES = 4 * GiB;
/** The longest timer Node keeps (a longer one fires after 1 ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** A round deadline: the coordinator waits a second longer than the agents, and that timer must fit too. */
export const MAX_ROUND_DEADLINE_MS = MAX_TIMER_MS - 1000;

/** Size limits of the files a user names, and what each is called in the error. */
export const FILE_LIMITS = {
  scenario: { bytes: 1 * MiB, what: 'scenario files' },
  trainingScenario: { bytes: 1 * MiB, what: 'training scenario files' },
  checkpoint: { bytes: 64 * MiB, what: 'checkpoints' },
  manifest: { bytes: 64 * MiB, what: 'manifests' },
  modelFile: { bytes: 1 * MiB, what: 'model files (dmpemu import)' },
  onnx: { bytes: 64 * MiB, what: 'ONNX files' },
  instancesJson: { bytes: 512 * MiB, what: 'JSON instance files; write large instance sets as .msgpack' },
  /** About 4 GiB: one byte less than the largest Buffer Node makes (the reader needs limit + 1). */
  instancesMsgpack: { bytes: Math.min(4 * GiB, constants.MAX_LENGTH) - 1, what: '.msgpack instance files' },
} as const;

/** 1 MiB, 512 MiB, 4 GiB; other sizes to 3 significant digits in GiB, MiB or KiB. */
export function formatBytes(n: number): string {
  if (n >= GiB) return `${Number((n / GiB).toPrecision(3))} GiB`;
  if (n >= MiB) return `${Number((n / MiB).toPrecision(3))} MiB`;
  return n >= 1024 ? `${Number((n / 1024).toPrecision(3))} KiB` : `${n} bytes`;
}

const int = (max: number) => z.number().int().positive().max(max);
export const kSchema = int(MAX_K);
/** Cell-free access points M and pilot length tau (Table IV: M = 30, 50; tau = 3). */
export const cellFreeApSchema = int(MAX_CELL_FREE_APS);
export const cellFreeTauSchema = int(MAX_K);
export const ntSchema = int(MAX_NT);
export const instancesSchema = int(MAX_INSTANCES);
export const iterationsSchema = int(MAX_ITERATIONS);
export const roundsSchema = int(MAX_ROUNDS);
export const workersSchema = int(MAX_WORKERS);
export const stepsSchema = int(MAX_STEPS);
export const batchSchema = int(MAX_BATCH);
/** A NATS URL (or several, comma-separated, of one cluster): nats, tls, ws or wss, a host and a port the URL parser accepts. */
export const natsUrlSchema = z.string().refine((v) => v.split(',').every((u) => {
  try {
    const url = new URL(u.trim());
    return ['nats:', 'tls:', 'ws:', 'wss:'].includes(url.protocol) && url.hostname !== '';
  } catch {
    return false;
  }
}), 'expected a NATS URL such as nats://127.0.0.1:4222 (nats, tls, ws or wss; a port 0-65535)');
/** The async clock's activation period (ms). */
export const periodMsSchema = z.number().positive().max(60_000);
/** A seed: an integer a float64 holds exactly. */
export const seedSchema = z.number().int().nonnegative();
/** SNR in dB: noise 10^(-SNR/10) stays a normal float64 (1e308 dB gave noise 0, a file eval refused). */
export const snrDbSchema = z.number().min(-100).max(100);
/** A d2d transmit power in dBm: sigma^2 = noise / power stays a normal float64, like snrDb. */
export const txPowerDbmSchema = z.number().min(-100).max(100);
/** A d2d antenna height in metres. */
export const antennaHeightSchema = z.number().positive().max(1000);
/** A noise power sigma^2: +-100 dB around 1, like snrDb. */
export const noiseSchema = z.number().min(1e-10).max(1e10);
export const roundDeadlineMsSchema = z
  .number()
  .positive()
  .max(MAX_ROUND_DEADLINE_MS, `Too big: expected at most ${MAX_ROUND_DEADLINE_MS} ms (Node keeps timers up to 2^31 - 1 ms, and the coordinator waits 1 s longer than the agents)`);
export const registerTimeoutSSchema = z
  .number()
  .positive()
  .max(MAX_TIMER_MS / 1000, `Too big: expected at most ${MAX_TIMER_MS / 1000} s (Node keeps timers up to 2^31 - 1 ms)`);
/** Delays the agents and the coordinator wait with a timer (message delay, stragglers, broker downtime). */
export const delayMsSchema = z.number().nonnegative().max(MAX_TIMER_MS, `Too big: expected at most ${MAX_TIMER_MS} ms (Node keeps timers up to 2^31 - 1 ms)`);

/**
 * The name of a scenario, training scenario, network or imported model: it names files and
 * directories (runs/train/<name>/), so not "." or ".." (a training named ".." wrote into runs/).
 */
export const nameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'expected 1-100 letters, digits, ".", "-" or "_"')
  .refine((s) => !/^\.+$/.test(s), 'expected more than dots ("." and ".." name directories)');

