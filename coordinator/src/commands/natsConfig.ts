import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatIds } from '@dmpemu/agents';
import { newRunSecret } from '@dmpemu/wire';
import { partition, partitionInto } from '../run/launcher.ts';
import { authorizationBlock, coordinatorUser, hostUser, type BrokerUser } from '../run/access.ts';
import { resolveFaults } from '../scenario/faultPlan.ts';
import { agentsOf, networkName, sweepScenarios, type Scenario } from '../scenario/scenario.ts';
import { makeDir } from '../scenario/makeDir.ts';
import { writeCredentials } from '../scenario/credentials.ts';
import { drawInstances, usesBroker } from './run.ts';
import { UsageError } from '../scenario/usageError.ts';
import { drawCellFree } from './runCellFree.ts';
import { cellFreeViews } from '@dmpemu/wireless';

export interface NatsConfigArgs {
  runId: string;
  /** Hosts per network, each network's agents split evenly over them (default: K / runtime.agentsPerProcess, rounded up). */
  hosts?: number;
  out: string;
}

/**
 * `dmpemu nats-config`: access control for a broker the user runs. For every network of the
 * scenario (and sweep point) it splits the agents into hosts as `dmpemu run` would, draws the
 * instances to know each host's agents' neighbours, and writes `authorization.conf` (the
 * coordinator's user and one per host, with the subject permissions of access.ts), the run secret
 * (`secret`) and one credentials file per host (`dmpemu agents --creds`).
 */
export function natsConfig(sc: Scenario, a: NatsConfigArgs): string {
  if (!usesBroker(sc)) throw new UsageError(`nats-config: scenario ${sc.name} runs nothing over NATS (runtime.kind ${sc.runtime.kind}${sc.runtime.kind === 'nats' ? ', and no decentralised algorithm' : ''}): there is no access to control`);
  makeDir(a.out, '--out', a.out);
  const secret = newRunSecret();
  const coordinator = coordinatorUser();
  const users: BrokerUser[] = [coordinator];
  const files: string[] = [];
  for (const [p, { scenario }] of sweepScenarios(sc).entries()) {
    scenario.networks.forEach((net, i) => {
      const runId = `${a.runId}-p${p}n${i}`;
      const K = agentsOf(net);
      if (a.hosts && a.hosts > K) throw new UsageError(`--hosts ${a.hosts}: network ${networkName(net)} has ${K} agents, so at most ${K} hosts (one agent each)`);
      const views = net.model === 'cell-free' ? drawCellFree(net, scenario.seed).map(cellFreeViews) : drawInstances(net, scenario.seed).map((inst, n) => resolveFaults(scenario.faults, inst, scenario.seed, `${networkName(net)}/${n}`).views);
      (a.hosts ? partitionInto(K, a.hosts) : partition(K, scenario.runtime.agentsPerProcess)).forEach((ids, h) => {
        const host = `h${h}`;
        const neighbours = new Set<number>();
        for (const vs of views) for (const k of ids) for (const j of vs[k].neighbours) neighbours.add(j);
        const u = hostUser(runId, host, ids, neighbours);
        users.push(u);
        const file = join(a.out, `${runId}.${host}.creds`);
        writeCredentials(file, { run: runId, host, ids: formatIds(ids), secret, user: u.user, password: u.password });
        files.push(file);
      });
    });
  }
  writeFileSync(join(a.out, 'authorization.conf'), authorizationBlock(users), { mode: 0o600 });
  writeFileSync(join(a.out, 'secret'), secret + '\n', { mode: 0o600 });
  return [
    `wrote ${join(a.out, 'authorization.conf')} (include it in the nats-server configuration), ${join(a.out, 'secret')} and ${files.length} host credentials file(s)`,
    `coordinator: NATS_URL=nats://${coordinator.user}:${coordinator.password}@<broker>:4222 dmpemu run <scenario> --external-agents --run-id ${a.runId} --secret-file ${join(a.out, 'secret')}`,
    `hosts:       dmpemu agents --nats nats://<broker>:4222 --creds <one of the .creds files>`,
  ].join('\n');
}
