/**
 * Validation of a configuration document (a parsed file, merged options) against its zod schema: the typed value,
 * or one PVS_CONFIG error naming the source (file) and every failing field (`auth.yml: users.bob.password: …`).
 */
import type { z } from 'zod';
import { PvsError } from './errors.js';

/** `value` checked by `schema`; a PVS_CONFIG error `source: field: problem; field: problem` otherwise. */
export function checkConfig<S extends z.ZodType>(schema: S, value: unknown, source: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const problems = r.error.issues.map((issue) => {
    const field = issue.path.length === 0 ? '(document)' : issue.path.map(String).join('.');
    return `${field}: ${issue.message}`;
  });
  throw new PvsError('PVS_CONFIG', `${source}: ${problems.join('; ')}`);
}
