import { describe, expect, it } from 'vitest';
import { cleanChannel } from '../../../src/adapters/http/cf-serialize.js';
import { Directory } from '../../../src/core/directory/directory.js';
import type { DirectoryEvent } from '../../../src/core/directory/events.js';
import { parseChannelQuery, type QueryParams } from '../../../src/core/query/parse-query.js';
import { alive, info, noInfo, noRec, rec } from './build-events.js';

const A = 'IOCA@host-a';
const B = 'IOCB@host-b';
const LIMITS = { defaultSize: 100_000, maxSize: 100_000 };
const text = (bytes: Uint8Array | undefined): string | undefined => (bytes === undefined ? undefined : new TextDecoder().decode(bytes));
const q = (params: QueryParams = {}): ReturnType<typeof parseChannelQuery> => parseChannelQuery(params, LIMITS);

const api = (name: string, owner: string, props: [string, string][], tags: string[] = []): DirectoryEvent => ({
  kind: 'channel', name, modRevision: 1,
  value: { name, owner, properties: props.map(([n, value]) => ({ name: n, value })), tags },
});
const noApi = (name: string): DirectoryEvent => ({ kind: 'channel', name, value: null, modRevision: 0 });
const propDef = (name: string, owner: string | null): DirectoryEvent =>
  ({ kind: 'propertyDef', name, value: owner === null ? null : { name, owner }, modRevision: 1 });
const tagDef = (name: string, owner: string | null): DirectoryEvent =>
  ({ kind: 'tagDef', name, value: owner === null ? null : { name, owner }, modRevision: 1 });

// Every channel's JSON text, through the cache, must equal the object `get` builds afresh, serialized; and the
// page text must equal the serialized page of `search`.
function expectFresh(d: Directory): void {
  const page = d.search(q());
  const json = d.searchJson(q(), true);
  expect(text(json.json)).toBe(JSON.stringify(page.channels.map(cleanChannel)));
  expect(json.length).toBe(page.channels.length);
  expect(json.lastName).toBe(page.channels.at(-1)?.name ?? null);
  expect(json.total).toBe(page.channels.length);
  // Newest first: with a cache smaller than the page, the last channels rendered are still cached.
  for (const c of [...page.channels].reverse()) expect(text(d.getJson(c.name))).toBe(JSON.stringify(cleanChannel(c)));
}

const ODD = 'SR:"q"\\b\u0001\u2028é😀</x>';

function base(): DirectoryEvent[] {
  return [
    info(A, { iocIP: '10.0.0.1', env: { RSRV_SERVER_PORT: '5064', PVAS_SERVER_PORT: '5075' } }), alive(A),
    rec(A, 'SR:X', { type: 'ai', desc: 'say "hi"\\\n', infos: { archive: 'monitor 1.0', other: 'x' }, aliases: ['AL:X'] }),
    rec(A, 'SR:Y', { type: 'longin' }),
    rec(A, ODD, { type: 'stringin', desc: ODD }),
    info(B, { updatedAt: '2023-01-01T00:00:00.000Z' }), alive(B, false),
    rec(B, 'SR:Y', { type: 'calc' }), rec(B, 'LN:Q', { type: 'bo', infos: { archive: 'scan "1"' } }),
    propDef('user', 'ops'), tagDef('golden', 'ops'), tagDef('odd"tag', 'grp'),
    api('API:ONLY', 'alice', [['user', 'v1'], ['hostName', 'written']], ['golden']),
    api('SR:X', 'bob', [['user', ODD], ['hostName', 'ignored on an IOC channel'], ['undefd', 'hidden']], ['golden', 'odd"tag', 'nodef']),
  ];
}

describe('Directory JSON text', () => {
  it('is the serialized CfChannel for every kind of channel and odd characters', () => {
    const d = new Directory();
    d.apply(base(), 1);
    expectFresh(d);
    // Spot-check the shape itself: field order and nested empty channels.
    expect(text(d.getJson('LN:Q'))).toMatch(/^\{"name":"LN:Q","owner":"pvsync","properties":\[\{"name":"hostName","owner":"pvsync","value":"host-b","channels":\[\]\},/);
    expect(d.getJson('nosuch')).toBeUndefined();
  });

  // Each step changes one thing a rendered channel depends on; the cache is filled before every step, so a text
  // kept after its inputs changed would be served and caught by expectFresh.
  const steps: [string, DirectoryEvent[]][] = [
    ['IOC comes alive (pvStatus of all its channels)', [alive(B)]],
    ['IOC dies', [alive(A, false)]],
    ['info updatedAt changes (time, and the winner of a shared name)', [info(B, { updatedAt: '2025-01-01T00:00:00.000Z' })]],
    ['info changes host and ports', [info(A, { hostName: 'moved', env: { RSRV_SERVER_PORT: '6064' } })]],
    ['info deleted', [noInfo(B)]],
    ['record changes type, desc and infos', [rec(A, 'SR:X', { type: 'ao', desc: 'new', infos: { archive: 'scan' }, aliases: ['AL:X'] })]],
    ['record marked gone', [rec(A, 'SR:Y', { type: 'longin', gone: true })]],
    ['alias dropped', [rec(A, 'SR:X', { type: 'ao', aliases: [] })]],
    ['record deleted (shared name falls to the other IOC)', [noRec(A, 'SR:Y')]],
    ['user properties and tags change', [api('SR:X', 'bob', [['user', 'v2']], ['odd"tag'])]],
    ['channel owner changes', [api('API:ONLY', 'carol', [['user', 'v1']], ['golden'])]],
    ['property definition owner changes', [propDef('user', 'ops2')]],
    ['managed property definition sets its owner', [propDef('hostName', 'admins')]],
    ['property definition deleted hides its values', [propDef('user', null)]],
    ['undefined property becomes defined', [propDef('undefd', 'x')]],
    ['tag definition deleted hides it', [tagDef('golden', null)]],
    ['tag definition owner changes', [tagDef('odd"tag', 'grp2')]],
    ['API part of an IOC channel removed', [noApi('SR:X')]],
    ['API-only channel deleted', [noApi('API:ONLY')]],
    ['record re-added', [rec(A, 'SR:Y', { type: 'mbbi', desc: 'back' })]],
  ];

  it.each([['with', undefined], ['without', 0]])('never serves a channel rendered before its inputs changed (%s the cache)', (_, bytes) => {
    const d = new Directory(bytes === undefined ? {} : { jsonCacheBytes: bytes });
    d.apply(base(), 1);
    expectFresh(d);
    let rev = 2;
    for (const [what, events] of steps) {
      expectFresh(d); // fills the cache
      d.apply(events, rev++);
      expect(() => expectFresh(d), what).not.toThrow();
    }
    if (bytes === undefined) expect(d.jsonCacheStats().hits).toBeGreaterThan(0);
    d.clear();
    d.apply(base(), rev);
    expectFresh(d);
    expect(d.jsonCacheStats().entries).toBeLessThanOrEqual(d.size);
  });

  it('stays exact under random changes, with a cache too small for everything (eviction)', () => {
    let seed = 42;
    const rnd = (n: number): number => { // mulberry32
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (((t ^ (t >>> 14)) >>> 0) / 2 ** 32 * n) | 0;
    };
    const iocs = ['I1@h1', 'I2@h2', 'I3@h3'];
    const names = Array.from({ length: 30 }, (_, i) => `CH:${i % 7}:${i}`);
    const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)] as T;
    const d = new Directory({ jsonCacheBytes: 6000 });
    const events = (): DirectoryEvent[] => {
      switch (rnd(8)) {
        case 0: return [alive(pick(iocs), rnd(2) === 0)];
        case 1: return [info(pick(iocs), { updatedAt: new Date(1.7e12 + rnd(5) * 1000).toISOString(), iocIP: `10.0.0.${rnd(3)}` })];
        case 2: return [rnd(4) === 0 ? noRec(pick(iocs), pick(names))
          : rec(pick(iocs), pick(names), { type: pick(['ai', 'bo']), desc: `d${rnd(3)}`, ...(rnd(5) === 0 ? { gone: true as const } : {}),
            aliases: rnd(3) === 0 ? [pick(names)] : [], infos: rnd(2) === 0 ? { archive: `m${rnd(2)}` } : {} })];
        case 3: return [rnd(4) === 0 ? noApi(pick(names))
          : api(pick(names), pick(['u1', 'u2']), [[pick(['p', 'q', 'iocName']), `v${rnd(3)}`]], [pick(['t', 's'])])];
        case 4: return [propDef(pick(['p', 'q', 'hostName']), rnd(3) === 0 ? null : pick(['o1', 'o2']))];
        case 5: return [tagDef(pick(['t', 's']), rnd(3) === 0 ? null : pick(['o1', 'o2']))];
        case 6: return [noInfo(pick(iocs))];
        default: return [];
      }
    };
    d.apply(iocs.flatMap((i) => [info(i), alive(i)]), 1);
    // The same query objects on every round (as the HTTP layer reuses a repeated query string's parse).
    const reused: QueryParams[] = [{ '~name': 'ch:1*' }, { '~tag': 't' }, { '~name': '*:2*', 'p': '*' }, {}];
    const shared = reused.map((params) => q(params));
    let evicted = false;
    for (let r = 2; r < 600; r++) {
      d.apply(events(), r);
      expectFresh(d);
      reused.forEach((params, i) => {
        const fresh = d.search(q(params)).channels.map(cleanChannel);
        expect(text(d.searchJson(shared[i] as ReturnType<typeof q>).json)).toBe(JSON.stringify(fresh));
      });
      evicted ||= d.jsonCacheStats().entries < d.size;
    }
    expect(evicted).toBe(true);
    const stats = d.jsonCacheStats();
    expect(stats.hits).toBeGreaterThan(0);
    expect(stats.bytes).toBeLessThanOrEqual(6000);
  });

  it('works with the cache disabled', () => {
    const d = new Directory({ jsonCacheBytes: 0 });
    d.apply(base(), 1);
    expectFresh(d);
    expect(d.jsonCacheStats()).toMatchObject({ entries: 0, hits: 0 });
  });

  it('pages as search does (size, from, search_after)', () => {
    const d = new Directory();
    d.apply(base(), 1);
    for (const params of [{ '~size': '2' }, { '~size': '2', '~from': '1' }, { '~search_after': 'LN:Q' }, { '~name': 'nomatch' }]) {
      const page = d.search(q(params));
      expect(text(d.searchJson(q(params)).json)).toBe(JSON.stringify(page.channels.map(cleanChannel)));
    }
  });
});
