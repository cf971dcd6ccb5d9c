import type { Absence, ChannelFault, DeliveryFaults } from '@dmpemu/dmp';
import { localViews, Rng, subInstance, withCsiNoise, withMissingCsi, type Instance, type LocalView } from '@dmpemu/wireless';
import type { Faults } from './scenario.ts';

/** An agent process killed at the start of `round`; with `restart`, a new one rejoins later. */
export interface CrashFault {
  agent: number;
  round: number;
  restart: boolean;
}

/** The embedded nats-server stopped at the start of `round` and started again `downMs` later. */
export interface BrokerRestartFault {
  round: number;
  downMs: number;
}

/** The faults of a scenario made concrete for one instance: what each executor applies. */
export interface ResolvedFaults {
  /** Local views after missing CSI and CSI noise (the true channel is untouched). */
  views: LocalView[];
  /** The instance as agents know it (its CSI mask lacks the removed edges). */
  known: Instance;
  delivery?: DeliveryFaults;
  crashes: CrashFault[];
  brokerRestarts: BrokerRestartFault[];
  /** Edges removed from local views, over all agents. */
  removedEdges: number;
  /** A time-varying channel, its draws seeded per instance. */
  channel?: ChannelFault;
  /** churn: per agent, the rounds it is away (undefined: never); absent without churn. */
  churn?: (Absence | undefined)[];
  /** churn: the network that remains at the end, without the agents that left for good (subInstance): what centralized algorithms and the normaliser run on. */
  remaining: Instance;
  /** churn: the agents that left for good (silent at the end), ascending. */
  leftForGood: number[];
}

/** Resolve the fault plan for instance `label` (e.g. `network/3`), every draw derived from (seed, label). */
export function resolveFaults(f: Faults, inst: Instance, seed: number, label: string): ResolvedFaults {
  const known = f.missingCsi ? withMissingCsi(inst, f.missingCsi, Rng.derive(seed, `missingCsi/${label}`)) : inst;
  let views = localViews(known);
  if (f.csiNoise) {
    const noise = f.csiNoise;
    views = views.map((v) => withCsiNoise(v, noise, Rng.derive(seed, `csiNoise/${label}/${v.k}`)));
  }
  const edges = (x: Instance): number => (x.csi ? x.csi.reduce((s, b) => s + b, 0) : x.K * (x.K - 1));
  const delivery: DeliveryFaults | undefined =
    f.messageLoss || f.messageDelay || f.stragglers || f.messageQuantization || f.messageNoise || f.bitErrors
      ? {
          seed: new Rng(`${seed}/delivery/${label}`).nextUint32() | 0,
          loss: f.messageLoss?.probability,
          delayMaxMs: f.messageDelay?.model === 'uniform' ? f.messageDelay.maxMs : undefined,
          distanceDelay: f.messageDelay?.model === 'distance' ? { baseMs: f.messageDelay.baseMs!, msPerKm: f.messageDelay.msPerKm! } : undefined,
          stragglers: f.stragglers,
          quantization: f.messageQuantization,
          bitErrors: f.bitErrors,
          noiseSnrDb: f.messageNoise?.snrDb,
        }
      : undefined;
  return {
    views,
    known,
    delivery,
    crashes: (f.crash ?? []).map((c) => ({ agent: c.agent, round: c.round, restart: c.restart })),
    brokerRestarts: (f.brokerRestart ?? []).map((b) => ({ round: b.round, downMs: b.downMs })),
    removedEdges: edges(inst) - edges(known),
    ...churnPlan(f.churn, inst, seed, label),
    ...(f.channel ? { channel: { seed: new Rng(`${seed}/channel/${label}`).nextUint32() | 0, correlation: f.channel.correlation, coherenceRounds: f.channel.coherenceRounds } } : {}),
  };
}

/** churn for one instance: the listed agents, or round(rate K) agents (at least one) drawn from (seed, label). */
function churnPlan(c: Faults['churn'], inst: Instance, seed: number, label: string): { churn?: (Absence | undefined)[]; remaining: Instance; leftForGood: number[] } {
  if (!c) return { remaining: inst, leftForGood: [] };
  const churn = new Array<Absence | undefined>(inst.K).fill(undefined);
  const at = (a: { leaveRound: number; joinRound?: number }): Absence => (a.joinRound === undefined ? { leaveRound: a.leaveRound } : { leaveRound: a.leaveRound, joinRound: a.joinRound });
  if (Array.isArray(c)) for (const a of c) churn[a.agent] = at(a);
  else {
    const rng = Rng.derive(seed, `churn/${label}`);
    const order = Array.from({ length: inst.K }, (_, k) => k);
    const n = Math.max(1, Math.round(c.rate * inst.K));
    for (let i = 0; i < n; i++) {
      const r = i + rng.int(inst.K - i);
      [order[i], order[r]] = [order[r], order[i]];
      churn[order[i]] = at(c);
    }
  }
  // those that left for good transmit nothing at the end: the network that remains is the others
  // (with them at weight 0 but still in the instance, full and equal had them at Pmax, and
  // WMMSE's start too)
  const leftForGood = churn.flatMap((a, k) => (a && a.joinRound === undefined ? [k] : []));
  const remaining = leftForGood.length ? subInstance(inst, churn.flatMap((a, k) => (a && a.joinRound === undefined ? [] : [k]))) : inst;
  return { churn, remaining, leftForGood };
}

/** Whether the plan injects anything at all. */
export function hasFaults(f: Faults): boolean {
  return Object.values(f).some((v) => v !== undefined && !(Array.isArray(v) && v.length === 0));
}
