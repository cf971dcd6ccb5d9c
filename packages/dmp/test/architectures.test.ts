import { describe, expect, it } from 'vitest';
import { createAlgorithm, loadCheckpoint, PCGNN_DEFAULTS, resolveArchitecture, validateArchitectureOptions, WCGCN_DEFAULTS } from '../src/index.ts';

const MODELS = new URL('../../../scenarios/models/', import.meta.url).pathname;
const F = { transform: 'db', direct: { shift: 0, scale: 1 }, cross: { shift: 0, scale: 1 } } as const;

describe('architectures before training (defaults, options, checks)', () => {
  it('resolves the defaults of each kind for the network, then the options', () => {
    expect(resolveArchitecture('wcgcn', {}, F, { K: 10, Nt: 1 })).toEqual({ kind: 'wcgcn', task: 'power', ...WCGCN_DEFAULTS, features: F });
    expect(resolveArchitecture('wcgcn', { layers: 2 }, F, { K: 10, Nt: 2 })).toMatchObject({ task: 'beamforming', Nt: 2, layers: 2, mlp1: [12, 64, 64], mlp2: [72, 32, 4] });
    expect(resolveArchitecture('wcgcn', { edges: 'both' }, F, { K: 10, Nt: 2 })).toMatchObject({ task: 'beamforming', Nt: 2, edges: 'both', mlp1: [16, 64, 64], mlp2: [72, 32, 4] });
    expect(resolveArchitecture('wcgcn', { edges: 'out' }, F, { K: 10, Nt: 2 })).toMatchObject({ task: 'beamforming', Nt: 2, edges: 'out', mlp1: [12, 64, 64], mlp2: [72, 32, 4] });
    expect(resolveArchitecture('pcgnn', {}, F, { K: 10, Nt: 1 })).toMatchObject({ kind: 'pcgnn', ...PCGNN_DEFAULTS });
    expect(resolveArchitecture('mlp', {}, F, { K: 7, Nt: 1 })).toMatchObject({ kind: 'mlp', K: 7, hidden: [200, 80, 80] });
  });

  it.each([
    ['wcgcn', { mlp1: [7, 32, 32] }, 1, 'w: architecture.mlp1[0] must be 5 ([x_j, e_jk]), got 7'],
    ['wcgcn', { mlp1: [5, 32, 32] }, 2, 'w: architecture.mlp1[0] must be 12 ([x_j, e_jk]), got 5'],
    ['wcgcn', { edges: 'both', mlp1: [12, 64, 64] }, 2, 'w: architecture.mlp1[0] must be 16 ([x_j, e_jk]), got 12'],
    ['wcgcn', { edges: 'both' }, 1, 'w: architecture.edges must be absent for power control (its e_jk is [g_jk, g_kj])'],
    ['wcgcn', { edges: 'sideways' }, 2, 'w: architecture.edges must be in, out, both, got "sideways"'],
    ['wcgcn', { taps: [3] }, 1, 'w: architecture.taps: not a parameter of a wcgcn (it takes layers, mlp1, mlp2, aggregation, mlp1Output, edges)'],
    ['pcgnn', { head: [0] }, 1, 'w: architecture.head must list positive hidden layer widths (may be empty)'],
    ['regnn', { layers: 1, taps: [1], widths: [1] }, 1, 'w: architecture.taps must include a filter of length >= 2 (taps [1] run no rounds)'],
  ] as const)('refuses %s %j (Nt = %d)', (kind, options, Nt, message) => {
    expect(() => validateArchitectureOptions(kind, options as Record<string, unknown>, { K: 10, Nt }, 'w')).toThrow(new Error(message));
  });
});

describe('createAlgorithm refuses what it cannot run', () => {
  it('a PCGNN or a REGNN on MISO nodes (they decide powers), rounds for wmmse-dmp', () => {
    const pcgnn = loadCheckpoint(`${MODELS}pcgnn-d2d-k50.json`);
    expect(() => createAlgorithm({ name: 'pcgnn', checkpoint: pcgnn }, 2)).toThrow(new Error('pcgnn: a pcgnn does power control, the network has Nt = 2 antennas (a beamforming WCGCN or wmmse-dmp runs on MISO networks)'));
    const regnn = loadCheckpoint(`${MODELS}regnn-adhoc-m20.json`);
    expect(() => createAlgorithm({ name: 'regnn', checkpoint: regnn }, 4)).toThrow(new Error('regnn: a regnn does power control, the network has Nt = 4 antennas (a beamforming WCGCN or wmmse-dmp runs on MISO networks)'));
    expect(() => createAlgorithm({ name: 'wmmse-dmp', iterations: 3, rounds: 9 })).toThrow(new Error('wmmse-dmp: it runs 2 rounds per iteration: give iterations, not rounds (9)'));
    expect(createAlgorithm({ name: 'pcgnn', checkpoint: pcgnn }, 1).rounds).toBe(2);
  });
});
