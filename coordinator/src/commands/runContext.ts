/** What the networks of a `dmpemu run` share (run.ts for pair networks, runCellFree.ts for cell-free ones). */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Checkpoint, MissingPolicy } from '@dmpemu/dmp';
import { formatIds, parseIds } from '@dmpemu/agents';
import { withoutCredentials } from '@dmpemu/wire';
import type { RoundAgents, RunObserver } from '../run/observer.ts';
import { Coordinator, type Broker, type RoundRecord } from '../run/coordinator.ts';
import { makeDir } from '../scenario/makeDir.ts';
import { UsageError } from '../scenario/usageError.ts';
import { readCredentials, writeCredentials } from '../scenario/credentials.ts';
import type { AlgorithmEntry, Scenario } from '../scenario/scenario.ts';
import type { AlgorithmSummary } from '../results/summary.ts';

/** What every network of a run shares. */
export interface RunContext {
  /** The run directory. */
  dir: string;
  broker: Broker | undefined;
  write: (line: object) => void;
  log: (s: string) => void;
  checkpoints: Map<string, Checkpoint>;
  signal?: AbortSignal;
  emit: RunObserver;
  /** Jobs announced so far and in all (for progress). */
  jobs: { n: number; of: number };
  point?: number;
  /** External agents: where their credentials files go; with a broker you run, where `dmpemu nats-config` wrote the hosts' own (credsDir). */
  external?: { dir: string; credsDir?: string };
  secret?: string;
}


/**
 * The coordinator of one network (K agents) and its agent hosts: launched here (`isolate`: the
 * agents that get a process of their own, crash targets), or announced for hosts started
 * elsewhere (--external-agents). Shut down again when that fails.
 */
export async function startCoordinator(sc: Scenario, K: number, runId: string, ctx: RunContext, isolate: number[]): Promise<Coordinator> {
  const { broker, log, signal, external } = ctx;
  const c = await Coordinator.start({ broker: broker!, runId, log, signal, registerTimeoutS: sc.runtime.registerTimeoutS, secret: ctx.secret });
  try {
    if (external) {
      // external hosts wait for this coordinator at least as long as it rides out a broker outage itself
      c.startHeartbeat(sc.runtime.registerTimeoutS * 1000 + Math.max(0, ...(sc.faults.brokerRestart ?? []).map((f) => f.downMs)));
      await announceExternalHosts(c, broker!, K, sc.runtime.agentsPerProcess, external, sc.runtime.registerTimeoutS, log);
    } else await c.spawnHosts(K, sc.runtime.agentsPerProcess, isolate);
  } catch (e) {
    await c.shutdown();
    throw e;
  }
  return c;
}

/**
 * The hosts `dmpemu nats-config` made for network run `runId` (K agents): its credentials files
 * `<runId>.<host>.creds` in `dir`, sorted; none when it made none. Throws, naming the file, unless
 * they are this run's and split agents 0..K-1 among them, each agent once (files of an older
 * scenario, or of another --hosts, left in the folder).
 */
export function natsConfigHosts(dir: string, runId: string, K: number): { file: string; host: string; ids: number[] }[] {
  const hosts = readdirSync(dir)
    .filter((f) => f.startsWith(`${runId}.`) && f.endsWith('.creds'))
    .sort()
    .map((f) => {
      const file = join(dir, f);
      const cred = readCredentials(file);
      if (cred.run !== runId || `${runId}.${cred.host}.creds` !== f) throw new UsageError(`${file}: holds run ${cred.run} host ${cred.host}, expected run ${runId} (its name): made by \`dmpemu nats-config\` for another run?`);
      return { file, host: cred.host, ids: parseIds(cred.ids) };
    });
  const owner = new Map<number, string>();
  for (const { file, ids } of hosts) {
    for (const k of ids) {
      if (k >= K) throw new UsageError(`${file}: serves agent ${k}, but network run ${runId} has ${K} agents (0-${K - 1}): made by \`dmpemu nats-config\` for another scenario? make them again`);
      if (owner.has(k)) throw new UsageError(`${file}: serves agent ${k}, which ${owner.get(k)} serves too: files of two \`dmpemu nats-config\` runs (another --hosts)? make them again into an empty folder`);
      owner.set(k, file);
    }
  }
  if (hosts.length > 0 && owner.size < K) {
    const missing = Array.from({ length: K }, (_, k) => k).filter((k) => !owner.has(k));
    throw new UsageError(`${dir}: the \`dmpemu nats-config\` credentials files of network run ${runId} serve no host for agent(s) ${formatIds(missing)} of its ${K}: made for another scenario? make them again`);
  }
  return hosts;
}

/**
 * External agents: write one credentials file per host into <run dir>/hosts/ (the run id, host
 * id, agent ids, run secret and, with the embedded broker, its user) and print the command that
 * starts it, on this machine or another (copy the file there). With a broker you run that asks
 * for credentials, the hosts need their own users: the commands name `dmpemu nats-config`'s files
 * for this run when they are in `credsDir` (beside its secret), and a host may then register only
 * the agents its file names (the claim check of the embedded broker's users).
 */
export async function announceExternalHosts(c: Coordinator, broker: Broker, K: number, perProcess: number, external: { dir: string; credsDir?: string }, timeoutS: number, log: (s: string) => void): Promise<void> {
  const { dir, credsDir } = external;
  const hosts = await c.externalHosts(K, perProcess);
  const hostsDir = join(dir, 'hosts');
  makeDir(hostsDir, 'outputs.dir', dir);
  // never the coordinator's credentials (a broker you run: NATS_URL=nats://coordinator:<password>@...): each host brings its own
  const url = broker.kind === 'nats' ? withoutCredentials(broker.url) : 'memory';
  const ownUsers = broker.kind === 'nats' && url !== broker.url && !hosts.some((h) => h.user);
  const configured = ownUsers && credsDir ? natsConfigHosts(credsDir, c.runId, K) : [];
  if (configured.length > 0) {
    c.expectHosts(configured);
    const lines = [`run ${c.runId}: ${K} agents wait for ${configured.length} external host(s) with their own broker users (${timeoutS} s); start each with its \`dmpemu nats-config\` credentials:`];
    for (const { file } of configured) lines.push(`  dmpemu agents --nats ${url} --creds ${file}`);
    return log(lines.join('\n'));
  }
  const lines = [`run ${c.runId}: ${K} agents wait for ${hosts.length} external host(s) (${timeoutS} s); start each with:`];
  for (const h of hosts) {
    const file = join(hostsDir, `${c.runId}.${h.host}.creds`);
    writeCredentials(file, { run: c.runId, host: h.host, ids: formatIds(h.ids), secret: c.secret, ...(h.user ? { user: h.user.user, password: h.user.password } : {}) });
    lines.push(`  dmpemu agents --nats ${url} --creds ${file}`);
  }
  if (broker.kind === 'nats' && broker.server && broker.server.host !== '127.0.0.1') lines.push(`  (on another machine use this machine's address instead of ${new URL(url).hostname})`);
  if (ownUsers) lines.push(`  (the broker asks for credentials: give each host its own user, the .creds file of \`dmpemu nats-config\` for that host, never the coordinator's)`);
  log(lines.join('\n'));
}

/** What a learned algorithm was trained on, from its checkpoint (summaries plot results against the training set's size). */
export function trainedOf(alg: AlgorithmEntry, checkpoints: Map<string, Checkpoint>): { trained?: AlgorithmSummary['trained'] } {
  const c = alg.checkpoint ? checkpoints.get(alg.checkpoint) : undefined;
  const size = c?.training.trainingSetSize;
  return c && (typeof size === 'number' || typeof size === 'string') ? { trained: { kind: c.architecture.kind, trainingSetSize: size } } : {};
}

/** What every DMP evaluation of a scenario is told about its rounds: deadline, missing policy, clock. */
export function roundOptions(sc: Scenario): { roundDeadlineMs: number; policy: MissingPolicy; clock: Scenario['runtime']['clock'] } {
  return { roundDeadlineMs: sc.runtime.roundDeadlineMs, policy: sc.runtime.missingPolicy as MissingPolicy, clock: sc.runtime.clock };
}

/** Where a DMP job runs: over NATS, the in-memory bus, or the in-process executor (no coordinator). */
export function runtimeOf(c: Coordinator | undefined): AlgorithmSummary['runtime'] {
  return c ? (c.transportKind === 'nats' ? 'nats' : 'memory') : 'inprocess';
}

/**
 * Where a DMP algorithm's rounds go: a line of rounds.jsonl and a round event to the observer,
 * `normalised` by its instance's normaliser (`by`; null while it is not known yet).
 */
export function roundSink(ctx: RunContext, network: string, algorithm: string, runtime: string, job: () => number, by: (instance: number) => number | undefined): (instance: number, rec: RoundRecord, agents: RoundAgents) => void {
  return (instance, rec, agents) => {
    const w = by(instance);
    const normalised = w === undefined ? null : rec.objective / w;
    const { t, ...rest } = rec;
    ctx.write({ network, instance, algorithm, runtime, round: t, ...rest, normalised });
    ctx.emit({ type: 'round', job: job(), network, instance, algorithm, t, record: rec, normalised, agents });
  };
}
