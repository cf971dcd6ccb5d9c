/** Centralized algorithms that iterate (they take `iterations`). */
export const ITERATIVE: ReadonlySet<string> = new Set(['wmmse', 'fplinq']);

/** Centralized learned baselines: they need the whole channel and a checkpoint (the PCNet-style MLP). */
export const LEARNED_CENTRALIZED = ['mlp'] as const;

/**
 * Cell-free massive MIMO's algorithms (Table IV of the theory-to-practice paper, max-min power
 * control): the DMPs with one agent per AP and per user (checkpoints), the MLP of its reference
 * [30] (centralized, a checkpoint), maximum power and the optimal algorithm (bisection on the
 * common SINR, @dmpemu/wireless cellFreeOptimal). They run only on cell-free networks, and the
 * pair algorithms only on pair networks.
 */
export const CELL_FREE_DMP = ['cf-pcgnn', 'hetgnn'] as const;
export const CELL_FREE_CENTRALIZED = ['max-power', 'optimal', 'cf-mlp'] as const;
export type CellFreeCentralized = (typeof CELL_FREE_CENTRALIZED)[number];
export const CELL_FREE_ALGORITHMS: readonly string[] = [...CELL_FREE_DMP, ...CELL_FREE_CENTRALIZED];

/**
 * What summaries divide by (a scenario's `normaliseBy`): centralized WMMSE-100 from full power, or
 * Best FPLinQ (FPLinQ-100 from full power and 100 random starts, the best run; the DMP paper's
 * normaliser in section VI-A), both with global CSI on the same instances; for cell-free networks,
 * the optimal max-min algorithm (`optimal`, the only one there and their default). The labels are
 * how tables name them ("vs WMMSE-100").
 */
export const NORMALISERS = ['wmmse-100', 'best-fplinq', 'optimal'] as const;
export type Normaliser = (typeof NORMALISERS)[number];
export const NORMALISER_LABELS: Record<Normaliser, string> = { 'wmmse-100': 'WMMSE-100', 'best-fplinq': 'Best FPLinQ', optimal: 'optimal' };
