import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/adapters/http/app.js';
import { Directory } from '../../../src/core/directory/directory.js';
import { alive, info, rec } from '../directory/build-events.js';

const A = 'IOCA@host-a';
const LONG = 'A'.repeat(10_000);
// 20 `?*` pairs and a Q: exponential for a backtracking RegExp against a long run of A. The second ends in a star
// (no fixed tail to fail on) and a run of literals that every start position must walk: the matcher's worst case.
const HOSTILE = '?*'.repeat(20) + 'Q';
const WORST = '*' + 'a'.repeat(200) + 'b*';

describe('HTTP app: hostile glob patterns finish', () => {
  let app: ReturnType<typeof buildApp>;

  beforeAll(() => {
    const d = new Directory({ owner: 'cf' });
    d.apply([
      info(A), alive(A),
      rec(A, LONG, { type: 'ai', desc: 'A'.repeat(40), infos: { archive: LONG } }),
      rec(A, 'SR:BPM1', { type: 'ai', desc: 'beam position' }),
      { kind: 'tagDef', name: LONG, value: { name: LONG, owner: 'cf' }, modRevision: 3 },
      { kind: 'channel', name: 'SR:BPM1', value: { name: 'SR:BPM1', owner: 'cf', properties: [], tags: [LONG] }, modRevision: 3 },
    ], 7);
    app = buildApp({
      directory: d, registry: new Registry(), health: () => ({ ok: true, etcd: { connected: true }, revision: 7 }),
      serviceInfo: { version: '0.1.0', backend: () => ({ status: 'Connected', clusterName: 'etcd', version: '3.4.23' }) },
      limits: { defaultSize: 10_000, maxSize: 50_000 },
    });
  });
  afterAll(async () => {
    await app.close();
  });

  const names = async (query: string): Promise<string[]> => {
    const r = await app.inject({ method: 'GET', url: `/ChannelFinder/resources/channels?${query}` });
    expect(r.statusCode).toBe(200);
    return r.json<{ name: string }[]>().map((c) => c.name);
  };

  // One generous bound for all of it: a backtracking matcher would not finish any of these in hours.
  it('in ~name, property values, property names and tags, with the right answers', { timeout: 30_000 }, async () => {
    expect(await names(`~name=${encodeURIComponent(HOSTILE)}`)).toEqual([]);
    expect(await names(`~name=${encodeURIComponent(HOSTILE + '*')}`)).toEqual([]);
    expect(await names(`~name=${encodeURIComponent(WORST)}`)).toEqual([]);
    expect(await names(`archive=${encodeURIComponent(WORST)}`)).toEqual([]);
    expect(await names(`~tag=${encodeURIComponent(WORST)}`)).toEqual([]);
    expect(await names(`~name=${encodeURIComponent('?*'.repeat(20) + 'A')}`)).toEqual([LONG]);
    expect(await names(`recordDesc=${encodeURIComponent('?*'.repeat(20) + 'Q')}`)).toEqual([]);
    expect(await names(`archive=${encodeURIComponent(HOSTILE)}`)).toEqual([]);
    expect(await names(`archive=${encodeURIComponent('*A'.repeat(20))}`)).toEqual([LONG]);
    expect(await names(`${encodeURIComponent(HOSTILE)}=*`)).toEqual([]);
    expect(await names(`~tag=${encodeURIComponent(HOSTILE)}`)).toEqual([]);
    expect(await names(`~tag=${encodeURIComponent('?*'.repeat(20) + 'A')}`)).toEqual(['SR:BPM1']);
    const count = await app.inject({ method: 'GET', url: `/ChannelFinder/resources/channels/count?~name=${encodeURIComponent(HOSTILE)}` });
    expect(count.body).toBe('0');
    // and an ordinary query right after is answered as usual
    expect(await names('~name=sr:*')).toEqual(['SR:BPM1']);
  });
});
