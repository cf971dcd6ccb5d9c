/**
 * Faults on message delivery, decided per link (j -> k) and round t by hashing (seed, t, j, k):
 * every executor (in-process, NATS agents) makes the same decisions, so a faulty run is
 * reproducible and comparable across executors.
 */
import { linkUniform } from '@dmpemu/wireless';
import type { Quantization } from './quantization.ts';

/** The hash every per-link fault draw comes from (it lives in @dmpemu/wireless, beside the channel's own draws). */
export { linkUniform };

export interface DeliveryFaults {
  seed: number;
  /** messageLoss: probability q that a delivery j -> k in round t is dropped (receiver side). */
  loss?: number;
  /** messageDelay: each delivery is held U[0, maxMs) ms before the receiver sees it. */
  delayMaxMs?: number;
  /** messageDelay with model distance: each delivery j -> k held baseMs + msPerKm x the distance from transmitter j to receiver k (km). */
  distanceDelay?: { baseMs: number; msPerKm: number };
  /** stragglers: these agents publish their broadcast `delayMs` late in every round. */
  stragglers?: { agents: number[]; delayMs: number };
  /** messageQuantization: broadcasts travel as bit-packed codes (quantization.ts). */
  quantization?: Quantization;
  /** bitErrors and messageNoise: what a receiver reads of a broadcast (messageFaults.ts). */
  bitErrors?: { ber: number };
  noiseSnrDb?: number;
}

const LOSS = 1;
const DELAY = 2;

/** Whether the delivery of j's round-t broadcast to k is lost. */
export function isLost(f: DeliveryFaults | undefined, t: number, j: number, k: number): boolean {
  return !!f?.loss && linkUniform(f.seed, LOSS, t, j, k) < f.loss;
}

/** Milliseconds the link j -> k holds j's round-t broadcast (messageDelay: uniform, or by the link's length `km`). */
export function linkDelayMs(f: DeliveryFaults | undefined, t: number, j: number, k: number, km = 0): number {
  if (f?.distanceDelay) return f.distanceDelay.baseMs + f.distanceDelay.msPerKm * km;
  return f?.delayMaxMs ? linkUniform(f.seed, DELAY, t, j, k) * f.delayMaxMs : 0;
}

/** Milliseconds after the round start that k sees j's round-t broadcast: j straggling plus the link delay. */
export function deliveryDelayMs(f: DeliveryFaults | undefined, t: number, j: number, k: number, km = 0): number {
  return publishDelayMs(f, j) + linkDelayMs(f, t, j, k, km);
}

/** The length of link j -> k in km: transmitter j to receiver k (geometric models; 0 without positions). */
export function linkKm(inst: { K: number; tx?: Float64Array; rx?: Float64Array }, j: number, k: number): number {
  if (!inst.tx || !inst.rx) return 0;
  return Math.hypot(inst.tx[2 * j] - inst.rx[2 * k], inst.tx[2 * j + 1] - inst.rx[2 * k + 1]) / 1000;
}

/** Milliseconds agent j holds its own broadcast back (stragglers). */
export function publishDelayMs(f: DeliveryFaults | undefined, j: number): number {
  return f?.stragglers?.agents.includes(j) ? f.stragglers.delayMs : 0;
}
