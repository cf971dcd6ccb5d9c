import { benchGnn, benchInference } from './gnn.ts';
import { benchLearnedRounds, benchRuntime } from './runtime.ts';
import { benchWmmse } from './wmmse.ts';

// `npm run bench [wmmse|runtime|rounds|gnn|inference|import|parallel]` (rounds: runtime's learned-against-WMMSE table alone; inference: gnn's inference table alone): timings and same-run ratios. Never part of the tests.
const only = process.argv[2];
if (!only || only === 'wmmse') benchWmmse();
if (!only || only === 'runtime') await benchRuntime();
if (!only || only === 'runtime' || only === 'rounds') await benchLearnedRounds();
if (!only || only === 'gnn') await benchGnn();
if (only === 'inference') await benchInference();
if (!only || only === 'import') (await import('./importedModel.ts')).benchImportedModel();
if (!only || only === 'parallel') await (await import('./parallel.ts')).benchParallelTraining();
