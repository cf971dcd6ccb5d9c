import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { backendOrder, selectBackend, TF_BACKENDS } from '../src/index.ts';

describe('backend selection', () => {
  it('tries the fastest first unless DMPEMU_TF_BACKEND forces one', () => {
    expect(backendOrder({})).toEqual(['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']);
    expect(backendOrder({ DMPEMU_TF_BACKEND: 'cpu' })).toEqual(['cpu']);
    expect(() => backendOrder({ DMPEMU_TF_BACKEND: 'webgl' })).toThrow('DMPEMU_TF_BACKEND must be one of tfjs-node-gpu, tfjs-node, wasm, cpu, got "webgl"');
  });

  it('switches to the first backend that loads and names it', async () => {
    expect(await selectBackend(['cpu'])).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(await selectBackend(['wasm', 'cpu'])).toBe('wasm'); // shipped binaries, no download
    expect(tf.getBackend()).toBe('wasm');
    const best = await selectBackend();
    expect(TF_BACKENDS).toContain(best);
    expect(tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0])).toBe(3);
  });
});
