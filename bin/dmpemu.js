#!/usr/bin/env node
// The dmpemu CLI. Sources are TypeScript, loaded through tsx (no build step).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../coordinator/src/cli.ts');
process.exitCode = await main(process.argv);
