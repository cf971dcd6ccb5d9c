import { describe, expect, it } from 'vitest';
import { parseTrainScenario } from '../coordinator/src/scenario/trainScenario.ts';
import { UsageError } from '../coordinator/src/scenario/usageError.ts';

const ok = { name: 't', network: { model: 'rayleigh-ic', K: 10, snrDb: 10 }, training: { steps: 10 } };
const regnn = { model: 'regnn-adhoc', K: 10 };

describe('training scenario validation (before TensorFlow.js loads)', () => {
  it('accepts the defaults of every kind', () => {
    for (const kind of ['wcgcn', 'pcgnn', 'mlp', 'ecgnn', 'uwmmse']) expect(parseTrainScenario({ ...ok, architecture: { kind } }, 't.yaml').architecture.kind).toBe(kind);
    expect(parseTrainScenario({ ...ok, network: { model: 'miso', K: 10, Nt: 2 } }, 't.yaml').network.Nt).toBe(2);
    for (const edges of ['in', 'out', 'both']) expect(parseTrainScenario({ ...ok, network: { model: 'miso', K: 10, Nt: 2 }, architecture: { edges } }, 't.yaml').architecture.edges).toBe(edges);
    expect(parseTrainScenario({ ...ok, network: regnn, architecture: { kind: 'regnn' }, training: { steps: 1, samples: 0 } }, 't.yaml').architecture.kind).toBe('regnn');
  });

  it.each([
    // the checks a checkpoint's architecture gets (validateWcgcn and friends), on the architecture the scenario describes
    [{ ...ok, architecture: { mlp1: [7, 32, 32] } }, 't.yaml: invalid training scenario: architecture.mlp1[0] must be 5 ([x_j, e_jk]), got 7'],
    [{ ...ok, architecture: { mlp2: [35, 16, 2] } }, 't.yaml: invalid training scenario: architecture.mlp2 must end in 1 (y_k), got 2'],
    [{ ...ok, network: { model: 'miso', K: 10, Nt: 2 }, architecture: { mlp1: [5, 32, 32] } }, 't.yaml: invalid training scenario: architecture.mlp1[0] must be 12 ([x_j, e_jk]), got 5'],
    [{ ...ok, network: { model: 'miso', K: 10, Nt: 2 }, architecture: { edges: 'sideways' } }, 't.yaml: invalid training scenario: architecture.edges: Invalid option: expected one of "in"|"out"|"both"'],
    [{ ...ok, architecture: { kind: 'pcgnn', hidden: [32] } }, 't.yaml: invalid training scenario: architecture.hidden must be a positive integer, got [32]'],
    [{ ...ok, architecture: { kind: 'ecgnn', hidden: 32 } }, 't.yaml: invalid training scenario: architecture.hidden must list 2 positive widths (one per layer)'],
    [{ ...ok, architecture: { kind: 'ecgnn', layers: 3 } }, 't.yaml: invalid training scenario: architecture.hidden must list 3 positive widths (one per layer)'],
    [{ ...ok, architecture: { kind: 'uwmmse', gcnHidden: 0 } }, 't.yaml: invalid training scenario: architecture.gcnHidden: Too small: expected number to be >0'],
    [{ ...ok, architecture: { kind: 'uwmmse', hidden: 5 } }, 't.yaml: invalid training scenario: architecture.hidden: not a parameter of a uwmmse (it takes layers, gcnHidden)'],
    [{ ...ok, architecture: { kind: 'ecgnn', aggregation: 'max' } }, 't.yaml: invalid training scenario: architecture.aggregation: not a parameter of an ecgnn (it takes layers, hidden, head)'],
    [{ ...ok, network: regnn, architecture: { kind: 'regnn', layers: 1, taps: [1], widths: [1] } }, 't.yaml: invalid training scenario: architecture.taps must include a filter of length >= 2 (taps [1] run no rounds)'],
    // its rounds are sum_l (K_l - 1): one filter of 200001 taps ran 200000, past what a job records
    [{ ...ok, network: regnn, architecture: { kind: 'regnn', layers: 1, taps: [200001], widths: [1] } }, 't.yaml: invalid training scenario: architecture.taps run sum_l (K_l - 1) = 200000 rounds, at most 10000 (as a checkpoint\'s layers)'],
    [{ ...ok, network: regnn, architecture: { kind: 'regnn', layers: 2 } }, 't.yaml: invalid training scenario: architecture.taps must list 2 positive integers (one per layer)'],
    [{ ...ok, architecture: { taps: [3] } }, 't.yaml: invalid training scenario: architecture.taps: not a parameter of a wcgcn (it takes layers, mlp1, mlp2, aggregation, mlp1Output, edges)'],
    // at most MAX_WEIGHTS: the checkpoint must load again (a width of 1e9 failed with "Invalid typed array length" once training started)
    [{ ...ok, architecture: { mlp1: [5, 1e9, 32] } }, 't.yaml: invalid training scenario: architecture: has 38,000,000,625 weights, at most 10,000,000 fit a checkpoint (narrower layers or fewer of them)'],
    // (K^2 + K = 110 inputs: 110·5000 + 5000 + 5000·5000 + 5000 + 5000·10 + 10)
    [{ ...ok, architecture: { kind: 'mlp', hidden: [5000, 5000] } }, 't.yaml: invalid training scenario: architecture: has 25,610,010 weights, at most 10,000,000 fit a checkpoint (narrower layers or fewer of them)'],
    [{ ...ok, name: '..' }, 't.yaml: invalid training scenario: name: expected more than dots ("." and ".." name directories)'],
    // limits and model parameters, as for a scenario's networks
    [{ ...ok, training: { steps: 1e8 } }, 't.yaml: invalid training scenario: training.steps: Too big: expected number to be <=10000000'],
    [{ ...ok, training: { steps: 10, batch: 1e6 } }, 't.yaml: invalid training scenario: training.batch: Too big: expected number to be <=65536'],
    [{ ...ok, network: { model: 'rayleigh-ic', K: 1e9 } }, 't.yaml: invalid training scenario: network.K: Too big: expected number to be <=10000'],
    [{ ...ok, validation: { instances: 1e9 } }, 't.yaml: invalid training scenario: validation.instances: Too big: expected number to be <=100000'],
    [{ ...ok, network: { model: 'rayleigh-ic', K: 10, csiRange: 3 } }, 't.yaml: invalid training scenario: network.csiRange: not a parameter of model rayleigh-ic (it takes snrDb, weighted)'],
    [{ ...ok, network: { model: 'rayleigh-ic', K: 10000 }, training: { steps: 1, samples: 10 } }, 't.yaml: invalid training scenario: training.samples: with validation.instances: 110 instances of 763 MiB of channel matrices are 82 GiB, more than the limit (1 GiB per instance and 4 GiB per network)'],
  ])('rejects %j', (data, message) => {
    expect(() => parseTrainScenario(data, 't.yaml')).toThrow(new UsageError(message));
  });
});
