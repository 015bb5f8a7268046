import { describe, expect, it } from 'vitest';
import { QueryCache } from '../../../src/adapters/http/query-cache.js';
import { parseChannelQuery } from '../../../src/core/query/parse-query.js';

const LIMITS = { defaultSize: 10, maxSize: 100 };

describe('QueryCache', () => {
  it('parses a query string once and hands back the same parse', () => {
    const cache = new QueryCache();
    let parses = 0;
    const parse = (params: Record<string, string>) => () => {
      parses++;
      return parseChannelQuery(params, LIMITS);
    };
    const a = cache.get('/c?~name=A*', parse({ '~name': 'A*' }));
    expect(cache.get('/c?~name=A*', parse({ '~name': 'A*' }))).toBe(a);
    const b = cache.get('/c?~name=B*', parse({ '~name': 'B*' }));
    expect(b).not.toBe(a);
    expect(b.names[0]?.anyOf[0]?.pattern).toBe('B*');
    expect(parses).toBe(2);
  });

  it('does not keep a failed parse, and bounds what it keeps', () => {
    const cache = new QueryCache();
    const bad = (): never => {
      throw new Error('bad query');
    };
    expect(() => cache.get('/c?~size=x', bad)).toThrow('bad query');
    expect(() => cache.get('/c?~size=x', bad)).toThrow('bad query');
    let parses = 0;
    const parse = () => {
      parses++;
      return parseChannelQuery({}, LIMITS);
    };
    for (let i = 0; i < 2000; i++) cache.get(`/c?n=${i}`, parse);
    cache.get('/c?n=0', parse); // long gone from a bounded cache
    expect(parses).toBe(2001);
  });
});
