import type { LocalView } from '@dmpemu/wireless';
import type { DmpAlgorithm } from './contract.ts';

/**
 * What a node does with a neighbour whose message for the round did not arrive:
 * `skip` leaves it out of the aggregate; `last` reuses the last broadcast received from it in a
 * round of the same phase (t mod period), if any.
 */
export type MissingPolicy = 'skip' | 'last';
export const MISSING_POLICIES: readonly MissingPolicy[] = ['skip', 'last'];

export interface RoundOutcome {
  /** Neighbour messages that arrived in time for the round. */
  received: number;
  /** Neighbours whose message was missing (substituted under `last` or skipped). */
  missing: number;
}

/**
 * Runs one node of a DMP algorithm: holds its state, buffers the neighbours' broadcasts of the
 * current round by neighbour slot and aggregates them in slot order at update time, so every
 * executor (in-process, NATS) computes bit for bit the same thing whatever the arrival order.
 */
export class NodeRunner<S> {
  readonly k: number;
  readonly neighbours: Int32Array;
  private readonly slotOf = new Map<number, number>();
  private state: S;
  private readonly inbox: (Float64Array | undefined)[];
  private readonly last: (Float64Array | undefined)[][];
  private arrived = 0;
  /** Live neighbours whose broadcast of the current round has not arrived. */
  private waiting: number;
  /** Neighbours known to be gone (crashed): not waited for. */
  private readonly gone = new Set<number>();
  /** Slots whose broadcast of the current round is known lost. */
  private readonly skipped = new Set<number>();
  /** Slots whose neighbour is away in the current round (churn): left out of the aggregate, not missing. */
  private readonly away = new Set<number>();
  /** The round open for broadcasts (update(t) opens t + 1). */
  private round = 0;

  constructor(readonly alg: DmpAlgorithm<S>, private view: LocalView, readonly policy: MissingPolicy = 'skip') {
    this.k = view.k;
    this.neighbours = view.neighbours;
    view.neighbours.forEach((j, i) => this.slotOf.set(j, i));
    this.state = alg.init(view);
    this.inbox = new Array<Float64Array | undefined>(view.neighbours.length).fill(undefined);
    this.last = Array.from({ length: alg.period }, () => new Array(view.neighbours.length));
    this.waiting = this.expected();
  }

  /** Whether slot i is aggregated in the open round (node types: `listens`; else every slot). */
  heard(i: number): boolean {
    return this.listensAt(this.round, i);
  }

  /** Whether slot i is aggregated in round t. */
  listensAt(t: number, i: number): boolean {
    return !this.alg.listens || this.alg.listens(this.view, t, i);
  }

  /** The live neighbours aggregated in the open round: those waited for. */
  private expected(): number {
    if (!this.alg.listens && this.gone.size === 0) return this.neighbours.length;
    let n = 0;
    for (let i = 0; i < this.neighbours.length; i++) if (this.heard(i) && !this.gone.has(this.neighbours[i])) n++;
    return n;
  }

  /** Broadcast of round t (a fresh array). */
  broadcast(t: number): Float64Array {
    const out = new Float64Array(this.alg.broadcastSize(t, this.view.type));
    this.alg.broadcast(this.state, t, out);
    return out;
  }

  /** Slot of neighbour j, or -1 when j is not in N(k). */
  slot(j: number): number {
    return this.slotOf.get(j) ?? -1;
  }

  /** Store neighbour j's broadcast for the current round. False if j is unknown, a duplicate, the wrong size, or not listened to this round. */
  receive(t: number, j: number, b: Float64Array): boolean {
    const i = this.slot(j);
    if (i < 0 || this.inbox[i] !== undefined || this.skipped.has(i) || !this.heard(i) || b.length !== this.broadcastSizeOf(i, t)) return false;
    this.receiveSlot(i, b);
    return true;
  }

  /** The size of slot i's broadcast in round t (its type's, with node types). */
  broadcastSizeOf(i: number, t: number): number {
    return this.alg.broadcastSize(t, this.view.neighbourTypes?.[i]);
  }

  /** The broadcast stored for slot i in the current round, if any. */
  stored(i: number): Float64Array | undefined {
    return this.inbox[i];
  }

  /** Whether slot i's broadcast of the current round is known lost. */
  isSkipped(i: number): boolean {
    return this.skipped.has(i);
  }

  /** Whether slot i's neighbour is away in the current round. */
  isAway(i: number): boolean {
    return this.away.has(i);
  }

  /**
   * Slot i's neighbour is away in the current round (churn: its absence notice came instead of a
   * broadcast; the caller has checked the slot is unsettled). It is not waited for and is left out
   * of the aggregate whatever the missing policy (it transmits nothing), and the broadcasts
   * remembered from it are forgotten: after coming back it starts afresh.
   */
  awaySlot(i: number): void {
    if (this.alg.listens && !this.heard(i)) return;
    this.away.add(i);
    for (const l of this.last) l[i] = undefined;
    if (!this.gone.has(this.neighbours[i])) this.waiting--;
  }

  /** The node measured its channel anew at the start of round t (faults.channel): the algorithm goes on with the CSI of `view`, which a rejoin starts from too. */
  refresh(t: number, view: LocalView): void {
    if (!this.alg.refresh) throw new Error(`${this.alg.name} cannot take refreshed CSI (its DMP has no refresh)`);
    this.view = view;
    this.alg.refresh(this.state, t, view);
  }

  /** This node comes back after being away (churn): a fresh state from its local view, nothing remembered. */
  rejoin(): void {
    this.state = this.alg.init(this.view);
    for (const l of this.last) l.fill(undefined);
  }

  /** Store slot i's broadcast (the caller has checked the slot is free and the size right; a slot not listened to this round is ignored). */
  receiveSlot(i: number, b: Float64Array): void {
    if (this.alg.listens && !this.heard(i)) return;
    this.inbox[i] = b;
    this.arrived++;
    if (!this.gone.has(this.neighbours[i])) this.waiting--;
  }

  /**
   * Neighbour j's broadcast of the current round is known to be lost: stop waiting for it (it is
   * handled like any missing message). False if j is unknown or already settled this round.
   */
  skip(j: number): boolean {
    const i = this.slot(j);
    if (i < 0 || this.inbox[i] !== undefined || this.skipped.has(i)) return false;
    this.skipSlot(i);
    return true;
  }

  /** Slot i's broadcast of the current round is lost (the caller has checked the slot is unsettled). */
  skipSlot(i: number): void {
    if (this.alg.listens && !this.heard(i)) return;
    this.skipped.add(i);
    if (!this.gone.has(this.neighbours[i])) this.waiting--;
  }

  /**
   * The neighbours known to be gone (crashed, not yet back): `complete()` does not wait for them.
   * Call at the start of a round, before its broadcasts are handed in.
   */
  setGone(gone: Iterable<number>): void {
    this.gone.clear();
    for (const j of gone) if (this.slotOf.has(j)) this.gone.add(j);
    this.waiting = this.expected();
  }

  /** Neighbour j is gone from now on, in the middle of a round too: its broadcast is no longer waited for. */
  markGone(j: number): void {
    const i = this.slot(j);
    if (i < 0 || this.gone.has(j)) return;
    this.gone.add(j);
    if (this.inbox[i] === undefined && !this.skipped.has(i) && !this.away.has(i) && this.heard(i)) this.waiting--;
  }

  /** Whether every live neighbour's broadcast for the current round has arrived. */
  complete(): boolean {
    return this.waiting === 0;
  }

  /** Aggregate what arrived (slot order), update the state, and open the next round. */
  update(t: number): RoundOutcome {
    const { alg, state, inbox, away } = this;
    const size = alg.messageSize(t, this.view.type);
    const agg = alg.aggregation(t, this.view.type);
    // anything else ran as a sum: an own module's 'Max' or 'min' changed its result silently
    if (agg !== 'sum' && agg !== 'max' && agg !== 'mean') throw new Error(`aggregation(${t}) returned ${JSON.stringify(agg)}, expected "sum", "max" or "mean"`);
    const y = new Float64Array(size);
    const m = new Float64Array(size);
    const last = this.last[t % alg.period];
    const n = this.neighbours.length;
    const anyAway = away.size > 0;
    let used = 0;
    let missing = 0;
    if (agg === 'max') y.fill(-Infinity);
    for (let i = 0; i < n; i++) {
      if ((anyAway && away.has(i)) || (alg.listens && !this.heard(i))) continue;
      let b = inbox[i];
      if (b === undefined) {
        missing++;
        if (this.policy === 'last') b = last[i];
        if (b === undefined) continue;
      } else last[i] = b;
      alg.message(state, t, i, b, m);
      used++;
      if (agg === 'max') for (let d = 0; d < size; d++) y[d] = Math.max(y[d], m[d]);
      else for (let d = 0; d < size; d++) y[d] += m[d];
    }
    if (used === 0) y.fill(0);
    else if (agg === 'mean') for (let d = 0; d < size; d++) y[d] /= used;
    alg.update(state, t, y, used);
    inbox.fill(undefined);
    this.round = t + 1;
    this.waiting = this.expected();
    this.skipped.clear();
    away.clear();
    const received = this.arrived;
    this.arrived = 0;
    return { received, missing };
  }

  output(): Float64Array {
    return this.alg.output(this.state);
  }
}
