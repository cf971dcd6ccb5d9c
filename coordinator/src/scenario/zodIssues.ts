import type { z } from 'zod';

/** Zod issues as `key.path[0].name: message; ...`, naming the offending key of a file. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const key = i.path.map((p, n) => (typeof p === 'number' ? `[${p}]` : n === 0 ? String(p) : `.${String(p)}`)).join('') || '(top level)';
      return `${key}: ${i.message}`;
    })
    .join('; ');
}
