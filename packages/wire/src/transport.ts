import { connect, type NatsConnection } from '@nats-io/transport-node';
import { redactUrl } from './redact.ts';

/**
 * Handler of a delivered message. `reply()` gives the reply subject of a request (computed on
 * demand: decoding subjects costs on the hot path).
 */
export type Handler = (data: Uint8Array, reply: () => string | undefined, subject: string) => void;

/** What happened to a connection: lost (`disconnect`) and back (`reconnect`, subscriptions restored). */
export type ConnectionEvent = 'disconnect' | 'reconnect';

/**
 * Run a handler so that nothing it throws escapes into the client's read loop (an exception
 * there stops nats.js reading: the process stays alive and deaf). `onError` hears about it.
 */
export function guarded(handler: Handler, onError: (e: unknown) => void): Handler {
  return (data, reply, subject) => {
    try {
      handler(data, reply, subject);
    } catch (e) {
      try {
        onError(e);
      } catch {
        /* nothing may escape */
      }
    }
  };
}

/**
 * The transport agents and coordinator speak through: NATS in production and tests, an in-process
 * bus when no nats-server exists. Delivery is at most once, like core NATS.
 */
export interface Transport {
  readonly kind: 'nats' | 'memory';
  publish(subject: string, data: Uint8Array): void;
  subscribe(subject: string, handler: Handler): { unsubscribe(): void };
  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /** Round trip to the server: everything published before has been processed. */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Resolves when the connection is closed (by us or by the server giving up). */
  closed(): Promise<void>;
  /** Called on every disconnect from and reconnect to the broker (subscriptions are restored by then). */
  onConnection(cb: (e: ConnectionEvent) => void): void;
  /** Whether the connection is up now. */
  readonly connected: boolean;
}

export class NatsTransport implements Transport {
  readonly kind = 'nats';
  connected = true;
  private readonly listeners: ((e: ConnectionEvent) => void)[] = [];
  private constructor(readonly nc: NatsConnection, private readonly onError: (e: unknown) => void) {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type !== 'disconnect' && s.type !== 'reconnect') continue;
        this.connected = s.type === 'reconnect';
        for (const cb of this.listeners) cb(s.type);
      }
    })();
  }

  /** Connect to a NATS server; the error names the URL when it is unreachable. */
  /**
   * Connect to a NATS server; the error names the URL (its password redacted) when it is
   * unreachable or refuses the credentials. Credentials come from `o.user` / `o.pass` or the URL
   * (`nats://user:pass@host:port`); a URL list is comma-separated.
   */
  static async connect(url: string, name: string, o: { timeoutMs?: number; reconnect?: boolean; onError?: (e: unknown) => void; user?: string; pass?: string } = {}): Promise<NatsTransport> {
    try {
      const { servers, user, pass } = splitCredentials(url);
      const nc = await connect({
        servers,
        user: o.user ?? user,
        pass: o.pass ?? pass,
        name,
        timeout: o.timeoutMs ?? 5000,
        maxReconnectAttempts: o.reconnect === false ? 0 : -1,
        reconnectTimeWait: 250,
      });
      return new NatsTransport(nc, o.onError ?? (() => {}));
    } catch (e) {
      throw new Error(`cannot connect to NATS at ${redactUrl(url)}: ${(e as Error).message.split(url).join(redactUrl(url))}`);
    }
  }

  publish(subject: string, data: Uint8Array): void {
    this.nc.publish(subject, data);
  }

  subscribe(subject: string, handler: Handler): { unsubscribe(): void } {
    const h = guarded(handler, this.onError);
    return this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (!err) h(msg.data, () => msg.reply || undefined, msg.subject);
      },
    });
  }

  async request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const m = await this.nc.request(subject, data, { timeout: timeoutMs });
    return m.data;
  }

  flush(): Promise<void> {
    return this.nc.flush();
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }

  async closed(): Promise<void> {
    await this.nc.closed();
  }

  onConnection(cb: (e: ConnectionEvent) => void): void {
    this.listeners.push(cb);
  }
}

/** Take `user:pass@` out of NATS URLs (nats.js wants them as options). */
export function splitCredentials(url: string): { servers: string[]; user?: string; pass?: string } {
  let user: string | undefined, pass: string | undefined;
  const servers = url.split(',').map((part) => {
    const m = /^([a-z]+:\/\/)([^@/]*)@(.*)$/.exec(part.trim());
    if (!m) return part.trim();
    const [u, p] = m[2].split(':');
    user = decodeURIComponent(u);
    pass = p === undefined ? undefined : decodeURIComponent(p);
    return m[1] + m[3];
  });
  return { servers, user, pass };
}

/** In-process bus with NATS subject semantics for literal subjects ('*' and '>' wildcards too). */
export class MemoryBus {
  private readonly subs = new Set<{ pattern: string[]; handler: Handler }>();
  private inbox = 0;

  deliver(subject: string, data: Uint8Array, reply?: string): void {
    const tokens = subject.split('.');
    for (const s of [...this.subs]) if (matches(s.pattern, tokens)) queueMicrotask(() => guarded(s.handler, () => {})(data, () => reply, subject));
  }

  add(pattern: string, handler: Handler): { unsubscribe(): void } {
    const s = { pattern: pattern.split('.'), handler };
    this.subs.add(s);
    return { unsubscribe: () => this.subs.delete(s) };
  }

  newInbox(): string {
    return `_INBOX.memory.${++this.inbox}`;
  }
}

function matches(pattern: string[], tokens: string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '>') return tokens.length > i;
    if (i >= tokens.length || (pattern[i] !== '*' && pattern[i] !== tokens[i])) return false;
  }
  return pattern.length === tokens.length;
}

/** A connection to a MemoryBus: the fallback Transport when there is no nats-server. */
export class MemoryTransport implements Transport {
  readonly kind = 'memory';
  private readonly mine = new Set<{ unsubscribe(): void }>();
  private done = false;
  private resolveClosed!: () => void;
  private readonly closedP = new Promise<void>((r) => (this.resolveClosed = r));
  constructor(readonly bus: MemoryBus) {}

  publish(subject: string, data: Uint8Array): void {
    if (!this.done) this.bus.deliver(subject, data);
  }

  subscribe(subject: string, handler: Handler): { unsubscribe(): void } {
    const s = this.bus.add(subject, handler);
    this.mine.add(s);
    return { unsubscribe: () => (s.unsubscribe(), this.mine.delete(s)) };
  }

  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const inbox = this.bus.newInbox();
      const timer = setTimeout(() => (sub.unsubscribe(), reject(new Error(`request to ${subject} timed out after ${timeoutMs} ms`))), timeoutMs);
      const sub = this.bus.add(inbox, (d) => (clearTimeout(timer), sub.unsubscribe(), resolve(d)));
      this.bus.deliver(subject, data, inbox);
    });
  }

  /** Replies go through `publish(reply, ...)` like NATS. */
  async flush(): Promise<void> {
    await new Promise((r) => setImmediate(r));
  }

  async close(): Promise<void> {
    this.done = true;
    for (const s of this.mine) s.unsubscribe();
    this.resolveClosed();
  }

  closed(): Promise<void> {
    return this.closedP;
  }

  /** The in-process bus never disconnects. */
  readonly connected = true;
  onConnection(): void {}
}
