import { benchRuntime } from './runtime.ts';
import { benchWmmse } from './wmmse.ts';

// `npm run bench [wmmse|runtime]`: timings and same-run ratios. Never part of the tests.
const only = process.argv[2];
if (!only || only === 'wmmse') benchWmmse();
if (!only || only === 'runtime') await benchRuntime();
