/**
 * Which sweep point a `wmmse` event belongs to. A network's yardstick starts before its jobs:
 * a small network's curves all arrive before its first job, a large one's (a worker thread)
 * while its jobs run, and all of them before the next network starts. So a curve for (network,
 * instance) belongs to the current point when its jobs are on that network and that instance's
 * curve has not come yet; otherwise to the next point whose jobs are on that network.
 */
export class CurvePoints<C> {
  private current: { point: number | undefined; network: string; seen: Set<number> } | undefined;
  private readonly pending = new Map<string, Map<number, C>>();

  /** A job starts; returns the curves that were waiting for this (point, network). */
  job(point: number | undefined, network: string): Map<number, C> {
    if (this.current && this.current.point === point && this.current.network === network) return new Map();
    this.current = { point, network, seen: new Set() };
    const waiting = this.pending.get(network) ?? new Map<number, C>();
    this.pending.delete(network);
    for (const i of waiting.keys()) this.current.seen.add(i);
    return waiting;
  }

  /** A curve arrives: its point when it belongs to the current one, else it waits (returns null). */
  curve(network: string, instance: number, c: C): { point: number | undefined } | null {
    const cur = this.current;
    if (cur && cur.network === network && !cur.seen.has(instance)) {
      cur.seen.add(instance);
      return { point: cur.point };
    }
    let m = this.pending.get(network);
    if (!m) this.pending.set(network, (m = new Map()));
    m.set(instance, c);
    return null;
  }
}
