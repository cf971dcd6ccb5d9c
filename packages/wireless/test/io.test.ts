import { describe, expect, it } from 'vitest';
import { generateInstance, InstanceFormatError, instanceFileJsonChunks, instanceFileToJson, parseInstanceFile, Rng, type GenerateOptions, type ModelName } from '../src/index.ts';

const draw = (model: ModelName, o: GenerateOptions, n = 2) => Array.from({ length: n }, (_, i) => generateInstance(model, Rng.derive(3, i), o));

describe('instance files: the JSON form written in pieces, the binary form read', () => {
  it.each([
    ['rayleigh-ic', { K: 4, snrDb: 0, weighted: true }],
    ['d2d', { K: 5, csiRange: 300 }],
    ['d2d', { K: 1 }],
    ['miso', { K: 3, Nt: 2, csiRange: 200 }],
    ['regnn-adhoc', { K: 4, noise: 0.5 }],
  ] as [ModelName, GenerateOptions][])('%s %j: the pieces joined are JSON.stringify of instanceFileToJson, byte for byte', (model, o) => {
    const instances = draw(model, o);
    const file = { model, seed: 3, params: { ...o }, instances };
    expect([...instanceFileJsonChunks({ ...file, instances: instances.values() })].join('')).toBe(JSON.stringify(instanceFileToJson(file)));
    expect([...instanceFileJsonChunks({ model, instances })].join('')).toBe(JSON.stringify(instanceFileToJson({ model, instances }))); // no seed, no params
  });

  it('reads the flat typed arrays of the binary form as the nested arrays of JSON', () => {
    const [inst] = draw('miso', { K: 3, csiRange: 200 }, 1);
    const nested = parseInstanceFile(JSON.parse(JSON.stringify(instanceFileToJson({ model: 'miso', instances: [inst] }))));
    const { model: _m, K: _k, Nt: _n, ...fields } = inst;
    const flat = parseInstanceFile({ model: 'miso', K: 3, Nt: 2, noise: 1, instances: [fields] });
    expect(flat.instances[0]).toEqual(nested.instances[0]);
    expect(flat.instances[0].gain).toBeInstanceOf(Float64Array);
    expect(flat.instances[0].csi).toBeInstanceOf(Uint8Array);
  });

  it.each([
    [{ gain: new Float64Array(3) }, 'instances[0].gain: expected a Float64Array of 4 values, got a Float64Array of length 3'],
    [{ gain: Float64Array.of(1, 2, 3, -4) }, 'instances[0].gain[1][1]: expected a finite number >= 0, got -4'],
    [{ gain: Float64Array.of(1, 2, 3, NaN) }, 'instances[0].gain[1][1]: expected a finite number >= 0, got NaN'],
    [{ gain: Float64Array.of(1, 0, 0, 0) }, "instances[0].gain[1][1]: expected a finite number > 0 (pair k's own link), got 0"],
    [{ gain: Float64Array.of(1, 0, 0, 1), weights: new Float64Array(3) }, 'instances[0].weights: expected a Float64Array of 2 values, got a Float64Array of length 3'],
    [{ gain: Float64Array.of(1, 0, 0, 1), weights: new Float64Array(2) }, 'instances[0].weights: expected at least one weight > 0 (the weighted sum rate of all-0 weights is 0 whatever the powers), got all 0'],
    [{ gain: Float64Array.of(1, 0, 0, 1), csi: Uint8Array.of(0, 1, 2, 0) }, 'instances[0].csi[2]: expected 0 or 1, got 2'],
    [{ gain: Float64Array.of(1, 0, 0, 1), csi: Uint8Array.of(1, 1, 1, 0) }, 'instances[0].csi[0]: expected 0 (no edge from a pair to itself), got 1'],
  ])('names the entry of a bad typed array: %s', (inst, message) => {
    let error: unknown;
    try {
      parseInstanceFile({ K: 2, noise: 1, instances: [inst] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InstanceFormatError);
    expect((error as Error).message).toBe(`instances: ${message}`);
  });
});
