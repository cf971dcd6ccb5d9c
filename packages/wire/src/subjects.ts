/** Version of the agent/coordinator protocol; part of every subject, so mismatched peers never talk. */
export const PROTOCOL_VERSION = 5;

/** Run ids become subject tokens: letters, digits, '-' and '_' only. */
export function checkRunId(runId: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(runId)) throw new Error(`run id ${JSON.stringify(runId)}: expected 1-64 letters, digits, '-' or '_'`);
  return runId;
}

/** Host ids become subject tokens too (a host's subjects carry its id: access rules can name them). */
export function checkHostId(host: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(host)) throw new Error(`host id ${JSON.stringify(host)}: expected 1-64 letters, digits, '-' or '_'`);
  return host;
}

/**
 * NATS subjects of one run: `dmpemu.v<version>.<runId>.<...>`. Whoever may publish on a subject
 * is named by it: the coordinator alone on `cfg.*` and `ctl`, host h alone on `reg.h` and `up.h`,
 * agent k alone on `b.k` (README, protocol).
 */
export function subjects(runId: string) {
  const base = `dmpemu.v${PROTOCOL_VERSION}.${checkRunId(runId)}`;
  return {
    base,
    /** host h -> coordinator: the agents it serves. */
    register: (host: string) => `${base}.reg.${host}`,
    registerAll: `${base}.reg.*`,
    /** coordinator -> agent k: its local view and algorithm for a job. */
    configure: (k: number) => `${base}.cfg.${k}`,
    /** host h -> coordinator: ready / refused / reports / failures / final counters of its agents. */
    up: (host: string) => `${base}.up.${host}`,
    upAll: `${base}.up.*`,
    /** coordinator -> every host: round starts, job ends, stop. */
    control: `${base}.ctl`,
    /** agent k's broadcast (data plane); its neighbours subscribe. */
    broadcast: (k: number) => `${base}.b.${k}`,
  };
}
export type Subjects = ReturnType<typeof subjects>;

/** The last token of a subject (`up.h3` -> `h3`). */
export function lastToken(subject: string): string {
  return subject.slice(subject.lastIndexOf('.') + 1);
}
