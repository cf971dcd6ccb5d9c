import { describe, expect, it } from 'vitest';
import { parseScenario } from '../coordinator/src/scenario.ts';

const ok = { name: 'x', networks: [{ model: 'rayleigh-ic', K: 5 }], algorithms: ['wmmse-dmp'] };

describe('scenario validation', () => {
  it('fills defaults', () => {
    const s = parseScenario(ok, 's.yaml');
    expect(s.runtime).toEqual({ kind: 'nats', agentsPerProcess: 10, roundDeadlineMs: 5000, missingPolicy: 'skip', registerTimeoutS: 60 });
    expect(s.algorithms).toEqual([{ name: 'wmmse-dmp' }]);
    expect(s.networks[0].instances).toBe(1);
  });

  it.each([
    [{ ...ok, colour: 'red' }, 's.yaml: invalid scenario: (top level): Unrecognized key: "colour"'],
    [{ ...ok, runtime: { kind: 'nats', agentsPerHost: 3 } }, 's.yaml: invalid scenario: runtime: Unrecognized key: "agentsPerHost"'],
    [{ ...ok, networks: [{ model: 'rayleigh-ic', K: 0 }] }, 's.yaml: invalid scenario: networks[0].K: Too small: expected number to be >0'],
    [{ ...ok, networks: [{ model: 'rayleigh-ic', K: -3 }] }, 's.yaml: invalid scenario: networks[0].K: Too small: expected number to be >0'],
    [{ ...ok, networks: [{ model: 'rayleigh-ic', K: '20' }] }, 's.yaml: invalid scenario: networks[0].K: Invalid input: expected number, received string'],
    [{ ...ok, networks: [{ model: 'lte', K: 3 }] }, 's.yaml: invalid scenario: networks[0].model: Invalid option: expected one of "rayleigh-ic"|"d2d"|"miso"|"regnn-adhoc"'],
    [{ ...ok, algorithms: ['wmmse-dmp', { name: 'wmmse', iterations: 0 }] }, 's.yaml: invalid scenario: algorithms[1].iterations: Too small: expected number to be >0'],
    [{ ...ok, algorithms: ['gnn'] }, 's.yaml: invalid scenario: algorithms[0].name: Invalid option: expected one of "wmmse-dmp"|"wcgcn"|"pcgnn"|"regnn"|"wmmse"|"fplinq"|"strongest"|"full"|"random"|"equal"|"mlp"'],
    [{ ...ok, runtime: { kind: 'mpi' } }, 's.yaml: invalid scenario: runtime.kind: Invalid option: expected one of "nats"|"inprocess"'],
    [{ ...ok, networks: [{ model: 'd2d', K: 5, dmin: 70, dmax: 65 }] }, 's.yaml: invalid scenario: networks[0].dmin: dmin must not exceed dmax'],
    [{ name: 'x', algorithms: ['wmmse'] }, 's.yaml: invalid scenario: networks: Invalid input: expected array, received undefined'],
    [{ ...ok, algorithms: [{ name: 'wmmse', networks: ['k9'] }] }, 's.yaml: invalid scenario: algorithms[0].networks[0]: no network named "k9" (networks: rayleigh-ic-k5)'],
    [{ ...ok, faults: { crash: [{ agent: 5, round: 1 }] } }, 's.yaml: invalid scenario: faults.crash[0].agent: agent 5 does not exist in a network of K=5'],
    [{ ...ok, runtime: { kind: 'inprocess' }, faults: { brokerRestart: [{ round: 1 }] } }, 's.yaml: invalid scenario: faults.brokerRestart: brokerRestart needs runtime.kind nats'],
    [{ ...ok, faults: { missingCsi: { select: 'distance' } } }, 's.yaml: invalid scenario: faults.missingCsi.distance: select "distance" needs distance (metres)'],
    [{ ...ok, sweep: { key: 'faults.messageLoss.probability', values: [0, 1.5] } }, 's.yaml (sweep faults.messageLoss.probability = 1.5): invalid scenario: faults.messageLoss.probability: Too big: expected number to be <=1'],
  ])('rejects %j', (data, message) => {
    expect(() => parseScenario(data, 's.yaml')).toThrow(message);
    try {
      parseScenario(data, 's.yaml');
    } catch (e) {
      expect((e as Error).message).toBe(message);
    }
  });
});
