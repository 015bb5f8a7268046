import { describe, expect, it } from 'vitest';
import { isPvsError } from '../../../src/core/errors.js';
import { parseChannelQuery, type QueryParams } from '../../../src/core/query/parse-query.js';

const patterns = (globs: readonly { pattern: string }[]): string[] => globs.map((g) => g.pattern);

describe('parseChannelQuery', () => {
  it('gives defaults for no parameters', () => {
    const q = parseChannelQuery({}, { defaultSize: 10_000, maxSize: 50_000 });
    expect(q).toMatchObject({ names: [], tags: [], properties: [], size: 10_000, from: 0, searchAfter: null,
      trackTotalHits: false });
  });

  it('splits one value on | , ; into OR alternatives and trims them', () => {
    const q = parseChannelQuery({ '~name': 'a* | b*,c;d' });
    expect(q.names.map((t) => patterns(t.anyOf))).toEqual([['a*', 'b*', 'c', 'd']]);
  });

  it('makes repeated ~name and ~tag separate (AND) terms', () => {
    const q = parseChannelQuery({ '~name': ['a*', '*b'], '~tag': ['x|y', 'z'] });
    expect(q.names.map((t) => patterns(t.anyOf))).toEqual([['a*'], ['*b']]);
    expect(q.tags.map((t) => [patterns(t.anyOf), t.negated])).toEqual([[['x', 'y'], false], [['z'], false]]);
  });

  it('ignores ! on ~name and negates ~tag', () => {
    const q = parseChannelQuery({ '~name!': 'a*', '~tag!': 'old' });
    expect(q.names.map((t) => patterns(t.anyOf))).toEqual([['a*']]);
    expect(q.tags[0]?.negated).toBe(true);
  });

  it('merges repeated values of one property key into one OR term; different keys stay separate', () => {
    const q = parseChannelQuery({ hostName: ['h1', 'h2|h3'], 'pvStatus!': 'Active', iocName: 'x' });
    expect(q.properties.map((t) => [t.key, t.name.pattern, t.anyOf.map((a) =>
      a.kind === 'has' ? `${a.negated ? '!' : ''}${a.value.pattern}` : 'lacks')])).toEqual([
      ['hostName', 'hostName', ['h1', 'h2', 'h3']],
      ['pvStatus!', 'pvStatus', ['!Active']],
      ['iocName', 'iocName', ['x']],
    ]);
  });

  it('reads prop!=* as "lacks the property"', () => {
    const q = parseChannelQuery({ 'archive!': '*' });
    expect(q.properties[0]?.anyOf).toEqual([{ kind: 'lacks' }]);
  });

  it('follows Java split: trailing empty alternatives vanish, a lone empty value stays', () => {
    expect(parseChannelQuery({ '~name': 'a,' }).names[0]?.anyOf.length).toBe(1);
    expect(patterns(parseChannelQuery({ '~name': '' }).names[0]?.anyOf ?? [])).toEqual(['']);
    expect(parseChannelQuery({ '~name': ',' }).names[0]?.anyOf).toEqual([]);
  });

  it('reads paging parameters, taking the largest of repeated counts', () => {
    const q = parseChannelQuery({ '~size': ['5', '20'], '~from': '3', '~search_after': ['b', 'c'],
      '~track_total_hits': 'TRUE' });
    expect([q.size, q.from, q.searchAfter, q.trackTotalHits]).toEqual([20, 3, 'b', true]);
  });

  it.each<[QueryParams, RegExp]>([
    [{ '~size': 'ten' }, /~size must be a non-negative integer, got "ten"/],
    [{ '~size': '-1' }, /~size must be a non-negative integer/],
    [{ '~size': '1.5' }, /~size/],
    [{ '~size': '' }, /~size/],
    [{ '~from': 'x' }, /~from must be a non-negative integer/],
    [{ '~from': '99999999999999999999' }, /~from/],
    [{ '~size': '100001' }, /~size 100001 exceeds the maximum of 100000/],
  ])('refuses %j', (params, message) => {
    let err: unknown;
    try {
      parseChannelQuery(params, { defaultSize: 10, maxSize: 100_000 });
    } catch (e) {
      err = e;
    }
    expect(isPvsError(err, 'PVS_QUERY')).toBe(true);
    expect((err as Error).message).toMatch(message);
  });

  it('treats unknown ~keys like upstream: as property names', () => {
    const q = parseChannelQuery({ '~bogus': 'x' });
    expect(q.properties.map((t) => t.name.pattern)).toEqual(['~bogus']);
  });
});
