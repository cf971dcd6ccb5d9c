import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { decode, encode } from './codec.ts';

/** Bytes of the authentication tag appended to every control message. */
const TAG = 16;

/** Environment variable that hands a launched host the run secret (never the command line: `ps` shows it). */
export const RUN_SECRET_ENV = 'DMPEMU_RUN_SECRET';

/** Environment variables that hand a launched host its broker user and password (the embedded broker's access control). */
export const NATS_USER_ENV = 'DMPEMU_NATS_USER';
export const NATS_PASS_ENV = 'DMPEMU_NATS_PASS';

/** A fresh run secret (32 random bytes, hex). */
export function newRunSecret(): string {
  return randomBytes(32).toString('hex');
}

export type Opened = { ok: true; value: unknown } | { ok: false; reason: 'unauthenticated' | 'malformed' };

/**
 * Authenticates control messages with the run secret shared by the coordinator and the hosts it
 * admits: the wire form is msgpack(body) followed by the first 16 bytes of
 * HMAC-SHA256(secret, subject "\n" msgpack(body)). A message without the right tag (random bytes,
 * a forgery, a message moved to another subject) is `unauthenticated` and dropped by the caller.
 * The data plane (broadcasts) is not sealed: see the README's protocol section.
 */
export class Sealer {
  private readonly key: Buffer;

  constructor(secretHex: string) {
    if (!/^[0-9a-f]{64}$/.test(secretHex)) throw new Error('run secret: expected 64 hex digits (32 bytes)');
    this.key = Buffer.from(secretHex, 'hex');
  }

  private tag(subject: string, body: Uint8Array): Buffer {
    return createHmac('sha256', this.key).update(subject).update('\n').update(body).digest().subarray(0, TAG);
  }

  seal(subject: string, message: unknown): Uint8Array {
    const body = encode(message);
    const out = new Uint8Array(body.length + TAG);
    out.set(body);
    out.set(this.tag(subject, body), body.length);
    return out;
  }

  open(subject: string, data: Uint8Array): Opened {
    if (data.length <= TAG) return { ok: false, reason: 'unauthenticated' };
    const body = data.subarray(0, data.length - TAG);
    if (!timingSafeEqual(this.tag(subject, body), data.subarray(data.length - TAG))) return { ok: false, reason: 'unauthenticated' };
    try {
      return { ok: true, value: decode(body) };
    } catch {
      return { ok: false, reason: 'malformed' };
    }
  }
}
