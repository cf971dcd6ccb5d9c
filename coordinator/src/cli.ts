import { z } from 'zod';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { MODEL_NAMES } from '@dmpemu/wireless';
import { existsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve as resolvePath } from 'node:path';
import { nonNegativeInt, nonNegativeIntOf, numberOf, portNumber, positiveInt, positiveIntOf, positiveNumber, runIdPrefix } from './args.ts';
import { instancesSchema, iterationsSchema, kSchema, natsUrlSchema, noiseSchema, ntSchema, periodMsSchema, roundDeadlineMsSchema, roundsSchema, seedSchema, snrDbSchema, stepsSchema, workersSchema } from './scenario/limits.ts';
import { EVAL_ALGORITHMS, evaluate, formatEval, isModulePath } from './commands/eval.ts';
import { generate } from './commands/generate.ts';
import { CLOCKS, loadScenario, sweepScenarios } from './scenario/scenario.ts';
import { ITERATIVE } from './scenario/algorithmNames.ts';
import { loadTrainScenario, TRAINABLE_KINDS } from './scenario/trainScenario.ts';
import { importCommand } from './commands/import.ts';
import { trainCommand } from './commands/train.ts';
import { runScenario, usesBroker } from './commands/run.ts';
import { natsConfig } from './commands/natsConfig.ts';
import { checkModules } from './scenario/moduleChecks.ts';
import { parseIds, runAgentProcess } from '@dmpemu/agents';
import { UsageError } from './scenario/usageError.ts';
import { readBounded } from './scenario/boundedRead.ts';
import { readCredentials } from './scenario/credentials.ts';
import { checkHostId, checkRunId, COORDINATOR_TIMEOUT_S, hostInUrl, RUN_SECRET_ENV } from '@dmpemu/wire';
import { LEARNED_DMP_ALGORITHMS, MISSING_POLICIES } from '@dmpemu/dmp';
import { listenOn } from './run/listen.ts';
import { findNatsServer } from './run/natsServer.ts';
import { openDashboard } from './dashboard/attach.ts';
import { startDashboard } from './dashboard/server.ts';

const DASHBOARD_HELP = 'serve a live dashboard on http://127.0.0.1:<port>/ (no port or 0: a free one; the URL is printed)';
const LISTEN_HELP = 'with --dashboard: the address to serve on (default 127.0.0.1; 0.0.0.0 for every interface)';

/** Build the `dmpemu` command tree. `print` receives what goes to stdout. */
export function buildCli(print: (s: string) => void): Command {
  const program = new Command('dmpemu')
    .description('Emulate decentralised radio-resource-management algorithms: agents over NATS, rounds driven by a coordinator.')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('generate')
    .description('Draw network instances of a channel model and write them as JSON (or binary msgpack when --out ends in .msgpack).')
    .addOption(new Option('--model <name>', 'network model').choices(MODEL_NAMES).makeOptionMandatory())
    .requiredOption('--K <n>', 'number of transceiver pairs (at most 10000)', positiveIntOf(kSchema))
    .option('--count <n>', 'number of instances (at most 100000)', positiveIntOf(instancesSchema), 1)
    .option('--seed <s>', 'seed; instance n uses the stream derived from (seed, n)', nonNegativeIntOf(seedSchema), 0)
    .requiredOption('--out <file>', 'output file: JSON, or msgpack when it ends in .msgpack')
    .option('--snr-db <dB>', 'rayleigh-ic: SNR in dB (sigma^2 = 10^(-SNR/10)), in [-100, 100]', numberOf(snrDbSchema))
    .option('--weighted', 'rayleigh-ic, d2d, miso: draw weights w_k ~ U[0,1]')
    .option('--field <m>', 'd2d, miso: side of the square field in metres', positiveNumber)
    .option('--dmin <m>', 'd2d, miso: minimum direct-link distance in metres', positiveNumber)
    .option('--dmax <m>', 'd2d, miso: maximum direct-link distance in metres', positiveNumber)
    .option('--csi-range <m>', 'd2d, miso: CSI range D in metres (default: full CSI)', positiveNumber)
    .option('--Nt <n>', 'miso: transmit antennas (at most 64)', positiveIntOf(ntSchema))
    .option('--noise <sigma2>', 'regnn-adhoc: noise power, in [1e-10, 1e10]', numberOf(noiseSchema))
    .action((o) => {
      print(generate(o));
    });

  program
    .command('eval')
    .description('Run an algorithm on every instance of a file and report the (weighted) sum rate; centralized, or as a DMP with --runtime.')
    .requiredOption('--instances <file>', 'instance file (dmpemu format or ../shared/reference format)')
    .requiredOption('--algorithm <name|file>', `algorithm: one of ${EVAL_ALGORITHMS.join(', ')}, or an own algorithm module (.ts/.mjs/.js, README "Write your own algorithm")`, evalAlgorithm)
    .option('--param <key=value>', 'a parameter of an own module (repeatable; the value is JSON if it parses, else a string)', collectParam, {})
    .option('--iterations <n>', 'iterations of wmmse / fplinq / wmmse-dmp, at most 10000 (a WMMSE DMP runs 2 rounds per iteration; default 100)', positiveIntOf(iterationsSchema))
    .option('--seed <s>', 'seed of random and best-fplinq', nonNegativeIntOf(seedSchema), 0)
    .addOption(new Option('--runtime <kind>', 'run as a DMP: inprocess (the reference executor) or nats (one agent per node)').choices(['nats', 'inprocess']))
    .addOption(new Option('--nats <url>', 'with --runtime nats: NATS URL (default: an embedded nats-server)').env('NATS_URL').argParser(natsUrl))
    .option('--agents-per-process <n>', 'with --runtime nats: agents per OS process', positiveInt, 10)
    .option('--round-deadline-ms <ms>', 'with --runtime nats: round deadline (at most 2147482647)', numberOf(roundDeadlineMsSchema), 5000)
    .addOption(new Option('--missing-policy <p>', 'a neighbour message missing at the deadline').choices(MISSING_POLICIES).default('skip'))
    .addOption(new Option('--clock <clock>', 'with --runtime: who starts rounds (barrier: the coordinator; local: each agent on its neighbours\' broadcasts; async: its own timer)').choices(CLOCKS).default('barrier'))
    .option('--period-ms <ms>', 'with --clock async: activation period, at most 60000', numberOf(periodMsSchema), 20)
    .option('--jitter <r>', 'with --clock async: relative jitter of the period, 0..1', numberOf(z.number().min(0).max(1)), 0)
    .option('--activation <p>', 'with --clock async: probability that an activation updates, (0, 1]', numberOf(z.number().gt(0).max(1)), 1)
    .option('--checkpoint <ref>', 'wcgcn, pcgnn, regnn, mlp: checkpoint name in scenarios/models/ or a path')
    .option('--rounds <n>', 'wcgcn: rounds to run, at most 10000 (default: the layers it was trained with)', positiveIntOf(roundsSchema))
    .option('--history', 'centralized, with --json: add the mean objective after every iteration')
    .option('--json', 'print one JSON object instead of a table')
    .option('--dashboard [port]', `with --runtime: ${DASHBOARD_HELP}`, portNumber)
    .option('--listen <host>', LISTEN_HELP, listenHost)
    .action(async (o, cmd: Command) => {
      if (o.dashboard !== undefined && !o.runtime && !(LEARNED_DMP_ALGORITHMS as readonly string[]).includes(o.algorithm))
        throw new UsageError(`--dashboard shows a DMP's rounds: give --runtime nats or --runtime inprocess (${o.algorithm} runs centralized)`);
      checkEvalFlags(cmd, o);
      const dash = await openDashboard(o, undefined, (s) => process.stderr.write(s + '\n'));
      try {
        const r = await evaluate({
          instances: o.instances,
          algorithm: o.algorithm,
          iterations: o.iterations,
          seed: o.seed,
          history: !!o.history,
          runtime: o.runtime,
          nats: o.nats,
          agentsPerProcess: o.agentsPerProcess,
          roundDeadlineMs: o.roundDeadlineMs,
          policy: o.missingPolicy,
          params: o.param,
          clock: o.clock,
          async: o.clock === 'async' ? { periodMs: o.periodMs, jitter: o.jitter, activation: o.activation } : undefined,
          checkpoint: o.checkpoint,
          rounds: o.rounds,
          log: (s) => process.stderr.write(s + '\n'),
          observer: dash?.observer,
        });
        print(o.json ? JSON.stringify(r) : formatEval(r));
      } finally {
        await dash?.close();
      }
    });

  program
    .command('run')
    .description('Run a scenario: draw its networks, run every algorithm (decentralised ones over NATS), write runs/<run-id>/.')
    .argument('<scenario.yaml>', 'scenario file')
    .addOption(new Option('--nats <url>', 'NATS server URL (default: the scenario\'s, else an embedded nats-server)').env('NATS_URL').argParser(natsUrl))
    .option('--out <dir>', 'directory for runs/<run-id>/ (overrides outputs.dir)')
    .option('--quiet', 'print only the final table')
    .option('--external-agents', 'launch no agent: print the `dmpemu agents` commands (credentials files in <run dir>/hosts/) and wait for hosts started elsewhere')
    .option('--run-id <id>', 'the run id (1-50 letters, digits, - or _; each network runs as <id>-p<point>n<network>)', runIdPrefix)
    .option('--secret-file <file>', 'the run secret (64 hex digits) hosts were given in advance (dmpemu nats-config); default a fresh one')
    .option('--dashboard [port]', DASHBOARD_HELP, portNumber)
    .option('--listen <host[:port]>', 'the address other machines reach this run at: the embedded nats-server listens there (default 127.0.0.1 and a free port) and so does --dashboard (on its own port)', listenAddress)
    .action(async (file: string, o, cmd: Command) => {
      const sc = loadScenario(file);
      await checkModules(sc, file); // own algorithms: loaded and built for every network before anything starts
      // flags for NATS given on the command line (NATS_URL is not one), as eval's checkEvalFlags
      if (!usesBroker(sc))
        for (const [key, flag] of [['externalAgents', '--external-agents'], ['nats', '--nats'], ['secretFile', '--secret-file']])
          if (cmd.getOptionValueSource(key) === 'cli') throw new UsageError(`${flag} does nothing here: ${file} runs nothing over NATS (runtime.kind ${sc.runtime.kind}${sc.runtime.kind === 'nats' ? ', and no decentralised algorithm' : ''})`);
      const ownBroker = !o.nats && !sc.runtime.nats;
      if (o.listen && o.dashboard === undefined && sc.runtime.kind !== 'nats') throw new UsageError('--listen is where the embedded nats-server and --dashboard serve: this scenario runs in process (runtime.kind inprocess): give --dashboard too, or drop --listen');
      if (o.listen && o.dashboard === undefined && !ownBroker) throw new UsageError('--listen is where the embedded nats-server and --dashboard serve: with --nats / runtime.nats give --dashboard too, or drop --listen');
      if (o.listen && ownBroker && sc.runtime.kind === 'nats') await checkListen(o.listen);
      // fault plans this broker setup cannot carry out: refused before anything starts (they failed mid-run, exit 1)
      const natsFlag = cmd.getOptionValueSource('nats') === 'env' ? 'NATS_URL' : '--nats';
      if (!ownBroker && o.nats && sweepScenarios(sc).some((p) => p.scenario.faults.brokerRestart?.length)) throw new UsageError(`faults.brokerRestart stops and starts the embedded nats-server, which ${natsFlag} replaces: run without ${natsFlag}, or drop the fault`);
      if (o.externalAgents) checkExternalBroker(ownBroker);
      if (o.externalAgents && sweepScenarios(sc).some((p) => p.scenario.faults.crash?.length)) throw new UsageError('faults.crash kills an agent process this machine launched: with --external-agents it launches none (drop the fault, or --external-agents)');
      const secret = o.secretFile ? runSecret(o.secretFile, 'run') : undefined;
      if (o.out) sc.outputs.dir = o.out;
      const dash = await openDashboard({ dashboard: o.dashboard, listen: o.dashboard === undefined ? undefined : o.listen?.host }, sc.outputs.dir, print);
      // SIGINT/SIGTERM end the run after the current round; summary.json then says so.
      const abort = new AbortController();
      const stop = (sig: string) => () => abort.abort(sig);
      const onInt = stop('SIGINT'), onTerm = stop('SIGTERM');
      process.once('SIGINT', onInt).once('SIGTERM', onTerm);
      try {
        const { dir } = await runScenario(sc, {
          nats: o.nats,
          signal: abort.signal,
          log: (s) => (o.quiet && !s.includes('\n') ? undefined : print(s)),
          externalAgents: !!o.externalAgents,
          runId: o.runId,
          secret,
          credsDir: o.secretFile ? dirname(resolvePath(o.secretFile)) : undefined,
          listen: ownBroker ? o.listen : undefined,
          observer: dash?.observer,
        });
        print(`\nwrote ${dir}/ (scenario.yaml, rounds.jsonl, summary.json, summary.md, report.html${sc.sweep ? ', sweep-*.svg' : ', rounds-*.svg'}; for the dashboard: layouts.jsonl, agents.jsonl, wmmse.jsonl)`);
      } finally {
        process.off('SIGINT', onInt).off('SIGTERM', onTerm);
        await dash?.close();
      }
    });

  program
    .command('nats-config')
    .description('Access control for a broker you run: an authorization block, the run secret and one credentials file per agent host.')
    .argument('<scenario.yaml>', 'scenario file')
    .requiredOption('--run-id <id>', 'the run id `dmpemu run --run-id` will use (1-50 letters, digits, - or _)', runIdPrefix)
    .option('--hosts <n>', 'agent hosts per network (default: K / runtime.agentsPerProcess)', positiveIntOf(kSchema))
    .option('--out <dir>', 'directory for the files', 'nats-config')
    .action((file: string, o) => {
      print(natsConfig(loadScenario(file), { runId: o.runId, hosts: o.hosts, out: o.out }));
    });

  program
    .command('dashboard')
    .description('Serve the dashboard for the runs of a directory, from their files (a list of runs, each run\'s curves and network, two runs compared), until interrupted.')
    .argument('[runs]', 'directory holding run directories', 'runs')
    .option('--port <n>', 'port, 0-65535 (0: a free one, printed)', portNumber, 0)
    .option('--listen <host>', 'the address to serve on (0.0.0.0 for every interface)', listenHost, '127.0.0.1')
    .action(async (dir: string, o) => {
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`dashboard: ${dir} is not a directory (give the directory that holds the run directories, e.g. runs)`);
      const d = await startDashboard({ host: o.listen, port: o.port, runsDir: dir, flag: '--port' });
      print(`dashboard: ${d.url} (runs in ${dir}; Ctrl-C to stop)`);
      await new Promise((r) => process.once('SIGINT', r).once('SIGTERM', r));
      await d.close(0);
    });

  program
    .command('import')
    .description('Turn a message-passing GNN exported from PyTorch (torch.onnx.export of its message and update networks, described by a model.yaml) into a hashed checkpoint that runs decentralised as --algorithm mpnn.')
    .argument('<model.yaml>', 'model file: message, update (ONNX files), aggregation, rounds, state, edge, output')
    .requiredOption('--out <checkpoint.json>', 'the checkpoint to write')
    .action((file: string, o) => {
      print(importCommand(file, o.out));
    });

  program
    .command('train')
    .description(`Train a model centrally (TensorFlow.js) on a training scenario: architecture.kind ${TRAINABLE_KINDS.join(' | ')}. Writes a hashed checkpoint, a manifest line, curve.jsonl and curve.svg to runs/train/<name>/ (or --out; the shipped scenarios/models/ only with an explicit --out).`)
    .argument('<train.yaml>', 'training scenario')
    .option('--resume', 'continue from the saved checkpoint up to the total step count')
    .option('--steps <n>', 'total training steps, at most 10^7 (overrides training.steps)', positiveIntOf(stepsSchema))
    .option('--out <dir>', 'checkpoint directory (overrides output.dir; default runs/train/<name>/)')
    .option('--quiet', 'no progress bar')
    .option('--workers <n>', 'gradient worker threads, at most 32: each batch split over n threads (1: in process)', positiveIntOf(workersSchema), 1)
    .action(async (file: string, o) => {
      const sc = loadTrainScenario(file);
      print(await trainCommand(sc, { out: o.out, resume: !!o.resume, steps: o.steps, quiet: !!o.quiet, workers: o.workers, command: `dmpemu train ${process.argv.slice(3).join(' ')}`, log: print }));
    });

  const natsOption = (): Option => new Option('--nats <url>', 'NATS server URL').env('NATS_URL').argParser(natsUrl).makeOptionMandatory();
  const agentArgs = (c: Command): Command =>
    c
      .addOption(natsOption())
      .option('--run <id>', 'run id announced by the coordinator (or from --creds)')
      .option('--creds <file>', 'credentials file from `dmpemu run --external-agents` or `dmpemu nats-config`: run, host id, agent ids, run secret, broker user')
      .option('--host-id <id>', 'this host\'s id in subjects (default: from --creds, else machine name and pid)')
      .option('--secret-file <file>', `file holding the run secret (default: from --creds, else the ${RUN_SECRET_ENV} environment variable)`)
      .option('--parent-pid <pid>', 'exit when this process is gone (set by the coordinator)', positiveInt)
      .option('--coordinator-timeout <s>', `without --parent-pid: leave (exit 1) when the coordinator, once heard, was silent this many seconds (default ${COORDINATOR_TIMEOUT_S})`, positiveInt)
      .option('--verbose', 'log to stderr');
  type HostFlags = { nats: string; run?: string; creds?: string; hostId?: string; secretFile?: string; parentPid?: number; coordinatorTimeout?: number; verbose?: boolean };
  const hostOptions = (o: HostFlags, ids: number[] | undefined) => {
    const c = o.creds ? readCredentials(o.creds) : undefined;
    const run = o.run ?? c?.run;
    if (!run) throw new UsageError('agents: give --run <id> or --creds <file>');
    // checked before connecting: a bad id is a subject token the broker refuses (or a wildcard)
    usage('--run', () => checkRunId(run));
    if (o.hostId !== undefined) usage('--host-id', () => checkHostId(o.hostId!));
    if (o.coordinatorTimeout !== undefined && o.parentPid !== undefined) throw new UsageError('--coordinator-timeout is for a host started by hand: with --parent-pid it follows that process instead (drop one)');
    const agents = ids ?? (c ? usage(`--creds ${o.creds}`, () => parseIds(c.ids)) : undefined);
    if (!agents) throw new UsageError('agents: give --ids <list>, --count <n> [--first <k>] or --creds <file>');
    return {
      nats: o.nats,
      run,
      ids: agents,
      host: o.hostId ?? c?.host,
      secret: o.secretFile || !c ? runSecret(o.secretFile, 'agents') : c.secret,
      user: c?.user,
      pass: c?.password,
      parentPid: o.parentPid,
      coordinatorTimeoutS: o.coordinatorTimeout,
      verbose: o.verbose,
    };
  };

  agentArgs(program.command('agent').description('Run one agent: register, receive its local view, run rounds until stopped.'))
    .requiredOption('--id <k>', 'agent index k', nonNegativeInt)
    .action(async (o) => {
      await runAgentProcess(hostOptions(o, usage('--id', () => parseIds(String(o.id)))));
    });

  agentArgs(program.command('agents').description('Run an agent host: many agents in one process, each with its own view, state and subscriptions.'))
    .option('--ids <list>', 'agent indices, e.g. 0-49 or 1,4,7-9')
    .option('--first <k>', 'with --count: first agent index', nonNegativeInt, 0)
    .option('--count <n>', 'number of agents, from --first (at most 10000)', positiveIntOf(kSchema))
    .action(async (o) => {
      const ids = o.ids ? usage('--ids', () => parseIds(o.ids)) : o.count ? usage('--first', () => parseIds(`${o.first}-${o.first + o.count - 1}`)) : undefined;
      await runAgentProcess(hostOptions(o, ids));
    });

  program.commands.forEach((c) => c.exitOverride().showHelpAfterError('(run with --help for usage)'));
  return program;
}

/**
 * eval's flags that act only in some runs, refused where they would be ignored (given on the
 * command line: defaults and NATS_URL do not count), naming what they need.
 */
function checkEvalFlags(cmd: Command, o: Record<string, unknown>): void {
  const dmp = o.runtime !== undefined || (LEARNED_DMP_ALGORITHMS as readonly unknown[]).includes(o.algorithm) || isModulePath(o.algorithm as string);
  const rules: [key: string, flag: string, acts: boolean, needs: string][] = [
    ['nats', '--nats', o.runtime === 'nats', '--runtime nats'],
    ['agentsPerProcess', '--agents-per-process', o.runtime === 'nats', '--runtime nats'],
    ['roundDeadlineMs', '--round-deadline-ms', o.runtime === 'nats', '--runtime nats'],
    ['clock', '--clock', dmp, '--runtime (or a learned algorithm or a module, which run as DMPs)'],
    ['missingPolicy', '--missing-policy', dmp, '--runtime (or a learned algorithm or a module, which run as DMPs)'],
    ['periodMs', '--period-ms', o.clock === 'async', '--clock async'],
    ['jitter', '--jitter', o.clock === 'async', '--clock async'],
    ['activation', '--activation', o.clock === 'async', '--clock async'],
    ['history', '--history', !dmp && !!o.json && ITERATIVE.has(o.algorithm as string), '--json and wmmse or fplinq centralized (a DMP reports every round anyway)'],
    ['listen', '--listen', o.dashboard !== undefined, '--dashboard'],
    ['seed', '--seed', o.algorithm === 'random' || o.algorithm === 'best-fplinq', 'random and best-fplinq (their random draws)'],
  ];
  for (const [key, flag, acts, needs] of rules)
    if (!acts && cmd.getOptionValueSource(key) === 'cli') throw new UsageError(`${flag} does nothing here: it acts with ${needs}`);
}

/** Run `check`; what it throws is bad input named by `what` (exit 2). */
function usage<T>(what: string, check: () => T): T {
  try {
    return check();
  } catch (e) {
    throw new UsageError(`${what}: ${(e as Error).message}`);
  }
}

/** `--algorithm`: a built-in's name, or a module file. */
function evalAlgorithm(value: string): string {
  if ((EVAL_ALGORITHMS as readonly string[]).includes(value) || isModulePath(value)) return value;
  throw new InvalidArgumentError(`expected one of ${EVAL_ALGORITHMS.join(', ')}, or a module file (.ts, .mts, .js, .mjs).`);
}

/** `--param key=value`, collected: the value is JSON when it parses (numbers, true, lists), else the string. */
function collectParam(value: string, into: Record<string, unknown>): Record<string, unknown> {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(value);
  if (!m) throw new InvalidArgumentError('expected key=value, e.g. iterations=20.');
  let v: unknown = m[2];
  try {
    v = JSON.parse(m[2]);
  } catch {
    /* a string */
  }
  return { ...into, [m[1]]: v };
}

/** `--nats <url>` (and NATS_URL; set but empty: not given). */
function natsUrl(value: string): string | undefined {
  if (value === '') return undefined;
  const r = natsUrlSchema.safeParse(value);
  if (!r.success) throw new InvalidArgumentError(`${r.error.issues[0].message}.`);
  return value;
}

/** `--listen <host>` of a dashboard: a host name or address (an empty one would mean every interface). */
function listenHost(value: string): string {
  if (!/^([A-Za-z0-9.-]+|\[?[0-9a-fA-F:]+\]?)$/.test(value)) throw new InvalidArgumentError('expected a host name or address, e.g. 127.0.0.1, or 0.0.0.0 for every interface.');
  return value;
}

/** `--listen host:port` (port 0 or missing: a free one). */
function listenAddress(value: string): { host: string; port?: number } {
  const m = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(value) ?? /^([A-Za-z0-9.-]+)$/.exec(value);
  const port = m?.[2] === undefined ? undefined : Number(m[2]);
  if (!m || (port !== undefined && port > 65535)) throw new InvalidArgumentError('expected host:port, e.g. 0.0.0.0:4222 or 127.0.0.1:0.');
  return { host: m[1].replace(/^\[|\]$/g, ''), port: port || undefined }; // an IPv6 address bare, as nats-server's -a and listen() take it
}

/**
 * `run --listen`: the embedded nats-server must be able to listen there. Tried before anything
 * starts, so an address of no interface here or a port in use is bad input (exit 2), not a
 * nats-server that exits after the run directory was written.
 */
async function checkListen(l: { host: string; port?: number }): Promise<void> {
  const probe = createServer();
  await listenOn(probe, l.host, l.port ?? 0, `--listen ${hostInUrl(l.host)}:${l.port ?? 0}`);
  await new Promise((r) => probe.close(r));
}

/** The run secret: `run --secret-file`, or an agent host's --secret-file, else its environment; checked before connecting. */
function runSecret(file: string | undefined, command: 'run' | 'agents'): string {
  let secret: string | undefined;
  if (file) secret = readBounded(file, { bytes: 1024, what: 'secret files' }, '--secret-file: cannot read').toString('utf8').trim();
  else secret = process.env[RUN_SECRET_ENV];
  if (!secret && file) throw new UsageError(`${command}: --secret-file ${file} is empty: expected the run secret, 64 hex digits (dmpemu nats-config writes one)`);
  if (!secret) throw new UsageError(`agents: no run secret: give --secret-file <file> or set ${RUN_SECRET_ENV} (the coordinator launches its own hosts with it)`);
  if (!/^[0-9a-f]{64}$/.test(secret)) throw new UsageError(`${command}: the run secret${file ? ` in ${file}` : ''} must be 64 hex digits`);
  return secret;
}

/**
 * `run --external-agents` needs a broker other machines reach: a URL (--nats, NATS_URL,
 * runtime.nats), else the embedded nats-server. Without nats-server the run would fall back to
 * the in-process bus, print host commands with `--nats memory` that no host can follow, and wait
 * registerTimeoutS for nothing.
 */
export function checkExternalBroker(ownBroker: boolean, find: () => string | undefined = findNatsServer): void {
  if (ownBroker && !find()) throw new UsageError('--external-agents: no nats-server on this machine (PATH, /usr/sbin) for hosts elsewhere to reach: install nats-server, or give --nats <url> of a broker you run');
}

/** Run the CLI; returns the process exit code (2 for bad input). */
export async function main(argv: string[]): Promise<number> {
  const program = buildCli((s) => process.stdout.write(s + '\n'));
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed the message; help and version are not errors
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version' ? 0 : 2;
    }
    // One line, no stack: 2 for bad input, 1 for a failure of the run (e.g. NATS unreachable).
    // (a message may quote a file's text, newlines and all: JSON.parse's does)
    process.stderr.write(`dmpemu: ${(e as Error).message.replace(/\s*\n\s*/g, ' ')}\n`);
    if (process.env.DMPEMU_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}
