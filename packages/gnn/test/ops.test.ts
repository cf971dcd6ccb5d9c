import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend, matMul2d, maxOverAxis2, MASKED } from '../src/index.ts';

beforeAll(async () => {
  await ensureBackend();
});

function expectClose(a: tf.Tensor, b: tf.Tensor, tol = 1e-5): void {
  expect(a.shape).toEqual(b.shape);
  const x = a.dataSync(), y = b.dataSync();
  x.forEach((v, i) => expect(Math.abs(v - y[i])).toBeLessThan(tol * (1 + Math.abs(y[i]))));
}

describe('hand-written gradients equal the built-in ones', () => {
  it('matMul2d', () => {
    tf.tidy(() => {
      const a = tf.randomNormal([37, 5], 0, 1, 'float32', 1) as tf.Tensor2D;
      const b = tf.randomNormal([5, 3], 0, 1, 'float32', 2) as tf.Tensor2D;
      const r = tf.randomNormal([37, 3], 0, 1, 'float32', 3);
      const mine = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(matMul2d(x as tf.Tensor2D, y as tf.Tensor2D), r)))([a, b]);
      const ref = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D), r)))([a, b]);
      expectClose(matMul2d(a, b), tf.matMul(a, b));
      expectClose(mine[0], ref[0]);
      expectClose(mine[1], ref[1]);
    });
  });

  it('maxOverAxis2, with masked entries', () => {
    tf.tidy(() => {
      const mask = tf.cast(tf.greater(tf.randomUniform([2, 4, 4, 1], 0, 1, 'float32', 4), 0.4), 'float32');
      const bias = tf.mul(tf.sub(1, mask), MASKED);
      const x = tf.add(tf.randomNormal([2, 4, 4, 3], 0, 1, 'float32', 5), bias) as tf.Tensor4D;
      const r = tf.randomNormal([2, 4, 1, 3], 0, 1, 'float32', 6);
      const mine = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(maxOverAxis2(v as tf.Tensor4D), r)))(x);
      const ref = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.max(v, 2, true), r)))(x);
      expectClose(maxOverAxis2(x), tf.max(x, 2, true));
      expectClose(mine, ref);
    });
  });
});
