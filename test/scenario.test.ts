import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCheckpoints, loadScenario, parseScenario, roundsOf, sweepScenarios } from '../coordinator/src/scenario/scenario.ts';
import { loadTrainScenario } from '../coordinator/src/scenario/trainScenario.ts';
import { UsageError } from '../coordinator/src/scenario/usageError.ts';

const ok = { name: 'x', networks: [{ model: 'rayleigh-ic', K: 5 }], algorithms: ['wmmse-dmp'] };

describe('scenario validation', () => {
  it('fills defaults', () => {
    const s = parseScenario(ok, 's.yaml');
    expect(s.runtime).toEqual({ kind: 'nats', agentsPerProcess: 10, roundDeadlineMs: 5000, missingPolicy: 'skip', registerTimeoutS: 60, clock: 'barrier' });
    expect(s.algorithms).toEqual([{ name: 'wmmse-dmp' }]);
    expect(s.networks[0].instances).toBe(1);
  });

  it.each([
    [{ ...ok, colour: 'red' }, 's.yaml: invalid scenario: (top level): Unrecognized key: "colour"'],
    [{ ...ok, runtime: { kind: 'nats', agentsPerHost: 3 } }, 's.yaml: invalid scenario: runtime: Unrecognized key: "agentsPerHost"'],
    [{ ...ok, networks: [{ model: 'rayleigh-ic', K: 0 }] }, 's.yaml: invalid scenario: networks[0].K: Too small: expected number to be >0'],
    [{ ...ok, networks: [{ model: 'rayleigh-ic', K: -3 }] }, 's.yaml: invalid scenario: networks[0].K: Too small: expected number to be >0'],
    [{ ...ok, networks: [{ model: 'rayleigh-ic', K: '20' }] }, 's.yaml: invalid scenario: networks[0].K: Invalid input: expected number, received string'],
    [{ ...ok, networks: [{ model: 'lte', K: 3 }] }, 's.yaml: invalid scenario: networks[0].model: Invalid option: expected one of "rayleigh-ic"|"d2d"|"miso"|"regnn-adhoc"|"cell-free"'],
    [{ ...ok, algorithms: ['wmmse-dmp', { name: 'wmmse', iterations: 0 }] }, 's.yaml: invalid scenario: algorithms[1].iterations: Too small: expected number to be >0'],
    [{ ...ok, algorithms: ['gnn'] }, 's.yaml: invalid scenario: algorithms[0].name: Invalid option: expected one of "wmmse-dmp"|"wcgcn"|"pcgnn"|"regnn"|"ecgnn"|"uwmmse"|"mpnn"|"wmmse"|"fplinq"|"best-fplinq"|"strongest"|"full"|"random"|"equal"|"mlp"|"cf-pcgnn"|"hetgnn"|"max-power"|"optimal"|"cf-mlp"'],
    [{ ...ok, runtime: { kind: 'mpi' } }, 's.yaml: invalid scenario: runtime.kind: Invalid option: expected one of "nats"|"inprocess"'],
    [{ ...ok, networks: [{ model: 'd2d', K: 5, dmin: 70, dmax: 65 }] }, 's.yaml: invalid scenario: networks[0].dmin: dmin (70 m) exceeds dmax (65 m)'],
    [{ name: 'x', algorithms: ['wmmse'] }, 's.yaml: invalid scenario: networks: Invalid input: expected array, received undefined'],
    [{ ...ok, algorithms: [{ name: 'wmmse', networks: ['k9'] }] }, 's.yaml: invalid scenario: algorithms[0].networks[0]: no network named "k9" (networks: rayleigh-ic-k5)'],
    [{ ...ok, faults: { crash: [{ agent: 5, round: 1 }] } }, 's.yaml: invalid scenario: faults.crash[0].agent: agent 5 does not exist in a network of K=5'],
    [{ ...ok, runtime: { kind: 'inprocess' }, faults: { brokerRestart: [{ round: 1 }] } }, 's.yaml: invalid scenario: faults.brokerRestart: brokerRestart needs runtime.kind nats'],
    [{ ...ok, networks: [{ model: 'd2d', K: 5 }], faults: { missingCsi: { select: 'distance' } } }, 's.yaml: invalid scenario: faults.missingCsi.distance: select "distance" needs distance (metres)'],
    // distance on a network without positions failed after the run began (exit 1); keys the selection does not read were ignored (a sweep over them changed nothing)
    [{ ...ok, faults: { missingCsi: { select: 'distance', distance: 50 } } }, 's.yaml: invalid scenario: faults.missingCsi.select: "distance" needs positions, and networks[0] (rayleigh-ic) has none'],
    [{ ...ok, networks: [{ model: 'd2d', K: 5 }], faults: { missingCsi: { select: 'distance', distance: 50, fraction: 0.5 } } }, 's.yaml: invalid scenario: faults.missingCsi.fraction: not a parameter of select "distance" (it removes every edge longer than distance)'],
    [{ ...ok, faults: { missingCsi: { select: 'weakest', fraction: 0.5, distance: 1 } } }, 's.yaml: invalid scenario: faults.missingCsi.distance: not a parameter of select "weakest" (it removes round(fraction n_k) edges; select "distance" reads distance)'],
    [{ ...ok, faults: { missingCsi: { fraction: 0.5, agents: [] } } }, 's.yaml: invalid scenario: faults.missingCsi.agents: Too small: expected array to have >=1 items'],
    [{ ...ok, runtime: { kind: 'nats', nats: 'mailto:x@y' } }, 's.yaml: invalid scenario: runtime.nats: expected a NATS URL such as nats://127.0.0.1:4222 (nats, tls, ws or wss; a port 0-65535)'],
    [{ ...ok, faults: { csiNoise: { kind: 'log-normal', std: 1e300 } } }, 's.yaml: invalid scenario: faults.csiNoise.std: Too big: expected number to be <=100'],
    [{ ...ok, sweep: { key: 'faults.messageLoss.probability', values: [0, 1.5] } }, 's.yaml (sweep faults.messageLoss.probability = 1.5): invalid scenario: faults.messageLoss.probability: Too big: expected number to be <=1'],
    // limits (what this tool refuses as unreasonable)
    [{ ...ok, networks: [{ model: 'rayleigh-ic', K: 1e9 }] }, 's.yaml: invalid scenario: networks[0].K: Too big: expected number to be <=10000'],
    [{ ...ok, networks: [{ model: 'rayleigh-ic', K: 100000 }] }, 's.yaml: invalid scenario: networks[0].K: Too big: expected number to be <=10000'],
    [{ ...ok, networks: [{ model: 'miso', K: 5, Nt: 1000 }] }, 's.yaml: invalid scenario: networks[0].Nt: Too big: expected number to be <=64'],
    [{ ...ok, networks: [{ model: 'miso', K: 6000, Nt: 2, field: 10000 }] }, 's.yaml: invalid scenario: networks[0].K: K=6000, Nt=2: K^2 (1 + 2 Nt) float64s are 1.34 GiB of channel matrices per instance, more than the limit (1 GiB per instance and 4 GiB per network)'],
    [{ ...ok, networks: [{ model: 'rayleigh-ic', K: 10000, instances: 6 }] }, 's.yaml: invalid scenario: networks[0].instances: 6 instances of 763 MiB of channel matrices are 4.47 GiB, more than the limit (1 GiB per instance and 4 GiB per network)'],
    [{ ...ok, networks: [{ model: 'rayleigh-ic', K: 5, instances: 1e9 }] }, 's.yaml: invalid scenario: networks[0].instances: Too big: expected number to be <=100000'],
    [{ ...ok, algorithms: [{ name: 'wmmse-dmp', iterations: 1e12 }] }, 's.yaml: invalid scenario: algorithms[0].iterations: Too big: expected number to be <=10000'],
    [{ ...ok, algorithms: [{ name: 'wcgcn', checkpoint: 'wcgcn-rayleigh-k10-snr0', rounds: 20000 }] }, 's.yaml: invalid scenario: algorithms[0].rounds: Too big: expected number to be <=10000'],
    // timers Node would clamp to 1 ms
    [{ ...ok, runtime: { roundDeadlineMs: 2 ** 31 } }, 's.yaml: invalid scenario: runtime.roundDeadlineMs: Too big: expected at most 2147482647 ms (Node keeps timers up to 2^31 - 1 ms, and the coordinator waits 1 s longer than the agents)'],
    [{ ...ok, runtime: { registerTimeoutS: 2147484 } }, 's.yaml: invalid scenario: runtime.registerTimeoutS: Too big: expected at most 2147483.647 s (Node keeps timers up to 2^31 - 1 ms)'],
    [{ ...ok, faults: { messageDelay: { maxMs: 1e12 } } }, 's.yaml: invalid scenario: faults.messageDelay.maxMs: Too big: expected at most 2147483647 ms (Node keeps timers up to 2^31 - 1 ms)'],
    // sweep keys that set nothing
    [{ ...ok, sweep: { key: 'networks.K', values: [5, 6] } }, 's.yaml: invalid scenario: sweep.key networks.K: not a numeric key of the scenario (for a network use networks[0].K)'],
    [{ ...ok, sweep: { key: 'algorithms.iterations', values: [5, 6] } }, 's.yaml: invalid scenario: sweep.key algorithms.iterations: not a numeric key of the scenario (for an algorithm use algorithms[0].iterations)'],
    [{ ...ok, sweep: { key: 'faults.foo.bar', values: [1] } }, 's.yaml: invalid scenario: sweep.key faults.foo.bar: not a numeric key of the scenario (e.g. faults.messageLoss.probability, or networks[0].K for a network)'],
    [{ ...ok, sweep: { key: 'networks[3].K', values: [5] } }, 's.yaml: invalid scenario: sweep.key networks[3].K: the scenario has no networks[3]'],
    // runtime keys an in-process run never reads (accepted, and every point gave the same result)
    [{ ...ok, runtime: { kind: 'inprocess' }, sweep: { key: 'runtime.agentsPerProcess', values: [1, 10] } }, 's.yaml: invalid scenario: sweep.key runtime.agentsPerProcess: the scenario runs in process (runtime.kind inprocess), where it changes nothing (it is for agents over NATS)'],
    [{ ...ok, runtime: { kind: 'inprocess' }, sweep: { grid: [{ key: 'networks[0].K', values: [4, 6] }, { key: 'runtime.roundDeadlineMs', values: [100, 200] }] } }, 's.yaml: invalid scenario: sweep.key runtime.roundDeadlineMs: the scenario runs in process (runtime.kind inprocess), where it changes nothing (it is for agents over NATS)'],
    [{ ...ok, sweep: { key: 'networks[0].K', values: [5, 20000] } }, 's.yaml (sweep networks[0].K = 20000): invalid scenario: networks[0].K: Too big: expected number to be <=10000'],
    // faults at rounds no job reaches
    [{ ...ok, faults: { crash: [{ agent: 1, round: 500 }] } }, 's.yaml: invalid scenario: faults.crash[0].round: round 500 is never reached by algorithms[0] (wmmse-dmp-100), which runs 200 rounds (0-199)'],
    [{ ...ok, algorithms: ['wmmse-dmp', { name: 'wcgcn', checkpoint: 'wcgcn-rayleigh-k10-snr0' }], faults: { crash: [{ agent: 1, round: 5 }] } }, 's.yaml: invalid scenario: faults.crash[0].round: round 5 is never reached by algorithms[1] (wcgcn-rayleigh-k10-snr0), which runs 3 rounds (0-2)'],
    [{ ...ok, algorithms: [{ name: 'wcgcn', checkpoint: 'wcgcn-rayleigh-k10-snr0' }], faults: { crash: [{ agent: 1, round: 2, restart: true }] } }, 's.yaml: invalid scenario: faults.crash[0]: agent 1 restarted after round 2 would rejoin at round 3 (the next of round 0\'s phase), but algorithms[0] (wcgcn-rayleigh-k10-snr0) runs 3 rounds (0-2): it would never rejoin'],
    [{ ...ok, algorithms: [{ name: 'wmmse-dmp', iterations: 2 }], faults: { crash: [{ agent: 1, round: 2, restart: true }] } }, 's.yaml: invalid scenario: faults.crash[0]: agent 1 restarted after round 2 would rejoin at round 4 (the next of round 0\'s phase, period 2), but algorithms[0] (wmmse-dmp-2) runs 4 rounds (0-3): it would never rejoin'],
    [{ ...ok, algorithms: [{ name: 'wcgcn', checkpoint: 'wcgcn-rayleigh-k10-snr0' }], faults: { maxMessageBytes: 16 } }, 's.yaml: invalid scenario: faults.maxMessageBytes: algorithms[0] (wcgcn-rayleigh-k10-snr0) broadcasts 3 numbers in round 0: 24 bytes as float64, more than the budget of 16 bytes (faults.messageQuantization brings them under)'],
    [{ ...ok, algorithms: [{ name: 'wcgcn', checkpoint: 'wcgcn-rayleigh-k10-snr0' }], faults: { maxMessageBytes: 10, messageQuantization: { bits: 8 } } }, 's.yaml: invalid scenario: faults.maxMessageBytes: algorithms[0] (wcgcn-rayleigh-k10-snr0) broadcasts 3 numbers in round 0: 11 bytes as 8-bit codes and their range, more than the budget of 10 bytes'],
    [{ ...ok, faults: { brokerRestart: [{ round: 200 }] } }, 's.yaml: invalid scenario: faults.brokerRestart[0].round: round 200 is never reached by algorithms[0] (wmmse-dmp-100), which runs 200 rounds (0-199)'],
    // churn
    [{ ...ok, faults: { churn: [{ agent: 1, leaveRound: 10, joinRound: 10 }] } }, 's.yaml: invalid scenario: faults.churn[0].joinRound: an agent comes back after it left: joinRound 10 must be greater than leaveRound 10'],
    [{ ...ok, faults: { churn: [{ agent: 7, leaveRound: 10 }] } }, 's.yaml: invalid scenario: faults.churn[0].agent: agent 7 does not exist in a network of K=5'],
    [{ ...ok, faults: { churn: [{ agent: 1, leaveRound: 10 }, { agent: 1, leaveRound: 20 }] } }, 's.yaml: invalid scenario: faults.churn[1].agent: agent 1 is listed twice: give each agent one leaveRound (and joinRound)'],
    [{ ...ok, faults: { churn: { rate: 0.1, leaveRound: 10, joinRound: 15 } } }, 's.yaml: invalid scenario: faults.churn.joinRound: an agent comes back with a fresh state, which algorithms[0] (wmmse-dmp-100) can only start in a round of round 0\'s phase (period 2): 15 is not a multiple of 2'],
    [{ ...ok, algorithms: ['wmmse-dmp', { name: 'wcgcn', checkpoint: 'wcgcn-rayleigh-k10-snr0' }], faults: { churn: { rate: 0.5, leaveRound: 3 } } }, 's.yaml: invalid scenario: faults.churn.leaveRound: round 3 is never reached by algorithms[1] (wcgcn-rayleigh-k10-snr0), which runs 3 rounds (0-2)'],
    [{ ...ok, faults: { churn: { rate: 1.5, leaveRound: 3 } } }, 's.yaml: invalid scenario: faults.churn.rate: Too big: expected number to be <=1'],
    [{ ...ok, runtime: { clock: 'async' }, faults: { churn: { rate: 0.1, leaveRound: 3 } } }, 's.yaml: invalid scenario: faults.churn: churn needs rounds: runtime.clock barrier or local, not async'],
    [{ ...ok, algorithms: ['wmmse'], faults: { churn: { rate: 0.1, leaveRound: 3 } } }, 's.yaml: invalid scenario: faults.churn: the scenario has no DMP algorithm, so no job would feel it (centralized algorithms see the true channel and send no messages)'],
    [{ ...ok, algorithms: ['wmmse'], faults: { crash: [{ agent: 1, round: 5 }] } }, 's.yaml: invalid scenario: faults.crash: the scenario has no DMP algorithm, so no job would feel it (centralized algorithms see the true channel and send no messages)'],
    // keys an algorithm does not take
    [{ ...ok, algorithms: [{ name: 'wmmse-dmp', rounds: 5 }] }, 's.yaml: invalid scenario: algorithms[0].rounds: not a parameter of wmmse-dmp (it runs 2 rounds per iteration: give iterations)'],
    [{ ...ok, algorithms: [{ name: 'wmmse', rounds: 5 }] }, 's.yaml: invalid scenario: algorithms[0].rounds: not a parameter of wmmse (rounds are for the learned DMP algorithms wcgcn, pcgnn, regnn, ecgnn, uwmmse, mpnn)'],
    [{ ...ok, algorithms: [{ name: 'wcgcn', checkpoint: 'wcgcn-rayleigh-k10-snr0', iterations: 5 }] }, 's.yaml: invalid scenario: algorithms[0].iterations: not a parameter of wcgcn (iterations are for wmmse-dmp, wmmse, fplinq)'],
    [{ ...ok, algorithms: [{ name: 'strongest', iterations: 5 }] }, 's.yaml: invalid scenario: algorithms[0].iterations: not a parameter of strongest (iterations are for wmmse-dmp, wmmse, fplinq)'],
    [{ ...ok, algorithms: [{ name: 'wmmse', checkpoint: 'wcgcn-rayleigh-k10-snr0' }] }, 's.yaml: invalid scenario: algorithms[0].checkpoint: not a parameter of wmmse (checkpoints are for the learned algorithms wcgcn, pcgnn, regnn, ecgnn, uwmmse, mpnn, mlp, cf-pcgnn, hetgnn, cf-mlp)'],
    // parameters of another model
    [{ ...ok, networks: [{ model: 'rayleigh-ic', K: 5, csiRange: 300 }] }, 's.yaml: invalid scenario: networks[0].csiRange: not a parameter of model rayleigh-ic (it takes snrDb, weighted)'],
    [{ ...ok, networks: [{ model: 'rayleigh-ic', K: 5, dmin: 3 }] }, 's.yaml: invalid scenario: networks[0].dmin: not a parameter of model rayleigh-ic (it takes snrDb, weighted)'],
    [{ ...ok, networks: [{ model: 'd2d', K: 5, Nt: 3 }] }, 's.yaml: invalid scenario: networks[0].Nt: not a parameter of model d2d (it takes field, dmin, dmax, csiRange, weighted, pathLoss, los, txHeight, rxHeight, txPower)'],
    [{ ...ok, networks: [{ model: 'miso', K: 5, txPower: 10 }] }, 's.yaml: invalid scenario: networks[0].txPower: not a parameter of model miso (it takes field, dmin, dmax, csiRange, Nt, weighted)'],
    // the d2d parameters of Tables II-III
    [{ ...ok, networks: [{ model: 'd2d', K: 5, txHeight: 'tall' }] }, 's.yaml: invalid scenario: networks[0].txHeight: expected a number or a range [min, max]'],
    [{ ...ok, networks: [{ model: 'd2d', K: 5, rxHeight: [3, 1] }] }, 's.yaml: invalid scenario: networks[0].rxHeight: expected [min, max] with min <= max'],
    [{ ...ok, networks: [{ model: 'd2d', K: 5, txHeight: [0, 3] }] }, 's.yaml: invalid scenario: networks[0].txHeight[0]: Too small: expected number to be >0'],
    [{ ...ok, networks: [{ model: 'd2d', K: 5, txPower: [10, 30, 40] }] }, 's.yaml: invalid scenario: networks[0].txPower: expected a number or a range [min, max]'],
    [{ ...ok, networks: [{ model: 'd2d', K: 5, txPower: 1000 }] }, 's.yaml: invalid scenario: networks[0].txPower: Too big: expected number to be <=100'],
    [{ ...ok, networks: [{ model: 'd2d', K: 5, los: 'maybe' }] }, 's.yaml: invalid scenario: networks[0].los: Invalid option: expected one of "los"|"nlos"|"mixed"'],
    [{ ...ok, networks: [{ model: 'd2d', K: 5, pathLoss: 'lte', los: 'mixed' }] }, 's.yaml: invalid scenario: networks[0].los: only with pathLoss itu1411 (the lte formula has no line-of-sight choice)'],
    [{ ...ok, networks: [{ model: 'd2d', K: 5, pathLoss: 'cost231' }] }, 's.yaml: invalid scenario: networks[0].pathLoss: Invalid option: expected one of "itu1411"|"lte"'],
    [{ ...ok, networks: [{ model: 'regnn-adhoc', K: 5, weighted: true }] }, 's.yaml: invalid scenario: networks[0].weighted: not a parameter of model regnn-adhoc (it takes noise)'],
    [{ ...ok, networks: [{ model: 'miso', K: 5, snrDb: 3 }] }, 's.yaml: invalid scenario: networks[0].snrDb: not a parameter of model miso (it takes field, dmin, dmax, csiRange, Nt, weighted)'],
    // the normaliser of the summaries
    [{ ...ok, normaliseBy: 'wmmse-30' }, 's.yaml: invalid scenario: normaliseBy: Invalid option: expected one of "wmmse-100"|"best-fplinq"|"optimal"'],
    [{ ...ok, normaliseBy: 'best-fplinq', networks: [{ model: 'd2d', K: 5 }, { model: 'miso', K: 5 }] }, 's.yaml: invalid scenario: normaliseBy: best-fplinq is power control (SISO); networks[1] is miso: use wmmse-100'],
    // two networks of one name
    [{ ...ok, networks: [{ model: 'rayleigh-ic', K: 5 }, { model: 'rayleigh-ic', K: 5, snrDb: 0 }] }, 's.yaml: invalid scenario: networks[1].name: rayleigh-ic-k5 is also the name of networks[0] (names default to <model>-k<K>): give each network its own name'],
    [{ ...ok, networks: [{ name: 'a', model: 'rayleigh-ic', K: 5 }, { name: 'a', model: 'd2d', K: 5 }] }, 's.yaml: invalid scenario: networks[1].name: a is also the name of networks[0] (names default to <model>-k<K>): give each network its own name'],
    // values whose instances eval would refuse, layouts that cannot be drawn
    [{ ...ok, networks: [{ model: 'rayleigh-ic', K: 5, snrDb: 1e308 }] }, 's.yaml: invalid scenario: networks[0].snrDb: Too big: expected number to be <=100'],
    [{ ...ok, networks: [{ model: 'regnn-adhoc', K: 5, noise: 1e-300 }] }, 's.yaml: invalid scenario: networks[0].noise: Too small: expected number to be >=1e-10'],
    [{ ...ok, networks: [{ model: 'd2d', K: 5, field: 1 }] }, 's.yaml: invalid scenario: networks[0].field: the field (1 m) is smaller than dmin (2 m)'],
    [{ ...ok, networks: [{ model: 'miso', K: 5, dmin: 0.1, dmax: 0.5 }] }, 's.yaml: invalid scenario: networks[0].dmax: dmax (0.5 m) is below 1 m, the closest a receiver may be to a transmitter'],
    [{ ...ok, networks: [{ model: 'd2d', K: 200, field: 3, dmin: 1, dmax: 2 }] }, 's.yaml: networks[0] (d2d-k200), instance 0: d2d layout (K=200, field=3, dmin=1, dmax=2): each of 100 layouts had a transmitter closer than 1 m to a receiver (too dense: enlarge the field or lower K)'],
    // algorithms built for every network they run on, before anything starts
    [{ ...ok, algorithms: [{ name: 'mlp', checkpoint: 'mlp-rayleigh-k10-snr10' }] }, 's.yaml: algorithms[0] (mlp-rayleigh-k10-snr10) on network rayleigh-ic-k5: mlp: the checkpoint is an MLP for K = 10 pairs, the instance has K = 5 (an MLP only runs on the K it was trained for)'],
    [{ ...ok, networks: [{ model: 'miso', K: 5 }], algorithms: [{ name: 'wcgcn', checkpoint: 'wcgcn-d2d-k50' }] }, 's.yaml: algorithms[0] (wcgcn-d2d-k50) on network miso-k5: wcgcn: the checkpoint does power control, the network has Nt = 2 antennas (train a beamforming WCGCN)'],
    [{ ...ok, networks: [{ model: 'd2d', K: 20 }], algorithms: [{ name: 'wcgcn', checkpoint: 'wcgcn-miso-k50-nt2' }] }, 's.yaml: algorithms[0] (wcgcn-miso-k50-nt2) on network d2d-k20: wcgcn: the checkpoint does beamforming with Nt = 2, the network has Nt = 1'],
    [{ ...ok, networks: [{ model: 'miso', K: 5, Nt: 4 }], algorithms: [{ name: 'wcgcn', checkpoint: 'wcgcn-miso-k50-nt2' }] }, 's.yaml: algorithms[0] (wcgcn-miso-k50-nt2) on network miso-k5: wcgcn: the checkpoint does beamforming with Nt = 2, the network has Nt = 4'],
    [{ ...ok, networks: [{ model: 'd2d', K: 20 }], algorithms: ['wmmse-dmp', { name: 'pcgnn', checkpoint: 'pcgnn-d2d-k50', rounds: 5 }] }, "s.yaml: algorithms[1] (pcgnn-d2d-k50-r5) on network d2d-k20: pcgnn: rounds must equal the checkpoint's layers (T = 2: its layers do not share weights), got 5"],
    [{ ...ok, networks: [{ model: 'regnn-adhoc', K: 20 }], algorithms: [{ name: 'regnn', checkpoint: 'regnn-adhoc-m20', rounds: 99 }] }, "s.yaml: algorithms[0] (regnn-adhoc-m20-r99) on network regnn-adhoc-k20: regnn: rounds must equal the checkpoint's sum of (K_l - 1) = 16 (one per shift of H), got 99"],
    [{ ...ok, networks: [{ model: 'miso', K: 5 }], algorithms: ['fplinq'] }, 's.yaml: algorithms[0] (fplinq-100) on network miso-k5: runCentralized: fplinq is SISO-only (power control); this miso instance has Nt = 2 transmit antennas: use wmmse, full or equal'],
    [{ ...ok, networks: [{ model: 'miso', K: 5 }], algorithms: ['best-fplinq'] }, 's.yaml: algorithms[0] (best-fplinq) on network miso-k5: runCentralized: best-fplinq is SISO-only (power control); this miso instance has Nt = 2 transmit antennas: use wmmse, full or equal'],
    [{ ...ok, faults: { crash: [{ agent: 1, round: 2 }, { agent: 1, round: 3 }] } }, 's.yaml: invalid scenario: faults.crash[1].agent: agent 1 is listed twice: one crash per agent and job'],
    // a fault no algorithm can feel was listed as injected (centralized algorithms only)
    [{ ...ok, algorithms: ['wmmse', 'fplinq'], faults: { messageLoss: { probability: 0.2 } } }, 's.yaml: invalid scenario: faults.messageLoss: the scenario has no DMP algorithm, so no job would feel it (centralized algorithms see the true channel and send no messages)'],
    // every agent leaving for good gave NaN% and "beats WMMSE-100 after 1 round"
    [{ ...ok, faults: { churn: { rate: 1, leaveRound: 2 } } }, 's.yaml: invalid scenario: faults.churn: every agent of network rayleigh-ic-k5 (K=5) leaves for good: no network remains to evaluate'],
    [{ ...ok, faults: { churn: [0, 1, 2, 3, 4].map((agent) => ({ agent, leaveRound: 1 })) } }, 's.yaml: invalid scenario: faults.churn: every agent of network rayleigh-ic-k5 (K=5) leaves for good: no network remains to evaluate'],
    // sweeps: each point is a run; 27 M grid points (a 5 KB file) ran the coordinator out of memory while checking
    [{ ...ok, sweep: { grid: ['faults.messageLoss.probability', 'faults.missingCsi.fraction', 'networks[0].K'].map((key) => ({ key, values: Array.from({ length: 300 }, (_, i) => i) })) } }, 's.yaml: invalid scenario: sweep: 27000000 points, at most 1000 (each is a run of the scenario)'],
    [{ ...ok, sweep: { key: 'faults.messageLoss.probability', values: [0.2, 0.1, 0.2] } }, 's.yaml: invalid scenario: sweep.values: 0.2 is listed twice (the same point would run again)'],
    // names name files and directories: not "." or ".." (a training named ".." wrote into runs/)
    [{ ...ok, name: '..' }, 's.yaml: invalid scenario: name: expected more than dots ("." and ".." name directories)'],
    [{ ...ok, networks: [{ model: 'rayleigh-ic', K: 5, name: '.' }] }, 's.yaml: invalid scenario: networks[0].name: expected more than dots ("." and ".." name directories)'],
    [{ ...ok, name: 'x'.repeat(101) }, 's.yaml: invalid scenario: name: expected 1-100 letters, digits, ".", "-" or "_"'],
  ])('rejects %j', (data, message) => {
    expect(() => parseScenario(data, 's.yaml')).toThrow(message);
    try {
      parseScenario(data, 's.yaml');
    } catch (e) {
      expect((e as Error).message).toBe(message);
      expect(e).toBeInstanceOf(UsageError);
    }
  });

  it('maxMessageBytes: a broadcast within the budget once quantised is accepted', () => {
    const sc = parseScenario({ ...ok, algorithms: [{ name: 'wcgcn', checkpoint: 'wcgcn-rayleigh-k10-snr0' }], faults: { maxMessageBytes: 11, messageQuantization: { bits: 8 } } }, 's.yaml');
    expect(sc.faults.maxMessageBytes).toBe(11); // 8 bytes of range and 3 codes of 8 bits
  });

  it('a sweep key may index a network or an algorithm, and must change the scenario it runs', () => {
    for (const key of ['networks[0].K', 'networks.0.K']) {
      const sc = parseScenario({ ...ok, sweep: { key, values: [5, 7] } }, 's.yaml');
      expect(sweepScenarios(sc).map((p) => p.scenario.networks[0].K)).toEqual([5, 7]);
    }
    const alg = parseScenario({ ...ok, sweep: { key: 'algorithms[0].iterations', values: [3, 4] } }, 's.yaml');
    expect(sweepScenarios(alg).map((p) => p.scenario.algorithms[0].iterations)).toEqual([3, 4]);
    const loss = parseScenario({ ...ok, sweep: { key: 'faults.messageLoss.probability', values: [0, 0.5] } }, 's.yaml');
    expect(sweepScenarios(loss).map((p) => p.scenario.faults.messageLoss?.probability)).toEqual([0, 0.5]);
  });

  it('every scenario and training scenario under scenarios/ is valid, with the checkpoints it names', () => {
    const dir = new URL('../scenarios/', import.meta.url).pathname;
    const runs = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    const trains = readdirSync(`${dir}train`).filter((f) => f.endsWith('.yaml'));
    expect(runs).toEqual(expect.arrayContaining(['table2-power.yaml', 'table3-channels.yaml']));
    for (const f of runs) expect(loadScenario(`${dir}${f}`).name, f).toBe(f.replace(/\.yaml$/, ''));
    for (const f of trains) expect(loadTrainScenario(`${dir}train/${f}`).name, f).toBe(f.replace(/\.yaml$/, ''));
  });

  it('a REGNN runs sum_l (K_l - 1) rounds, not its layer count', () => {
    const sc = parseScenario({ ...ok, networks: [{ model: 'regnn-adhoc', K: 20 }], algorithms: [{ name: 'regnn', checkpoint: 'regnn-adhoc-m20' }] }, 's.yaml');
    expect(roundsOf(sc.algorithms[0], loadCheckpoints(sc))).toBe(16);
  });
});
