/** @dmpemu/coordinator: run scenarios, drive agents, read results from TypeScript (README, "Programmatic API"). */
export { loadScenario, parseScenario, type Scenario } from './scenario/scenario.ts';
export { loadTrainScenario, type TrainScenario } from './scenario/trainScenario.ts';
export { UsageError } from './scenario/usageError.ts';
export { Coordinator, openBroker, closeBroker, type Broker, type CoordinatorOptions, type JobOptions, type JobNetwork, type JobResult, type RoundRecord } from './run/coordinator.ts';
export { NatsServer, findNatsServer } from './run/natsServer.ts';
export { evalDmp, evalCentralized, type Evaluation } from './run/evaluation.ts';
export { wmmseYardstick, Yardstick, type WmmseYardstick } from './run/yardstick.ts';
export type { RunEvent, RunObserver, RoundAgents } from './run/observer.ts';
export type { AlgorithmSummary, NetworkSummary, RunSummary } from './results/summary.ts';
export { formatSummaryMarkdown, formatSummaryTable } from './report/report.ts';
export { runScenario, drawInstances, type RunOptions } from './commands/run.ts';
export { evaluate, type EvalArgs, type EvalResult } from './commands/eval.ts';
export { startDashboard, type Dashboard, type DashboardOptions } from './dashboard/server.ts';
export { writeRunReport } from './report/reportHtml.ts';
