/**
 * The live dashboard's state, reduced from the run's events: the run, its progress and the view
 * the page draws (the instance of the current DMP job). Each event yields at most one message
 * for the pages; a page that connects, or one that fell behind, gets `view()`, the whole state in
 * one message. Its size is bounded: one layout, and the rounds of the current network's
 * instances up to MAX_VALUES numbers (the oldest instances' rounds go first).
 */
import type { RunEvent } from '../run/observer.ts';
import { CurvePoints } from '../report/curvePoints.ts';
import { agentState, encodeLayout } from '../report/networkLayout.ts';
import { emptySeries, type LogEntry, type Progress, type RunInfo, type Series, type View } from './view.ts';

export type Message =
  | { type: 'view'; view: View }
  | { type: 'round'; algorithm: string; t: number; series: { [K in keyof Series]: Series[K][number] }; agents: View['agents'][string]; progress: Progress }
  | { type: 'wmmse'; curve: (number | null)[] }
  | { type: 'result'; algorithm: string; objective: number }
  | { type: 'log'; entry: LogEntry }
  | { type: 'progress'; progress: Progress }
  | { type: 'end'; run: RunInfo };

/** Numbers of per-round values kept for the current network's instances. */
export const MAX_VALUES = 4_000_000;
/** Faults and deaths kept for the page. */
const MAX_LOG = 200;

interface InstanceData {
  series: Map<string, Series>;
  results: Map<string, number>;
  wmmse?: (number | null)[];
}

const nullable = (c: number[]): (number | null)[] => c.map((x) => (Number.isFinite(x) ? x : null));

export class LiveState {
  private run: RunInfo | null = null;
  private progress: Progress | null = null;
  private cur: { point?: number; network: string; model?: string; instance: number; K: number; layout?: View['layout'] } | undefined;
  private data = new Map<number, InstanceData>();
  private values = 0;
  private agents: View['agents'] = {};
  private log: LogEntry[] = [];
  private readonly points = new CurvePoints<(number | null)[]>();

  private instanceData(i: number): InstanceData {
    let d = this.data.get(i);
    if (!d) this.data.set(i, (d = { series: new Map(), results: new Map() }));
    return d;
  }

  private sweepValue(point: number | undefined): number | undefined {
    return point === undefined ? undefined : this.run?.sweep?.values[point];
  }

  /** Apply an event; returns the message for the pages (undefined: nothing to tell). */
  apply(e: RunEvent): Message | undefined {
    switch (e.type) {
      case 'run':
        this.run = { runId: e.runId, scenario: e.scenario, jobs: e.jobs, sweep: e.sweep, networks: e.networks, status: 'running' };
        this.progress = null;
        this.cur = undefined;
        this.data.clear();
        this.values = 0;
        this.agents = {};
        this.log = [];
        return { type: 'view', view: this.view() };
      case 'job': {
        const sameNetwork = this.cur?.network === e.network && this.cur.point === e.point;
        this.progress = { job: e.job, of: e.of, point: e.point, sweepValue: this.sweepValue(e.point), network: e.network, instance: e.instance, algorithm: e.algorithm, kind: e.kind, t: -1, rounds: e.rounds };
        if (!sameNetwork) {
          this.data.clear();
          this.values = 0;
        }
        for (const [i, c] of this.points.job(e.point, e.network)) this.instanceData(i).wmmse = c;
        // a DMP job, or the first job on a network, becomes the view; other centralized jobs only report
        if (e.kind === 'centralized' && sameNetwork) return { type: 'progress', progress: this.progress };
        const model = this.run?.networks.find((n) => n.name === e.network)?.model;
        this.cur = { point: e.point, network: e.network, model, instance: e.instance, K: e.K, layout: encodeLayout(e.K, e.tx, e.rx, e.edges, e.M) };
        this.agents = {};
        return { type: 'view', view: this.view() };
      }
      case 'round': {
        const d = this.instanceData(e.instance);
        let s = d.series.get(e.algorithm);
        if (!s) d.series.set(e.algorithm, (s = emptySeries()));
        const r = e.record;
        const row = { objective: r.objective, normalised: e.normalised, messages: r.messages, bytes: r.bytes, latencyMs: r.latencyMs, timedOut: r.timedOut, missing: r.missing };
        for (const k of Object.keys(row) as (keyof Series)[]) (s[k] as unknown[])[e.t] = row[k];
        this.values += 7;
        this.evict(e.instance);
        if (!this.cur || this.cur.instance !== e.instance || this.cur.network !== e.network || !this.progress) return undefined;
        this.progress.t = e.t;
        const agents = { ...agentState(e.agents), t: e.t };
        this.agents = { [e.algorithm]: agents };
        return { type: 'round', algorithm: e.algorithm, t: e.t, series: row, agents, progress: this.progress };
      }
      case 'wmmse': {
        const curve = nullable(e.curve);
        const p = this.points.curve(e.network, e.instance, curve);
        if (!p) return undefined;
        this.instanceData(e.instance).wmmse = curve;
        const c = this.cur;
        return c && c.instance === e.instance && c.network === e.network && c.point === p.point ? { type: 'wmmse', curve } : undefined;
      }
      case 'result':
        this.instanceData(e.instance).results.set(e.algorithm, e.objective);
        return this.cur?.instance === e.instance && this.cur.network === e.network ? { type: 'result', algorithm: e.algorithm, objective: e.objective } : undefined;
      case 'death':
        return this.addLog({ kind: 'death', algorithm: this.progress?.algorithm, instance: e.instance, round: e.death.round, agent: e.death.k, text: `agent ${e.death.k} died at round ${e.death.round}: ${e.death.cause}` });
      case 'fault': {
        const f = e.event;
        return this.addLog({ kind: f.event, algorithm: this.progress?.algorithm, instance: e.instance, round: f.round, agent: f.agent, text: `${f.event}${f.agent === undefined ? '' : ` of agent ${f.agent}`} at round ${f.round}${f.detail ? ` (${f.detail})` : ''}` });
      }
      case 'end':
        if (!this.run) return undefined;
        this.run = { ...this.run, status: e.status, reason: e.reason, seconds: e.seconds };
        return { type: 'end', run: this.run };
    }
  }

  private addLog(entry: LogEntry): Message {
    this.log.push(entry);
    if (this.log.length > MAX_LOG) this.log.splice(0, this.log.length - MAX_LOG);
    return { type: 'log', entry };
  }

  /** Drop the rounds of the lowest instances but `keep` while over MAX_VALUES. */
  private evict(keep: number): void {
    if (this.values <= MAX_VALUES) return;
    for (const [i, d] of this.data) {
      if (this.values <= MAX_VALUES) break;
      if (i === keep || i === this.cur?.instance) continue;
      for (const s of d.series.values()) this.values -= 7 * s.objective.length;
      d.series.clear();
    }
  }

  /** The whole state, as the page needs it to draw from scratch. */
  view(): View {
    const c = this.cur;
    const d = c ? this.data.get(c.instance) : undefined;
    return {
      run: this.run,
      progress: this.progress,
      point: c?.point,
      sweepValue: this.sweepValue(c?.point),
      network: c?.network ?? '',
      model: c?.model,
      instance: c?.instance ?? 0,
      K: c?.K ?? 0,
      layout: c?.layout,
      wmmse: d?.wmmse,
      series: Object.fromEntries(d?.series ?? []),
      results: Object.fromEntries(d?.results ?? []),
      agents: this.agents,
      log: this.log,
    };
  }
}
