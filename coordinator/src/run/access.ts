import { randomBytes } from 'node:crypto';
import { subjects } from '@dmpemu/wire';

/** One broker user: its password and the subjects it may publish and subscribe to. */
export interface BrokerUser {
  user: string;
  password: string;
  publish: string[];
  subscribe: string[];
}

export function newPassword(): string {
  return randomBytes(18).toString('base64url');
}

/** The coordinator may publish and subscribe everywhere (it configures, starts and stops runs). */
export function coordinatorUser(password = newPassword()): BrokerUser {
  return { user: 'coordinator', password, publish: ['>'], subscribe: ['>'] };
}

/**
 * What agent host `host` of run `runId` may do (README, access control): publish only its
 * registration, its messages to the coordinator and its own agents' broadcasts; subscribe only to
 * the control subject, its own agents' configuration subjects and the broadcasts of their
 * neighbours (`neighbours`; undefined while they are not known yet: every broadcast of the run,
 * never another run's). Nothing else: not another host's configurations (local views are CSI),
 * not another agent's broadcast subject.
 */
export function hostUser(runId: string, host: string, agents: readonly number[], neighbours?: Iterable<number>, password = newPassword()): BrokerUser {
  const s = subjects(runId);
  return {
    user: `${runId}.${host}`,
    password,
    publish: [s.register(host), s.up(host), ...agents.map((k) => s.broadcast(k))],
    subscribe: [s.control, ...agents.map((k) => s.configure(k)), ...(neighbours ? [...new Set(neighbours)].sort((a, b) => a - b).map((j) => s.broadcast(j)) : [`${s.base}.b.*`])],
  };
}

/** nats-server's authorization block for these users (nats-server 2.9 configuration syntax). */
export function authorizationBlock(users: readonly BrokerUser[]): string {
  const list = (xs: string[]): string => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
  const lines = users.map((u) => `    { user: ${JSON.stringify(u.user)}, password: ${JSON.stringify(u.password)}, permissions: { publish: { allow: ${list(u.publish)} }, subscribe: { allow: ${list(u.subscribe)} } } }`);
  return `authorization {\n  users = [\n${lines.join('\n')}\n  ]\n}\n`;
}
