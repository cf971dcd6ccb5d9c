/**
 * The live pages: every message to every page, without ever holding more than about `highWater`
 * bytes for one of them. A page whose socket has more than that unsent (a slow browser, a client
 * that stopped reading) misses the messages from then on and, once its socket drained below half
 * of it, gets the whole current state in one message instead (coalescing): the run never waits
 * and the memory a page can hold is bounded by highWater plus one message.
 */
import { WebSocket } from 'ws';

export interface ClientStats {
  sent: number;
  /** Messages not sent because the page was behind. */
  skipped: number;
  /** Whole states sent to catch it up. */
  resyncs: number;
  /** The most bytes its socket held unsent right after a send. */
  maxBuffered: number;
  /** The largest message sent to it, in bytes. */
  largest: number;
}

interface Client extends ClientStats {
  ws: WebSocket;
  behind: boolean;
}

export const HIGH_WATER_BYTES = 1 << 20;
const CATCH_UP_MS = 100;

export class Fanout {
  private readonly clients = new Set<Client>();
  private timer: NodeJS.Timeout | undefined;
  /** Stats of pages that left, so that a test or the CLI can read them after the fact. */
  private readonly gone: ClientStats[] = [];

  constructor(
    private readonly snapshot: () => string,
    private readonly highWater = HIGH_WATER_BYTES,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  add(ws: WebSocket): void {
    const c: Client = { ws, behind: false, sent: 0, skipped: 0, resyncs: 0, maxBuffered: 0, largest: 0 };
    this.clients.add(c);
    ws.on('close', () => {
      this.clients.delete(c);
      this.gone.push(statsOf(c));
      if (this.gone.length > 100) this.gone.shift();
    });
    ws.on('error', () => ws.terminate());
    this.send(c, this.snapshot());
  }

  publish(msg: string): void {
    for (const c of this.clients) {
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      if (c.behind || c.ws.bufferedAmount > this.highWater) {
        c.behind = true;
        c.skipped++;
        this.catchUpLater();
      } else this.send(c, msg);
    }
  }

  private send(c: Client, msg: string): void {
    c.ws.send(msg);
    c.sent++;
    c.largest = Math.max(c.largest, Buffer.byteLength(msg));
    c.maxBuffered = Math.max(c.maxBuffered, c.ws.bufferedAmount);
  }

  private catchUpLater(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      let waiting = false;
      for (const c of this.clients) {
        if (!c.behind) continue;
        if (c.ws.readyState === WebSocket.OPEN && c.ws.bufferedAmount <= this.highWater / 2) {
          c.behind = false;
          c.resyncs++;
          this.send(c, this.snapshot());
        } else waiting = true;
      }
      if (!waiting) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    }, CATCH_UP_MS);
    this.timer.unref();
  }

  stats(): ClientStats[] {
    return [...this.gone, ...[...this.clients].map(statsOf)];
  }

  /** Let the pages that keep up receive what was sent (at most `ms`), then close every socket. */
  async close(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline && [...this.clients].some((c) => !c.behind && c.ws.readyState === WebSocket.OPEN && c.ws.bufferedAmount > 0)) await new Promise((r) => setTimeout(r, 20));
    clearInterval(this.timer);
    this.timer = undefined;
    for (const c of this.clients) {
      c.ws.close(1001, 'the run ended');
      setTimeout(() => c.ws.terminate(), 500).unref();
    }
  }
}

const statsOf = (c: ClientStats): ClientStats => ({ sent: c.sent, skipped: c.skipped, resyncs: c.resyncs, maxBuffered: c.maxBuffered, largest: c.largest });
