import { createAlgorithm, loadModule } from '@dmpemu/dmp';
import { ntOf } from './networkSchema.ts';
import { checkBuiltDmp } from './scenarioChecks.ts';
import { algorithmLabel, networkName, specOf, sweepScenarios, type Scenario } from './scenario.ts';
import { UsageError } from './usageError.ts';

/**
 * Own algorithms, checked before anything starts: each module bundled, verified, loaded and built
 * (its factory called with its params) for every network it runs on, in every sweep point, then
 * checked as built-in DMPs are (checkBuiltDmp: fault rounds it must reach, message budget,
 * refresh). A module that does not build, throws or returns something that is not a DmpAlgorithm
 * is a UsageError naming the entry, the module and what was wrong.
 */
export async function checkModules(sc: Scenario, source: string): Promise<void> {
  for (const { scenario, label } of sweepScenarios(sc)) {
    const at = label === undefined ? source : `${source} (sweep ${label})`; // as parseScenario names a point
    for (const [i, a] of scenario.algorithms.entries()) {
      if (!a.module) continue;
      const where = `${at}: algorithms[${i}] (${algorithmLabel(a)})`;
      let spec;
      try {
        spec = specOf(a, new Map());
        await loadModule(spec.module!);
      } catch (e) {
        throw new UsageError(`${where}: ${(e as Error).message}`);
      }
      for (const n of scenario.networks) {
        if (a.networks && !a.networks.includes(networkName(n))) continue;
        let built;
        try {
          built = createAlgorithm(spec, ntOf(n));
        } catch (e) {
          throw new UsageError(`${where} on network ${networkName(n)}: ${(e as Error).message}`);
        }
        checkBuiltDmp(scenario, built, i, at); // fault rounds, message budget, refresh: as for built-in algorithms
      }
    }
  }
}
