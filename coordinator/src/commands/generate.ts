import { writeFileSync } from 'node:fs';
import { generateInstance, instanceFileToJson, Rng, type GenerateOptions, type ModelName } from '@dmpemu/wireless';

export interface GenerateArgs extends GenerateOptions {
  model: ModelName;
  count: number;
  seed: number;
  out: string;
}

/** `dmpemu generate`: draw `count` instances, instance n from the stream derived from (seed, n). */
export function generate(a: GenerateArgs): string {
  const { model, count, seed, out, ...options } = a;
  const instances = Array.from({ length: count }, (_, n) => generateInstance(model, Rng.derive(seed, n), options));
  const params = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  writeFileSync(out, JSON.stringify(instanceFileToJson({ model, seed, params, instances })));
  return `wrote ${count} ${model} instance(s) with K=${a.K} to ${out}`;
}
