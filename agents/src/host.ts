import { hostname } from 'node:os';
import { decode, decodeControl, encode, roundSchema, stopSchema, subjects, type RegisterMsg, type Transport } from '@dmpemu/wire';
import { Agent } from './agent.ts';

/**
 * An agent host: runs many agents in one process for scale. Each agent keeps its own local view,
 * state and subscriptions, and every message between agents goes through the broker. The host
 * shares the connection and the control-plane subscriptions (round start, stop) among its agents.
 */
export class AgentHost {
  readonly agents: Agent[];
  private readonly subs: { unsubscribe(): void }[] = [];
  private registerTimer: NodeJS.Timeout | undefined;
  private resolveStopped!: (reason: string) => void;
  /** Resolves with the coordinator's reason when it stops the run. */
  readonly stopped = new Promise<string>((r) => (this.resolveStopped = r));
  /** Control messages this host dropped as malformed. */
  malformed = 0;

  constructor(private readonly bus: Transport, runId: string, ids: number[], private readonly log: (s: string) => void = () => {}) {
    const subj = subjects(runId);
    const decodeData = lastValueDecoder();
    this.agents = ids.map((k) => new Agent(k, bus, subj, decodeData));
    this.subs.push(bus.subscribe(subj.round, (d) => this.onRound(d)));
    this.subs.push(bus.subscribe(subj.stop, (d) => this.onStop(d)));
    const register = encode({ type: 'register', agents: ids, pid: process.pid, host: hostname() } satisfies RegisterMsg);
    // Register now and again every second until configured: the coordinator may come up later.
    const announce = (): void => {
      if (this.agents.every((a) => a.configured)) return;
      bus.publish(subj.register, register);
      this.registerTimer = setTimeout(announce, 1000);
    };
    bus.flush().then(announce, () => {});
    // After a broker restart, say again that we are here (a few times: the coordinator may
    // reconnect after us and miss the first); the coordinator waits for it.
    bus.onReconnect(() => {
      for (let i = 0; i < 10; i++) setTimeout(() => bus.publish(subj.register, register), 300 * i).unref();
    });
  }

  private onRound(data: Uint8Array): void {
    const r = decodeControl(roundSchema, data);
    if (!r) return void this.malformed++;
    for (const a of this.agents) a.startRound(r.job, r.t, r.gone);
  }

  private onStop(data: Uint8Array): void {
    const r = decodeControl(stopSchema, data);
    if (!r) return void this.malformed++;
    this.log(`stop: ${r.reason}`);
    this.resolveStopped(r.reason);
  }

  async close(): Promise<void> {
    clearTimeout(this.registerTimer);
    for (const a of this.agents) a.close();
    for (const s of this.subs) s.unsubscribe();
  }
}


/**
 * Decoder for the data plane of one host: a broadcast reaches every subscribing agent of the host
 * as its own delivery, one after the other; decoding the same bytes again returns the value just
 * decoded (read-only to agents) instead of decoding it once per agent.
 */
export function lastValueDecoder(): (bytes: Uint8Array) => unknown {
  let last: Uint8Array | undefined;
  let value: unknown;
  return (bytes) => {
    if (last && sameBytes(last, bytes)) return value;
    value = decode(bytes);
    last = bytes.slice();
    return value;
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
