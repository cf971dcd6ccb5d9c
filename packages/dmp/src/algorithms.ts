import type { AlgorithmSpec, DmpAlgorithm } from './contract.ts';
import { wmmseDmp } from './wmmseDmp.ts';

/** DMP algorithms by name: the one place a spec shipped over the wire becomes code. */
export const DMP_ALGORITHMS = ['wmmse-dmp'] as const;

export function createAlgorithm(spec: AlgorithmSpec): DmpAlgorithm<unknown> {
  switch (spec.name) {
    case 'wmmse-dmp':
      return wmmseDmp(spec.iterations ?? 100) as DmpAlgorithm<unknown>;
    default:
      throw new Error(`unknown DMP algorithm ${JSON.stringify(spec.name)}: expected one of ${DMP_ALGORITHMS.join(', ')}`);
  }
}
