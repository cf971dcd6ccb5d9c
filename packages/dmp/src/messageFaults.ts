/**
 * Faults on what a receiver reads of a broadcast (issue "the control channel as a fault"),
 * decided per link j -> k, round t and entry or bit by hashing (seed, t, j, k) like the delivery
 * faults, so every executor reads the same:
 * - bitErrors { ber }: each bit of the payload (the packed codes under messageQuantization, else
 *   the float64s) flips with probability ber before decoding; a payload that no longer decodes
 *   (a range that is not finite, an entry that is NaN or infinite) is lost.
 * - messageNoise { snrDb }: each entry read with additive Gaussian noise of variance
 *   mean(b^2) 10^(-snrDb / 10), the message's mean power that far below.
 */
import { linkUniform, type DeliveryFaults } from './deliveryFaults.ts';
import { unpack } from './quantization.ts';

const BIT = 0x1000;
const NOISE = 0x40000000;

/** The float64s of `b` as bytes (little-endian). */
function bytesOf(b: Float64Array): Uint8Array {
  const out = new Uint8Array(b.length * 8);
  const v = new DataView(out.buffer);
  b.forEach((x, i) => v.setFloat64(i * 8, x, true));
  return out;
}

/** A copy of `bytes` with each bit flipped with probability ber (draw per bit index). */
export function flipBits(f: DeliveryFaults, t: number, j: number, k: number, bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const ber = f.bitErrors!.ber;
  for (let i = 0; i < out.length * 8; i++) if (linkUniform(f.seed, BIT + i, t, j, k) < ber) out[i >>> 3] ^= 1 << (i & 7);
  return out;
}

/** A standard normal for entry i of link j -> k in round t (Box-Muller on two hashed uniforms). */
function normal(seed: number, t: number, j: number, k: number, i: number): number {
  const u = 1 - linkUniform(seed, NOISE + 2 * i, t, j, k); // (0, 1]
  const v = linkUniform(seed, NOISE + 2 * i + 1, t, j, k);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * What receiver k reads of sender j's round-t broadcast: `b` as decoded from the wire, `packed` its
 * codes under messageQuantization. Undefined: bit errors made it undecodable (lost).
 */
export function linkReceive(f: DeliveryFaults | undefined, t: number, j: number, k: number, b: Float64Array, packed?: Uint8Array): Float64Array | undefined {
  if (!f?.bitErrors && f?.noiseSnrDb === undefined) return b;
  let seen = b;
  if (f.bitErrors) {
    const q = f.quantization;
    const bytes = flipBits(f, t, j, k, q ? packed! : bytesOf(b));
    const read = q ? unpack(q, bytes, b.length) : new Float64Array(bytes.buffer);
    if (!read || !read.every(Number.isFinite)) return undefined;
    seen = read;
  }
  if (f.noiseSnrDb !== undefined && seen.length) {
    const power = seen.reduce((s, x) => s + x * x, 0) / seen.length;
    const sd = Math.sqrt(power * 10 ** (-f.noiseSnrDb / 10));
    seen = seen.map((x, i) => x + sd * normal(f.seed, t, j, k, i));
  }
  return seen;
}
