/** Version of the agent/coordinator protocol; part of every subject, so mismatched peers never talk. */
export const PROTOCOL_VERSION = 1;

/** Run ids become subject tokens: letters, digits, '-' and '_' only. */
export function checkRunId(runId: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(runId)) throw new Error(`run id ${JSON.stringify(runId)}: expected 1-64 letters, digits, '-' or '_'`);
  return runId;
}

/** NATS subjects of one run: `dmpemu.v<version>.<runId>.<...>`. */
export function subjects(runId: string) {
  const base = `dmpemu.v${PROTOCOL_VERSION}.${checkRunId(runId)}`;
  return {
    base,
    /** agent host -> coordinator: the agents a process serves. */
    register: `${base}.ctl.register`,
    /** coordinator -> agent k (request/reply): local view and algorithm. */
    agent: (k: number) => `${base}.agent.${k}`,
    /** coordinator -> all agents: a round starts. */
    round: `${base}.ctl.round`,
    /** agents -> coordinator: round done, with the agent's output. */
    report: `${base}.ctl.report`,
    /** coordinator -> all agents: end of run. */
    stop: `${base}.ctl.stop`,
    /** agent k's broadcast (data plane); its neighbours subscribe. */
    broadcast: (k: number) => `${base}.bcast.${k}`,
  };
}
export type Subjects = ReturnType<typeof subjects>;
