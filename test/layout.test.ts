import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const SOURCES = ['coordinator/src', 'agents/src', ...readdirSync(join(ROOT, 'packages')).map((p) => `packages/${p}/src`)];

/** Every .ts file under the sources with the files its relative value imports name (`import type` does not load a module). */
function importGraph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts')) {
        const src = readFileSync(p, 'utf8');
        const deps = [...src.matchAll(/^(?:import|export)\s+(?!type\s)[^;]*?from\s+'(\.[^']+)'/gms)].map((m) => relative(ROOT, resolve(dirname(p), m[1])));
        g.set(relative(ROOT, p), deps);
      }
    }
  };
  for (const s of SOURCES) walk(join(ROOT, s));
  return g;
}

/** Strongly connected components of more than one file (Tarjan). */
function circles(g: Map<string, string[]>): string[][] {
  const index = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], on = new Set<string>(), out: string[][] = [];
  let n = 0;
  const visit = (v: string): void => {
    index.set(v, n), low.set(v, n++), stack.push(v), on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!index.has(w)) visit(w), low.set(v, Math.min(low.get(v)!, low.get(w)!));
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      for (let w = ''; w !== v; ) c.push((w = stack.pop()!)), on.delete(w);
      if (c.length > 1) out.push(c.sort());
    }
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return out;
}

describe('the source layout', () => {
  const g = importGraph();
  it('has no import circles', () => {
    expect(g.size).toBeGreaterThan(100);
    expect(circles(g)).toEqual([]);
    // the check sees a circle where there is one
    expect(circles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual([['a', 'b', 'c']]);
  });

  it('depends one way: packages import neither the agents nor the coordinator, the agents not the coordinator', () => {
    const bad = [...g].flatMap(([f, deps]) => deps.filter((d) => (f.startsWith('packages/') && !d.startsWith('packages/')) || (f.startsWith('agents/') && d.startsWith('coordinator/'))).map((d) => `${f} -> ${d}`));
    expect(bad).toEqual([]);
    const pkgs = [...g.keys()].flatMap((f) => [...readFileSync(join(ROOT, f), 'utf8').matchAll(/from '(@dmpemu\/[a-z]+)'/g)].map((m) => [f.split('/').slice(0, 2).join('/'), m[1]]));
    expect(pkgs.filter(([from, to]) => (from.startsWith('packages/') || from.startsWith('agents/')) && to === '@dmpemu/coordinator')).toEqual([]);
  });
});
