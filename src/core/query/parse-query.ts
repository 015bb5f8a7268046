/**
 * Parse ChannelFinder query parameters (as a query-string object: one string or a list per key, `+` already
 * decoded to a space) into a ChannelQuery. Follows ChannelFinder 4.7+: values split on `|` `,` `;`, patterns
 * trimmed, a key ending in `!` negates, unknown keys are property names.
 */
import { PvsError } from '../errors.js';
import type { ChannelQuery, NameTerm, PropertyTerm, TagTerm, ValueTest } from './channel-query.js';
import { compileGlob, type Glob } from './glob.js';

/** The query-string object a web framework hands over. */
export type QueryParams = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Paging limits: `defaultSize` when `~size` is absent, `maxSize` above which `~size` is refused. */
export interface QueryLimits {
  readonly defaultSize: number;
  readonly maxSize: number;
}

/** The limits of upstream ChannelFinder: 10 000 results per page. */
export const DEFAULT_LIMITS: QueryLimits = { defaultSize: 10_000, maxSize: 10_000 };

const SPLIT = /[|,;]/;
const COUNT = /^[0-9]+$/;

/** Parse; throws PvsError PVS_QUERY (naming the parameter) when `~size` or `~from` is not a valid count. */
export function parseChannelQuery(params: QueryParams, limits: QueryLimits = DEFAULT_LIMITS): ChannelQuery {
  const names: NameTerm[] = [];
  const tags: TagTerm[] = [];
  const properties = new Map<string, { name: Glob; anyOf: ValueTest[] }>();
  let size = limits.defaultSize;
  let from = 0;
  let searchAfter: string | null = null;
  let trackTotalHits = false;

  for (const [rawKey, raw] of Object.entries(params)) {
    if (raw === undefined) continue;
    const values = typeof raw === 'string' ? [raw] : raw;
    if (values.length === 0) continue;
    let key = rawKey.trim();
    const negated = key.endsWith('!');
    if (negated) key = key.slice(0, -1);
    switch (key) {
      case '~name':
        // `!` is ignored for names, as upstream.
        for (const v of values) names.push({ anyOf: splitPatterns(v).map(compileGlob) });
        break;
      case '~tag':
        for (const v of values) tags.push({ anyOf: splitPatterns(v).map(compileGlob), negated });
        break;
      case '~size':
        size = maxCount('~size', values);
        if (size > limits.maxSize) {
          throw new PvsError('PVS_QUERY', `~size ${size} exceeds the maximum of ${limits.maxSize}`);
        }
        break;
      case '~from':
        from = maxCount('~from', values);
        break;
      case '~search_after':
        searchAfter = values[0] ?? null;
        break;
      case '~track_total_hits':
        trackTotalHits = (values[0] ?? '').trim().toLowerCase() === 'true';
        break;
      default: {
        const term = properties.get(rawKey.trim()) ?? { name: compileGlob(key), anyOf: [] };
        properties.set(rawKey.trim(), term);
        for (const v of values) {
          for (const p of splitPatterns(v)) term.anyOf.push(valueTest(p, negated));
        }
      }
    }
  }
  const props: PropertyTerm[] = [...properties].map(([key, t]) => ({ key, name: t.name, anyOf: t.anyOf }));
  return { names, tags, properties: props, size, from, searchAfter, trackTotalHits };
}

function valueTest(pattern: string, negated: boolean): ValueTest {
  if (negated && pattern === '*') return { kind: 'lacks' };
  return { kind: 'has', value: compileGlob(pattern), negated };
}

// Java's String.split drops trailing empty strings but keeps a lone empty value: emulate it.
function splitPatterns(value: string): string[] {
  const parts = value.split(SPLIT).map((p) => p.trim());
  if (parts.length === 1) return parts;
  while (parts.length > 0 && parts.at(-1) === '') parts.pop();
  return parts;
}

// Upstream takes the largest of repeated values.
function maxCount(param: string, values: readonly string[]): number {
  let max = 0;
  for (const raw of values) {
    const v = raw.trim();
    if (!COUNT.test(v) || !Number.isSafeInteger(Number(v))) {
      throw new PvsError('PVS_QUERY', `${param} must be a non-negative integer, got ${JSON.stringify(raw)}`);
    }
    max = Math.max(max, Number(v));
  }
  return max;
}
