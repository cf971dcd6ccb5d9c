/** Centralized algorithms that iterate (they take `iterations`). */
export const ITERATIVE: ReadonlySet<string> = new Set(['wmmse', 'fplinq']);

/** Centralized learned baselines: they need the whole channel and a checkpoint (the PCNet-style MLP). */
export const LEARNED_CENTRALIZED = ['mlp'] as const;
