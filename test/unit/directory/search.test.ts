import { describe, expect, it } from 'vitest';
import { Directory } from '../../../src/core/directory/directory.js';
import type { DirectoryEvent } from '../../../src/core/directory/events.js';
import { compareNames } from '../../../src/core/directory/name-order.js';
import { compileGlob } from '../../../src/core/query/glob.js';
import { parseChannelQuery, type QueryParams } from '../../../src/core/query/parse-query.js';
import { alive, info, noRec, rec } from './build-events.js';

const A = 'IOCA@host-a';
const B = 'IOCB@host-b';

// Two IOCs: A alive with archive tags, B dead; names chosen to exercise case, order and special characters.
function sample(): Directory {
  const d = new Directory();
  d.apply([
    info(A, { env: { RSRV_SERVER_PORT: '5064' } }), alive(A),
    rec(A, 'SR:C01:BPM1:X', { type: 'ai', infos: { archive: 'monitor@1' } }),
    rec(A, 'SR:C01:BPM1:Y', { type: 'ai', infos: { archive: 'scan@10' } }),
    rec(A, 'sr:c02:bpm2:x', { type: 'ao', aliases: ['ALIAS:X'] }),
    rec(A, 'SR:C01:VAC{1}<p>', { type: 'longin', desc: 'pressure * gauge' }),
    info(B), rec(B, 'LN:Q1:I', { type: 'ai' }), rec(B, 'LN:Q2:I', { type: 'calc' }),
    rec(B, 'Z*literal', { type: 'stringin' }),
  ], 1);
  return d;
}

const names = (d: Directory, params: QueryParams): string[] =>
  d.search(parseChannelQuery(params, { defaultSize: 10_000, maxSize: 100_000 })).channels.map((c) => c.name);

describe('Directory search', () => {
  const d = sample();
  const all = ['ALIAS:X', 'LN:Q1:I', 'LN:Q2:I', 'SR:C01:BPM1:X', 'SR:C01:BPM1:Y', 'SR:C01:VAC{1}<p>', 'Z*literal',
    'sr:c02:bpm2:x'];

  it.each<[string, QueryParams, string[]]>([
    ['no parameters: everything, byte order', {}, all],
    ['name prefix, case-insensitive', { '~name': 'sr:c0*' }, ['SR:C01:BPM1:X', 'SR:C01:BPM1:Y', 'SR:C01:VAC{1}<p>', 'sr:c02:bpm2:x']],
    ['name OR', { '~name': 'LN:Q1*|ALIAS*' }, ['ALIAS:X', 'LN:Q1:I']],
    ['name AND (repeated)', { '~name': ['SR*', '*:X'] }, ['SR:C01:BPM1:X', 'sr:c02:bpm2:x']],
    ['name ?', { '~name': 'LN:Q?:I' }, ['LN:Q1:I', 'LN:Q2:I']],
    ['name exact, case-insensitive', { '~name': 'ln:q1:i' }, ['LN:Q1:I']],
    ['name with escaped star', { '~name': 'Z\\*lit*' }, ['Z*literal']],
    ['name with braces', { '~name': '*{1}<P>' }, ['SR:C01:VAC{1}<p>']],
    ['~name! ignores the !', { '~name!': 'LN*' }, ['LN:Q1:I', 'LN:Q2:I']],
    ['property exact', { pvStatus: 'Inactive' }, ['LN:Q1:I', 'LN:Q2:I', 'Z*literal']],
    ['property value case-insensitive glob', { recordType: 'A?' }, ['ALIAS:X', 'LN:Q1:I', 'SR:C01:BPM1:X', 'SR:C01:BPM1:Y', 'sr:c02:bpm2:x']],
    ['property OR in one value', { recordType: 'calc|longin' }, ['LN:Q2:I', 'SR:C01:VAC{1}<p>']],
    ['property OR when repeated', { recordType: ['calc', 'longin'] }, ['LN:Q2:I', 'SR:C01:VAC{1}<p>']],
    ['different properties AND', { recordType: 'ai', pvStatus: 'Active' }, ['SR:C01:BPM1:X', 'SR:C01:BPM1:Y']],
    ['property name is a case-insensitive pattern', { 'RECORDT*': 'calc' }, ['LN:Q2:I']],
    ['has the property with any value', { archive: '*' }, ['SR:C01:BPM1:X', 'SR:C01:BPM1:Y']],
    ['negation: has it with another value', { 'archive!': 'scan*' }, ['SR:C01:BPM1:X']],
    ['negation with *: lacks it', { 'archive!': '*' }, ['ALIAS:X', 'LN:Q1:I', 'LN:Q2:I', 'SR:C01:VAC{1}<p>', 'Z*literal', 'sr:c02:bpm2:x']],
    ['pvStatus!=Active', { 'pvStatus!': 'Active' }, ['LN:Q1:I', 'LN:Q2:I', 'Z*literal']],
    ['unknown property: nothing', { nosuch: '*' }, []],
    ['unknown property negated with *: everything', { 'nosuch!': '*' }, all],
    ['alias property', { alias: 'sr:c02*' }, ['ALIAS:X']],
    ['desc with a literal star in the value', { recordDesc: 'pressure \\* gauge' }, ['SR:C01:VAC{1}<p>']],
    ['caPort from env', { caPort: '5064', '~name': 'LN*|SR:C01:BPM1:X' }, ['SR:C01:BPM1:X']],
    ['names and properties together', { '~name': 'SR:*', recordType: 'ai|ao' }, ['SR:C01:BPM1:X', 'SR:C01:BPM1:Y', 'sr:c02:bpm2:x']],
    ['tag: no tags exist yet', { '~tag': '*' }, []],
    ['tag negated: excludes nothing', { '~tag!': 'x', '~name': 'LN*' }, ['LN:Q1:I', 'LN:Q2:I']],
    ['empty ~name matches nothing', { '~name': '' }, []],
  ])('%s', (_label, params, expected) => {
    expect(names(d, params)).toEqual(expected);
  });

  it('pages with ~size and ~from, in name order', () => {
    expect(names(d, { '~size': '3' })).toEqual(all.slice(0, 3));
    expect(names(d, { '~size': '3', '~from': '3' })).toEqual(all.slice(3, 6));
    expect(names(d, { '~size': '3', '~from': '7' })).toEqual(all.slice(7));
    expect(names(d, { '~size': '0' })).toEqual([]);
    expect(names(d, { '~from': '100' })).toEqual([]);
  });

  it('continues after a name with ~search_after (exclusive), then applies ~from', () => {
    expect(names(d, { '~search_after': 'LN:Q2:I', '~size': '2' })).toEqual(['SR:C01:BPM1:X', 'SR:C01:BPM1:Y']);
    expect(names(d, { '~search_after': 'LN:Q', '~size': '2' })).toEqual(['LN:Q1:I', 'LN:Q2:I']);
    expect(names(d, { '~search_after': 'LN:Q2:I', '~size': '1', '~from': '1' })).toEqual(['SR:C01:BPM1:Y']);
    expect(names(d, { '~search_after': 'zzz' })).toEqual([]);
    expect(names(d, { '~search_after': 'SR', '~name': 'LN*|SR:C01:BPM1:Y' })).toEqual(['SR:C01:BPM1:Y']);
  });

  it('counts every match regardless of paging, and can return the total with a page', () => {
    const q = parseChannelQuery({ '~name': 'SR*', '~size': '1', '~from': '1', '~search_after': 'S' });
    expect(d.count(q)).toBe(4);
    const r = d.search(q, true);
    expect(r.channels.map((c) => c.name)).toEqual(['SR:C01:BPM1:Y']);
    expect(r.total).toBe(4);
    expect(d.search(q).total).toBeNull();
    expect(d.count(parseChannelQuery({ nosuch: 'x' }))).toBe(0);
  });
});

describe('Directory search: sorted index against brute force', () => {
  // Random names over an alphabet that mixes cases, digits, separators and non-ASCII (incl. surrogate pairs).
  const alphabet = ['A', 'a', 'B', 'b', 'Z', 'z', '0', '9', ':', '_', '-', '{', '*', 'é', 'É', '\uffef', '😀', '\u0100'];
  let seed = 42;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const word = (len: number): string => Array.from({ length: len }, () => alphabet[rand(alphabet.length)]).join('');

  it('returns exactly the brute-force matches, in code-point order, across incremental changes', () => {
    const d = new Directory();
    const present = new Set<string>();
    for (let round = 0; round < 6; round++) {
      const events = [];
      // Alternate big batches (merge path) and small ones (splice path), with deletions.
      const adds = round % 2 === 0 ? 400 : 5;
      for (let i = 0; i < adds; i++) {
        const n = word(1 + rand(6));
        present.add(n);
        events.push(rec(A, n));
      }
      const dels = [...present].filter(() => rand(7) === 0).slice(0, round % 2 === 0 ? 100 : 3);
      for (const n of dels) {
        present.delete(n);
        events.push({ kind: 'record' as const, iocId: A, name: n, value: null });
      }
      // Some names come back in the same batch (a new slot while the old one is still queued for removal).
      for (const n of dels.filter((_, i) => i % 3 === 0)) {
        present.add(n);
        events.push(rec(A, n));
      }
      d.apply(events, round + 1);
      const sorted = [...present].sort(compareNames);
      expect(names(d, { '~size': '100000' })).toEqual(sorted);
      for (const pattern of ['a*', 'AB*', 'z:*', '{*', 'é*', '😀*', 'a?b*', '*b', 'ab', '\\**', 'A*|b*', 'É*']) {
        const alternatives = pattern.split('|').map(compileGlob);
        const expected = sorted.filter((n) => alternatives.some((x) => x.test(n)));
        expect(names(d, { '~name': pattern, '~size': '100000' }), `pattern ${pattern}`).toEqual(expected);
      }
    }
  });
});

describe('Directory search: IOC-level property filters', () => {
  // 40 IOCs × 10 records (enough that starting from the IOCs beats a scan); IOC3 also serves SHARED:LOST (lost to a
  // later IOC) and SHARED:WON (won over an earlier one).
  const d = new Directory();
  const events: DirectoryEvent[] = [];
  for (let i = 0; i < 40; i++) {
    const id = `IOC${i}@host${i % 4}`;
    events.push(info(id, { updatedAt: `2024-01-01T00:${String(i).padStart(2, '0')}:00Z` }), alive(id));
    for (let j = 0; j < 10; j++) events.push(rec(id, `R${i}:${String(9 - j)}`, { aliases: j === 0 ? [`AL${i}`] : [] }));
  }
  events.push(rec('IOC3@host3', 'SHARED:LOST'), rec('IOC9@host1', 'SHARED:LOST'));
  events.push(rec('IOC3@host3', 'SHARED:WON'), rec('IOC1@host1', 'SHARED:WON'));
  d.apply(events, 1);
  const own = ['AL3', ...Array.from({ length: 10 }, (_, j) => `R3:${j}`), 'SHARED:WON'];

  it.each<[string, QueryParams, string[]]>([
    ['exact IOC name', { iocName: 'ioc3' }, own],
    ['iocid', { iocid: 'IOC3@host3' }, own],
    ['paged', { iocName: 'IOC3', '~size': '3', '~from': '2' }, own.slice(2, 5)],
    ['after a name', { iocName: 'IOC3', '~search_after': 'R3:7' }, ['R3:8', 'R3:9', 'SHARED:WON']],
    ['with another filter', { iocName: 'IOC3', '~name': '*:5|AL*' }, ['AL3', 'R3:5']],
    ['two IOCs by OR', { iocName: 'IOC3|IOC9', '~name': '*D:*' }, ['SHARED:LOST', 'SHARED:WON']],
    ['host glob over several IOCs', { hostName: 'HOST1', '~name': '*L*' },
      ['AL1', 'AL13', 'AL17', 'AL21', 'AL25', 'AL29', 'AL33', 'AL37', 'AL5', 'AL9', 'SHARED:LOST']],
    ['combined with a record-level term', { iocName: 'IOC3', recordType: 'bo' }, []],
  ])('%s', (_label, params, expected) => {
    expect(names(d, params)).toEqual(expected);
    expect(d.count(parseChannelQuery(params))).toBe(
      names(d, { ...params, '~size': '100000', '~from': '0', '~search_after': [] }).length);
  });

  it('follows winner changes: a name lost by the IOC disappears from its results', () => {
    const d2 = new Directory();
    d2.apply(events, 1);
    d2.apply([alive('IOC1@host1', false), info('IOC1@host1', { updatedAt: '2025-01-01T00:00:00Z' }), alive('IOC1@host1')], 2);
    expect(names(d2, { iocName: 'IOC3', '~name': 'S*' })).toEqual([]);
    expect(names(d2, { iocName: 'IOC1', '~name': 'S*' })).toEqual(['SHARED:WON']);
  });

  it('IOC-level filters stay exact when asked again after every kind of change', () => {
    // Large enough that IOC filters start from the IOC's channels (kept per IOC between applies).
    const d3 = new Directory();
    const ids = ['IA@h1', 'IB@h2', 'IC@h1'];
    const evs: DirectoryEvent[] = ids.flatMap((id) => [info(id), alive(id)]);
    for (let j = 0; j < 400; j++) ids.forEach((id, k) => evs.push(rec(id, `N:${(j * 7 + k * 13) % 997}:${k}`)));
    for (let j = 0; j < 20; j++) evs.push(rec('IA@h1', `S:${j}`), rec('IB@h2', `S:${j}`));
    d3.apply(evs, 1);
    const byScan = (iocName: string): string[] => d3.search(parseChannelQuery({}, { defaultSize: 100_000, maxSize: 100_000 }))
      .channels.filter((c) => c.properties.some((p) => p.name === 'iocName' && p.value === iocName)).map((c) => c.name);
    const check = (): void => {
      for (const n of ['IA', 'IB', 'IC']) expect(names(d3, { iocName: n, '~size': '100000' })).toEqual(byScan(n));
      expect(names(d3, { hostName: 'h1', '~size': '100000' })).toEqual([...byScan('IA'), ...byScan('IC')].sort(compareNames));
    };
    check();
    const changes: DirectoryEvent[][] = [
      [alive('IA@h1', false)], // shared names go to IB
      [info('IA@h1', { updatedAt: '2030-01-01T00:00:00.000Z' }), alive('IA@h1')], // and back, newer
      [noRec('IB@h2', 'S:3'), rec('IC@h1', 'S:4'), rec('IC@h1', 'NEW:1')],
      [info('IC@h1', { iocName: 'IA', updatedAt: '2031-01-01T00:00:00.000Z' })], // renamed: IC's channels now answer iocName=IA
      [noRec('IA@h1', 'S:5')],
    ];
    changes.forEach((c, i) => {
      d3.apply(c, i + 2);
      check();
    });
  });
});
