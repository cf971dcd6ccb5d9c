/**
 * What the run's files do not hold and the dashboard draws for a finished run, written into the
 * run directory from the observer as the run goes (one appended line each, like rounds.jsonl):
 * - layouts.jsonl: per sweep point, network and instance (the first RECORDED_INSTANCES of each),
 *   the positions and CSI links (networkLayout.ts);
 * - agents.jsonl: per DMP job on those instances, its last round's per-agent powers and who was
 *   dead, timed out or short of messages;
 * - wmmse.jsonl: per instance, centralized WMMSE's objective after 0..n iterations (null where a
 *   large network's curve is not sampled).
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunEvent, RunObserver } from '../run/observer.ts';
import { CurvePoints } from './curvePoints.ts';
import { agentState, encodeLayout } from './networkLayout.ts';

/** Layouts and final agent states are kept for this many instances of each network and sweep point. */
export const RECORDED_INSTANCES = 10;

type Round = Extract<RunEvent, { type: 'round' }>;

export function runRecorder(dir: string, log: (s: string) => void = () => {}): RunObserver {
  let sweep: number[] | undefined;
  let job: Extract<RunEvent, { type: 'job' }> | undefined;
  let last: Round | undefined;
  const laidOut = new Set<string>();
  const points = new CurvePoints<number[]>();
  let failed = false;
  const append = (file: string, line: object): void => {
    if (failed) return;
    try {
      appendFileSync(join(dir, file), JSON.stringify(line) + '\n');
    } catch (e) {
      failed = true; // the run goes on without these files
      log(`could not write ${file}: ${(e as Error).message}`);
    }
  };
  const where = (point: number | undefined) => (point === undefined ? {} : { point, sweep: sweep?.[point] });
  const wmmse = (point: number | undefined, network: string, instance: number, curve: number[]): void =>
    append('wmmse.jsonl', { ...where(point), network, instance, curve: curve.map((x) => (Number.isFinite(x) ? x : null)) });
  const flush = (): void => {
    if (job && last && job.instance < RECORDED_INSTANCES)
      append('agents.jsonl', { ...where(job.point), network: job.network, instance: job.instance, algorithm: job.algorithm, t: last.t, ...agentState(last.agents) });
    last = undefined;
  };
  return (e) => {
    switch (e.type) {
      case 'run':
        sweep = e.sweep?.values;
        break;
      case 'job': {
        flush();
        job = e;
        for (const [i, c] of points.job(e.point, e.network)) wmmse(e.point, e.network, i, c);
        const key = `${e.point}/${e.network}/${e.instance}`;
        if (e.instance < RECORDED_INSTANCES && !laidOut.has(key)) {
          laidOut.add(key);
          append('layouts.jsonl', { ...where(e.point), network: e.network, instance: e.instance, ...encodeLayout(e.K, e.tx, e.rx, e.edges, e.M) });
        }
        break;
      }
      case 'round':
        if (job && e.job === job.job) last = e;
        break;
      case 'wmmse': {
        const p = points.curve(e.network, e.instance, e.curve);
        if (p) wmmse(p.point, e.network, e.instance, e.curve);
        break;
      }
      case 'end':
        flush();
        break;
    }
  };
}
