import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/adapters/http/app.js';
import type { WriteDeps } from '../../../src/adapters/http/write-executor.js';
import { decodeChange } from '../../../src/core/directory/decode.js';
import { Directory } from '../../../src/core/directory/directory.js';
import type { DirectoryEvent } from '../../../src/core/directory/events.js';
import { Keyspace } from '../../../src/core/keyspace.js';
import type { CfChannel } from '../../../src/core/model.js';

const R = '/ChannelFinder/resources';
const ADMIN = 'Basic ' + Buffer.from('admin:pw').toString('base64');

// The write routes over an in-memory "etcd": every commit is applied to the directory at once.
function harness(): { app: ReturnType<typeof buildApp>; stored: Map<string, string> } {
  const keys = new Keyspace('/t/');
  const d = new Directory({ owner: 'cf' });
  const stored = new Map<string, string>();
  let revision = 1;
  d.apply([], revision);
  const writes: WriteDeps = {
    keys,
    commit: (ops) => {
      revision++;
      const events: DirectoryEvent[] = [];
      for (const op of ops) {
        if (op.value === null) stored.delete(op.key);
        else stored.set(op.key, op.value);
        const r = decodeChange(keys, op.key, op.value, revision);
        if (r.ok) events.push(r.event);
      }
      d.apply(events, revision);
      return Promise.resolve({ revision, conflict: false });
    },
    waitFor: () => Promise.resolve(true),
    authenticate: (h) => Promise.resolve(h === ADMIN ? { name: 'admin', roles: new Set(['ADMIN']), groups: new Set<string>() } : null),
  };
  const app = buildApp({
    directory: d, registry: new Registry(), health: () => ({ ok: true, etcd: { connected: true }, revision }),
    serviceInfo: { version: '0.1.0', backend: () => ({ status: 'Connected', clusterName: 'etcd', version: '3.4.23' }) },
    writes,
  });
  return { app, stored };
}

describe('write bodies: JSON numbers and booleans where ChannelFinder expects strings', () => {
  let h: ReturnType<typeof harness>;
  beforeEach(() => { h = harness(); });
  afterEach(async () => { await h.app.close(); });

  const send = (method: 'PUT' | 'POST' | 'DELETE', url: string, body: unknown) =>
    h.app.inject({ method, url, headers: { authorization: ADMIN, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  const get = async (name: string): Promise<CfChannel> => {
    const r = await h.app.inject({ method: 'GET', url: `${R}/channels/${encodeURIComponent(name)}` });
    expect(r.statusCode, r.body).toBe(200);
    return r.json<CfChannel>();
  };

  it('stores a numeric property value as its text (pyCFClient CFUpdateIOC sends time as a number)', async () => {
    expect((await send('PUT', `${R}/properties/time`, { name: 'time', owner: 'admin' })).statusCode).toBe(200);
    const r = await send('PUT', `${R}/channels/SR:1`, {
      name: 'SR:1', owner: 'admin', properties: [{ name: 'time', owner: 'admin', value: 1700000000.125 }], tags: [],
    });
    expect(r.statusCode, r.body).toBe(200);
    const c = await get('SR:1');
    expect(c.properties).toEqual([{ name: 'time', owner: 'admin', value: '1700000000.125', channels: [] }]);
    expect(JSON.parse(h.stored.get('/t/channels/SR:1') ?? '{}')).toMatchObject({ properties: [{ name: 'time', value: '1700000000.125' }] });
  });

  const table: [what: string, value: unknown, text: string][] = [
    ['a float', 12.5, '12.5'], ['an integer', 42, '42'], ['zero', 0, '0'], ['a negative number', -3, '-3'],
    ['true', true, 'true'], ['false', false, 'false'], ['a large number', 1e21, '1e+21'], ['a string', 'x', 'x'],
  ];
  it.each(table)('property value %s → %j', async (_what, value, text) => {
    await send('PUT', `${R}/properties/p`, { name: 'p', owner: 'admin' });
    await send('PUT', `${R}/channels/CH`, { name: 'CH', owner: 'admin' });
    const r = await send('PUT', `${R}/properties/p/CH`, { name: 'p', owner: 'admin', value });
    expect(r.statusCode, r.body).toBe(200);
    expect((await get('CH')).properties.find((p) => p.name === 'p')?.value).toBe(text);
  });

  it('accepts numbers and booleans for names and owners of channels, properties and tags', async () => {
    expect((await send('PUT', `${R}/properties/7`, { name: 7, owner: 'admin' })).statusCode).toBe(200);
    expect((await send('PUT', `${R}/tags/true`, { name: true, owner: 'admin' })).statusCode).toBe(200);
    const r = await send('PUT', `${R}/channels`, [{
      name: 101, owner: 'admin', properties: [{ name: 7, owner: 'x', value: false }], tags: [{ name: true, owner: 5 }],
    }]);
    expect(r.statusCode, r.body).toBe(200);
    const c = await get('101');
    expect(c.properties).toEqual([{ name: '7', owner: 'admin', value: 'false', channels: [] }]);
    expect(c.tags).toEqual([{ name: 'true', owner: 'admin', channels: [] }]);
    expect((await send('POST', `${R}/channels/101`, { name: 101, owner: 'admin', properties: [{ name: 7, value: 2.5 }] })).statusCode).toBe(200);
    expect((await get('101')).properties[0]?.value).toBe('2.5');
    expect((await send('DELETE', `${R}/channels`, [101])).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'GET', url: `${R}/channels/101` })).statusCode).toBe(404);
  });

  it.each([
    ['null value', { name: 'p', owner: 'admin', value: null }, 'carry a non-empty value'],
    ['object value', { name: 'p', owner: 'admin', value: { x: 1 } }, 'invalid property'],
    ['array value', { name: 'p', owner: 'admin', value: [1] }, 'invalid property'],
    ['empty string value', { name: 'p', owner: 'admin', value: '' }, 'carry a non-empty value'],
  ])('still refuses a %s with 400', async (_what, body, message) => {
    await send('PUT', `${R}/properties/p`, { name: 'p', owner: 'admin' });
    await send('PUT', `${R}/channels/CH`, { name: 'CH', owner: 'admin' });
    const r = await send('PUT', `${R}/properties/p/CH`, body);
    expect(r.statusCode, r.body).toBe(400);
    expect(r.json<{ message: string }>().message).toContain(message);
  });

  it('still refuses an object or array where a name belongs', async () => {
    const r1 = await send('PUT', `${R}/channels/X`, { name: { a: 1 }, owner: 'admin' });
    expect(r1.statusCode).toBe(400);
    expect(r1.json<{ message: string }>().message).toMatch(/^invalid channel: name: /);
    const r2 = await send('PUT', `${R}/tags/t`, { name: 't', owner: ['admin'] });
    expect(r2.statusCode).toBe(400);
    expect(r2.json<{ message: string }>().message).toMatch(/^invalid tag: owner: /);
  });
});

describe('write bodies: a JSON number is stored as the text the client sent', () => {
  let h: ReturnType<typeof harness>;
  beforeEach(() => { h = harness(); });
  afterEach(async () => { await h.app.close(); });

  const raw = (method: 'PUT' | 'POST', url: string, payload: string) =>
    h.app.inject({ method, url, headers: { authorization: ADMIN, 'content-type': 'application/json' }, payload });
  const valueOf = async (name: string, prop: string): Promise<string | null | undefined> =>
    (await h.app.inject({ method: 'GET', url: `${R}/channels/${name}` })).json<CfChannel>().properties.find((p) => p.name === prop)?.value;

  it.each(['1.50', '1e-05', '1733050000.123000', '-0', '12345678901234567890', '2E+3', '0.1000'])('%s stays as written', async (text) => {
    await raw('PUT', `${R}/properties/p`, '{"name":"p","owner":"admin"}');
    const r = await raw('PUT', `${R}/channels/CH`, `{"name":"CH","owner":"admin","properties":[{"name":"p","owner":"admin","value": ${text} }]}`);
    expect(r.statusCode, r.body).toBe(200);
    expect(await valueOf('CH', 'p')).toBe(text);
    expect(h.stored.get('/t/channels/CH')).toContain(`"value":"${text}"`);
  });

  it('keeps numbers as written in lists, merges, single-property writes, names and deletes', async () => {
    expect((await raw('PUT', `${R}/properties`, '[{"name":"p","owner":"admin"},{"name":"time","owner":"admin"}]')).statusCode).toBe(200);
    const put = await raw('PUT', `${R}/channels`, '[{"name":1.0,"owner":"admin","properties":[{"name":"time","owner":"admin","value":1733050000.123000}]}]');
    expect(put.statusCode, put.body).toBe(200);
    expect(await valueOf('1.0', 'time')).toBe('1733050000.123000');
    const post = await raw('POST', `${R}/channels/1.0`, '{"name":"1.0","owner":"admin","properties":[{"name":"p","owner":"admin","value":5.10}]}');
    expect(post.statusCode, post.body).toBe(200);
    expect(await valueOf('1.0', 'p')).toBe('5.10');
    expect((await raw('PUT', `${R}/properties/p/1.0`, '{"name":"p","owner":"admin","value":1e-05}')).statusCode).toBe(200);
    expect(await valueOf('1.0', 'p')).toBe('1e-05');
    const del = await h.app.inject({ method: 'DELETE', url: `${R}/channels`, headers: { authorization: ADMIN, 'content-type': 'application/json' }, payload: '[1.0]' });
    expect(del.statusCode, del.body).toBe(200);
    expect((await h.app.inject({ method: 'GET', url: `${R}/channels/1.0` })).statusCode).toBe(404);
  });

  it('a string holding a number, or digits in names and escapes, is left alone', async () => {
    await raw('PUT', `${R}/properties/p`, '{"name":"p","owner":"admin"}');
    const r = await raw('PUT', `${R}/channels/SR:1.50`, '{"name":"SR:1.50","owner":"admin","properties":[{"name":"p","owner":"admin","value":"2.50\\"3"}]}');
    expect(r.statusCode, r.body).toBe(200);
    expect(await valueOf('SR:1.50', 'p')).toBe('2.50"3');
  });

  it.each([
    ['a number with a leading zero', '{"name":"CH","owner":"admin","properties":[{"name":"p","value":01}]}'],
    ['a trailing dot', '{"name":"CH","owner":"admin","properties":[{"name":"p","value":1.}]}'],
    ['a number as a key', '{1:"CH"}'],
    ['a trailing comma', '{"name":"CH","owner":2.50,}'],
    ['a truncated body', '[{"name":"CH","owner":1.5'],
  ])('a malformed body (%s) is 400 with the same message as before', async (_what, payload) => {
    const r = await raw('PUT', `${R}/channels/CH`, payload);
    expect(r.statusCode).toBe(400);
    // the message of fastify's JSON parser, as for any malformed body (positions included: the original text is parsed)
    const plain = await raw('PUT', `${R}/channels/CH`, '{"name":');
    expect(plain.statusCode).toBe(400);
    expect(Object.keys(r.json<object>()).sort()).toEqual(Object.keys(plain.json<object>()).sort());
    expect(r.json<{ message: string }>().message).toBe(plain.json<{ message: string }>().message);
  });
});
