import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

/** TensorFlow.js backends dmpemu trains on, fastest first (architecture.md, "Training"). */
export const TF_BACKENDS = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type TfBackend = (typeof TF_BACKENDS)[number];

/** Native bindings: optional dependencies that register the `tensorflow` backend when they load. */
const NATIVE: Partial<Record<TfBackend, string>> = {
  'tfjs-node-gpu': '@tensorflow/tfjs-node-gpu',
  'tfjs-node': '@tensorflow/tfjs-node',
};

async function tryBackend(b: TfBackend): Promise<boolean> {
  try {
    const pkg = NATIVE[b];
    if (pkg !== undefined) {
      await import(pkg); // throws when the package or its native library is absent
      return await tf.setBackend('tensorflow');
    }
    if (b === 'wasm' && tf.findBackend('wasm') === null) {
      // the .wasm binaries shipped in the package: nothing is downloaded
      setWasmPaths(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')) + '/');
    }
    return await tf.setBackend(b);
  } catch {
    return false;
  }
}

/** The order to try: `DMPEMU_TF_BACKEND=<name>` forces one backend, otherwise fastest first. */
export function backendOrder(env: NodeJS.ProcessEnv = process.env): TfBackend[] {
  const forced = env.DMPEMU_TF_BACKEND;
  if (forced === undefined || forced === '') return [...TF_BACKENDS];
  if (!(TF_BACKENDS as readonly string[]).includes(forced)) throw new Error(`DMPEMU_TF_BACKEND must be one of ${TF_BACKENDS.join(', ')}, got ${JSON.stringify(forced)}`);
  return [forced as TfBackend];
}

/**
 * Switch TensorFlow.js to the first backend of `order` that loads (tfjs-node-gpu, tfjs-node,
 * wasm, cpu by default) and return its name. TF.js keeps its backend per process.
 */
export async function selectBackend(order: readonly TfBackend[] = backendOrder()): Promise<TfBackend> {
  for (const b of order) if (await tryBackend(b)) return b;
  throw new Error(`no TensorFlow.js backend loaded (tried ${order.join(', ')})`);
}

let ready: Promise<TfBackend> | undefined;

/** selectBackend once per process (the default order); later calls return the same backend. */
export function ensureBackend(): Promise<TfBackend> {
  ready ??= selectBackend();
  return ready;
}
