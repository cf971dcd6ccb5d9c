import { generateInstance, Rng, type GenerateOptions, type ModelName } from '@dmpemu/wireless';
import { writeInstanceFile } from '../scenario/instanceFileWrite.ts';
import { GENERATE_FLAGS, generateSchema } from '../scenario/networkSchema.ts';
import { UsageError } from '../scenario/usageError.ts';

export interface GenerateArgs extends GenerateOptions {
  model: ModelName;
  count: number;
  seed: number;
  out: string;
}

/** Issues of generateSchema as `--flag: message; ...` (the schema of a scenario's networks). */
function checkFlags(a: GenerateArgs): void {
  const { count, seed: _s, out: _o, ...rest } = a;
  const r = generateSchema.safeParse({ ...rest, instances: count });
  if (r.success) return;
  throw new UsageError(r.error.issues.map((i) => `${GENERATE_FLAGS[String(i.path[0])] ?? String(i.path[0] ?? '(flags)')}: ${i.message}`).join('; '));
}

/**
 * `dmpemu generate`: draw `count` instances, instance n from the stream derived from (seed, n),
 * and write them one at a time (JSON, or msgpack for a .msgpack file). The flags are checked as
 * a scenario network is before anything is drawn; a layout that cannot be drawn is a UsageError.
 */
export function generate(a: GenerateArgs): string {
  checkFlags(a);
  const { model, count, seed, out, ...options } = a;
  const params = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  function* instances() {
    for (let n = 0; n < count; n++) {
      let inst;
      try {
        inst = generateInstance(model, Rng.derive(seed, n), options);
      } catch (e) {
        throw new UsageError(`instance ${n}: ${(e as Error).message}`);
      }
      yield inst;
    }
  }
  writeInstanceFile(out, { model, seed, params, instances: instances() });
  return `wrote ${count} ${model} instance(s) with K=${a.K} to ${out}`;
}
