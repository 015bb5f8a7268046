import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/adapters/http/app.js';
import type { DirectoryReader } from '../../../src/adapters/http/directory-reader.js';
import type { HealthReport } from '../../../src/adapters/http/service-routes.js';
import { Directory } from '../../../src/core/directory/directory.js';
import { alive, info, rec } from '../directory/build-events.js';

const A = 'IOCA@host-a';
const ODD = `SR:{dev}<1>:'q"*:${'X'.repeat(150)}`;

function directory(): Directory {
  const d = new Directory({ owner: 'cf' });
  d.apply([
    info(A, { updatedAt: '2024-01-01T00:00:00.000Z', writer: 'w1' }), alive(A),
    rec(A, 'B:2', { type: 'ai', infos: { archive: 'monitor@1' } }),
    rec(A, 'A:1', { type: 'ao', aliases: ['A:1:AL'], desc: 'main setpoint' }),
    rec(A, ODD, { type: 'bi' }),
  ], 42);
  return d;
}

describe('HTTP app', () => {
  let health: HealthReport;
  let registry: Registry;
  let app: ReturnType<typeof buildApp>;

  beforeEach(() => {
    health = { ok: true, etcd: { connected: true }, revision: 42 };
    registry = new Registry();
    app = buildApp({
      directory: directory(), registry, health: () => health,
      serviceInfo: { version: '0.1.0', backend: () => ({ status: 'Connected', clusterName: 'etcd', version: '3.4.23' }) },
      limits: { defaultSize: 10_000, maxSize: 50_000 },
    });
  });
  afterEach(async () => {
    await app.close();
  });

  const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });

  it('answers service info like ChannelFinder', async () => {
    const r = await get('/ChannelFinder');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ name: 'ChannelFinder Service', version: '0.1.0',
      elastic: { status: 'Connected', clusterName: 'etcd', version: '3.4.23' } });
  });

  it('lists channels sorted by name, in exactly the ChannelFinder shape', async () => {
    const r = await get('/ChannelFinder/resources/channels?~name=B*');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.json()).toEqual([{
      name: 'B:2', owner: 'cf', tags: [],
      properties: [
        ['hostName', 'host-a'], ['iocName', 'IOCA'], ['iocid', A], ['pvStatus', 'Active'],
        ['time', '2024-01-01T00:00:00.000Z'], ['recceiverID', 'w1'], ['recordType', 'ai'], ['archive', 'monitor@1'],
      ].map(([name, value]) => ({ name, owner: 'cf', value, channels: [] })),
    }]);
    const all = await get('/ChannelFinder/resources/channels');
    expect(all.json<{ name: string }[]>().map((c) => c.name)).toEqual(['A:1', 'A:1:AL', 'B:2', ODD]);
  });

  it('decodes + as a space and ORs split values', async () => {
    const r = await get('/ChannelFinder/resources/channels?~name=nothing|A:1*&recordDesc=MAIN+setpoint');
    expect(r.json<{ name: string }[]>().map((c) => c.name)).toEqual(['A:1', 'A:1:AL']);
    const both = await get('/ChannelFinder/resources/channels?~name=B*&~name=*2&recordType=ao,ai');
    expect(both.json<{ name: string }[]>().map((c) => c.name)).toEqual(['B:2']);
  });

  it('strips fields the schema does not declare', async () => {
    const d = directory();
    const leaky: DirectoryReader = new Proxy(d, {
      get(target, prop, receiver) {
        if (prop === 'get') {
          return (name: string) => ({ ...target.get(name), extra: 1, properties: target.get(name)?.properties.map((p) => ({ ...p, secret: 'x' })) });
        }
        const v: unknown = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const leakyApp = buildApp({ directory: leaky, registry: new Registry(), health: () => health,
      serviceInfo: { version: 'x', backend: () => ({ status: 'Connected' }) } });
    const r = await leakyApp.inject({ method: 'GET', url: '/ChannelFinder/resources/channels/A:1' });
    const body = r.json<Record<string, unknown> & { properties: Record<string, unknown>[] }>();
    expect(Object.keys(body).sort()).toEqual(['name', 'owner', 'properties', 'tags']);
    expect(Object.keys(body.properties[0] ?? {}).sort()).toEqual(['channels', 'name', 'owner', 'value']);
    await leakyApp.close();
  });

  it('counts as a bare number and combines channels with the true count', async () => {
    const c = await get('/ChannelFinder/resources/channels/count?~name=A*');
    expect([c.statusCode, c.body]).toEqual([200, '2']);
    const all = await get('/ChannelFinder/resources/channels/count');
    expect(all.body).toBe('4');
    const comb = await get('/ChannelFinder/resources/channels/combined?~size=1');
    expect(comb.statusCode).toBe(200);
    const body = comb.json<{ channels: { name: string }[]; count: number }>();
    expect([body.channels.map((ch) => ch.name), body.count]).toEqual([['A:1'], 4]);
  });

  it('gets one channel by exact, case-sensitive name, including odd characters and long names', async () => {
    const ok = await get(`/ChannelFinder/resources/channels/${encodeURIComponent(ODD)}`);
    expect(ok.statusCode).toBe(200);
    expect(ok.json<{ name: string }>().name).toBe(ODD);
    const alias = await get('/ChannelFinder/resources/channels/A:1:AL');
    expect(alias.json<{ properties: { name: string; value: string }[] }>().properties)
      .toContainEqual({ name: 'alias', owner: 'cf', value: 'A:1', channels: [] });
    const miss = await get('/ChannelFinder/resources/channels/a:1');
    expect(miss.statusCode).toBe(404);
    expect(miss.json()).toEqual({ error: 'Not Found', message: 'channel "a:1" does not exist', status: 404,
      path: '/ChannelFinder/resources/channels/a:1' });
  });

  it.each([
    ['~size=abc', /~size must be a non-negative integer, got "abc"/],
    ['~from=-2', /~from must be a non-negative integer/],
    ['~size=50001', /~size 50001 exceeds the maximum of 50000/],
  ])('refuses %s with 400 naming the parameter', async (qs, message) => {
    for (const path of ['channels', 'channels/count', 'channels/combined']) {
      const r = await get(`/ChannelFinder/resources/${path}?${qs}`);
      expect(r.statusCode).toBe(400);
      const body = r.json<{ error: string; message: string; status: number; path: string }>();
      expect(body).toMatchObject({ error: 'Bad Request', status: 400, path: `/ChannelFinder/resources/${path}` });
      expect(body.message).toMatch(message);
    }
  });

  it('tolerates Content-Type: application/json with an empty body on GET', async () => {
    const r = await app.inject({ method: 'GET', url: '/ChannelFinder/resources/channels/count',
      headers: { 'content-type': 'application/json' }, payload: '' });
    expect([r.statusCode, r.body]).toEqual([200, '4']);
  });

  it('lists property definitions and one with or without its channels', async () => {
    const list = await get('/ChannelFinder/resources/properties');
    const defs = list.json<{ name: string; owner: string; value: null; channels: [] }[]>();
    expect(defs).toContainEqual({ name: 'pvStatus', owner: 'cf', value: null, channels: [] });
    expect(defs.map((p) => p.name)).toContain('archive');
    const withCh = await get('/ChannelFinder/resources/properties/archive');
    const p = withCh.json<{ name: string; value: null; channels: { name: string }[] }>();
    expect([p.name, p.value, p.channels.map((c) => c.name)]).toEqual(['archive', null, ['B:2']]);
    const without = await get('/ChannelFinder/resources/properties/archive?withChannels=false');
    expect(without.json()).toEqual({ name: 'archive', owner: 'cf', value: null, channels: [] });
    expect((await get('/ChannelFinder/resources/properties/nosuch')).statusCode).toBe(404);
  });

  it('has no tags yet: empty list, 404 for a name', async () => {
    expect((await get('/ChannelFinder/resources/tags')).json()).toEqual([]);
    const r = await get('/ChannelFinder/resources/tags/x');
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ error: 'Not Found', status: 404 });
  });

  it('scrolls with the last name as id, null at the end', async () => {
    const first = (await get('/ChannelFinder/resources/scroll?~size=3')).json<{ id: string; channels: { name: string }[] }>();
    expect([first.id, first.channels.map((c) => c.name)]).toEqual(['B:2', ['A:1', 'A:1:AL', 'B:2']]);
    const next = (await get('/ChannelFinder/resources/scroll/B:2?~size=3')).json<{ id: string; channels: { name: string }[] }>();
    expect([next.id, next.channels.map((c) => c.name)]).toEqual([ODD, [ODD]]);
    const end = (await get(`/ChannelFinder/resources/scroll/${encodeURIComponent(ODD)}?~size=3`)).json();
    expect(end).toEqual({ id: null, channels: [] });
  });

  it('reports health with 200 when ok, 503 with detail otherwise', async () => {
    const ok = await get('/healthz');
    expect([ok.statusCode, ok.json()]).toEqual([200, { ok: true, etcd: { connected: true }, revision: 42 }]);
    health = { ok: false, etcd: { connected: false, error: 'no quorum' }, revision: 42 };
    const bad = await get('/healthz');
    expect([bad.statusCode, bad.json()]).toEqual([503, health]);
  });

  it('serves Prometheus metrics: requests by route and status, channels and revision', async () => {
    await get('/ChannelFinder/resources/channels');
    await get('/ChannelFinder/resources/channels/nope');
    const r = await get('/metrics');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    expect(r.body).toMatch(/pvsync_http_requests_total\{method="GET",route="\/ChannelFinder\/resources\/channels",status="200"\} 1/);
    expect(r.body).toMatch(/pvsync_http_requests_total\{method="GET",route="\/ChannelFinder\/resources\/channels\/:name",status="404"\} 1/);
    expect(r.body).toMatch(/pvsync_http_request_duration_seconds_bucket\{le="0\.5",method="GET",route="\/ChannelFinder\/resources\/channels"\} 1/);
    expect(r.body).toMatch(/pvsync_directory_channels 4/);
    expect(r.body).toMatch(/pvsync_directory_revision 42/);
    expect(r.body).toMatch(/pvsync_directory_conflicts 0/);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const r = await get('/ChannelFinder/resources/nothing?x=1');
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ error: 'Not Found', status: 404, path: '/ChannelFinder/resources/nothing' });
  });
});

describe('HTTP app: internal errors', () => {
  it('answers 500 without leaking the cause, and logs it', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    const broken = new Directory();
    broken.searchJson = () => {
      throw new Error('secret detail');
    };
    broken.startSearchJson = () => { // what the channel routes call (in steps)
      throw new Error('secret detail');
    };
    const app = buildApp({ directory: broken, registry: new Registry(), logger,
      health: () => ({ ok: true, etcd: null, revision: 0 }),
      serviceInfo: { version: 'x', backend: () => ({ status: 'Connected' }) } });
    const r = await app.inject({ method: 'GET', url: '/ChannelFinder/resources/channels?~name=x' });
    expect(r.statusCode).toBe(500);
    expect(r.json()).toEqual({ error: 'Internal Server Error', message: 'internal error', status: 500,
      path: '/ChannelFinder/resources/channels' });
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; err?: { message: string } });
    expect(logged.find((l) => l.msg === 'request failed')?.err?.message).toBe('secret detail');
    await app.close();
  });
});
