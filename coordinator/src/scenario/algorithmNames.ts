/** Centralized algorithms that iterate (they take `iterations`). */
export const ITERATIVE: ReadonlySet<string> = new Set(['wmmse', 'fplinq']);

/** Centralized learned baselines: they need the whole channel and a checkpoint (the PCNet-style MLP). */
export const LEARNED_CENTRALIZED = ['mlp'] as const;

/**
 * What summaries divide by (a scenario's `normaliseBy`): centralized WMMSE-100 from full power, or
 * Best FPLinQ (FPLinQ-100 from full power and 100 random starts, the best run; the DMP paper's
 * normaliser in section VI-A), both with global CSI on the same instances. The labels are how
 * tables name them ("vs WMMSE-100").
 */
export const NORMALISERS = ['wmmse-100', 'best-fplinq'] as const;
export type Normaliser = (typeof NORMALISERS)[number];
export const NORMALISER_LABELS: Record<Normaliser, string> = { 'wmmse-100': 'WMMSE-100', 'best-fplinq': 'Best FPLinQ' };
