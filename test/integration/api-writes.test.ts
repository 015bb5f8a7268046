/**
 * The ChannelFinder write API against the real etcd cluster: the status matrix (anonymous / user / admin and the
 * other roles × every write endpoint), validation codes, write semantics (replace, merge, rename, exclusive
 * property PUT, strip on DELETE), user additions to IOC channels surviving uploads, big batches, client habits,
 * and the query rules over API-written channels.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyspace } from '../../src/core/keyspace.js';
import type { CfChannel } from '../../src/core/model.js';
import { uniqueRoot } from '../support/cluster.js';
import { basic, startReplica, type Replica } from '../support/api-replica.js';

const R = '/ChannelFinder/resources';
const IOC = 'ioc1@hostA';
const ODD = `SR:{dev}<1>:'q"*:${'X'.repeat(120)}`;

describe('ChannelFinder write API', () => {
  const keys = new Keyspace(uniqueRoot('api-writes'));
  let r: Replica;
  let seq = 0;
  const fresh = (p: string): string => `${p}-${String(++seq).padStart(5, '0')}`;

  const call = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, body?: unknown, who?: string,
    headers: Record<string, string> = {}): Promise<LightMyRequestResponse> =>
    r.app.inject({ method, url, headers: { ...(who === undefined ? {} : { authorization: basic(who) }), ...headers },
      ...(body === undefined ? {} : { payload: body as object }) });
  const ok = async (method: 'PUT' | 'POST' | 'DELETE', url: string, body?: unknown, who = 'admin'): Promise<LightMyRequestResponse> => {
    const res = await call(method, url, body, who);
    expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(200);
    return res;
  };
  const get = async (name: string): Promise<CfChannel | null> => {
    const res = await call('GET', `${R}/channels/${encodeURIComponent(name)}`);
    return res.statusCode === 200 ? res.json<CfChannel>() : null;
  };
  const names = async (query: string): Promise<string[]> =>
    (await call('GET', `${R}/channels?${query}`)).json<CfChannel[]>().map((c) => c.name);
  const prop = (c: CfChannel | null, n: string): string | null | undefined => c?.properties.find((p) => p.name === n)?.value;
  const defProp = (name: string, owner = 'admin'): Promise<LightMyRequestResponse> => ok('PUT', `${R}/properties/${name}`, { name, owner });
  const defTag = (name: string, owner = 'admin'): Promise<LightMyRequestResponse> => ok('PUT', `${R}/tags/${name}`, { name, owner });
  const chan = (name: string, owner = 'admin', properties: { name: string; value: string }[] = [], tags: string[] = []): object =>
    ({ name, owner, properties: properties.map((p) => ({ ...p, owner: 'ignored' })), tags: tags.map((t) => ({ name: t, owner: 'x' })) });

  beforeAll(async () => {
    r = await startReplica(keys);
    // One IOC with two records, as an uploader writes them.
    const now = new Date().toISOString();
    await r.client.put(keys.iocInfo(IOC)).value(JSON.stringify({ schema: 1, iocId: IOC, iocName: 'ioc1', hostName: 'hostA',
      env: {}, uploadId: 'u1', state: 'complete', records: 2, updatedAt: now, writer: 'test' }));
    await r.client.put(keys.iocRecord(IOC, 'IOC:A')).value(JSON.stringify({ name: 'IOC:A', type: 'ai', desc: 'first', infos: {}, aliases: [] }));
    const res = await r.client.put(keys.alive(IOC)).value(JSON.stringify({ uploadId: 'u1', since: now, writer: 'test' }));
    await r.mirror.waitFor(Number(res.header.revision));
    await defProp('owned');
    await defTag('golden');
  });
  afterAll(async () => {
    await r.stop();
  });

  describe('status matrix', () => {
    // Each row prepares its own entities (as admin), then runs the request as each principal.
    interface Row {
      readonly what: string;
      readonly setup: (n: string) => Promise<void>;
      readonly req: (n: string) => [method: 'PUT' | 'POST' | 'DELETE', url: string, body?: unknown];
      readonly expect: Readonly<Record<string, number>>;
    }
    const rows: Row[] = [
      { what: 'PUT /channels/{name} owned by user', setup: async () => undefined,
        req: (n) => ['PUT', `${R}/channels/${n}`, chan(n, 'user')], expect: { anon: 401, user: 200, admin: 200, nobody: 401, tagger: 401, prop: 401 } },
      { what: 'PUT /channels/{name} owned by admin', setup: async () => undefined,
        req: (n) => ['PUT', `${R}/channels/${n}`, chan(n, 'admin')], expect: { anon: 401, user: 401, admin: 200 } },
      { what: 'PUT /channels (list)', setup: async () => undefined,
        req: (n) => ['PUT', `${R}/channels`, [chan(n, 'user')]], expect: { anon: 401, user: 200, admin: 200, tagger: 401 } },
      { what: 'POST /channels/{name} on a channel of admin', setup: async (n) => { await ok('PUT', `${R}/channels/${n}`, chan(n)); },
        req: (n) => ['POST', `${R}/channels/${n}`, chan(n, 'user')], expect: { anon: 401, user: 401, admin: 200 } },
      { what: 'POST /channels/{name} on a channel of user', setup: async (n) => { await ok('PUT', `${R}/channels/${n}`, chan(n, 'user')); },
        req: (n) => ['POST', `${R}/channels/${n}`, chan(n, 'user')], expect: { anon: 401, user: 200, admin: 200, ops: 401 } },
      { what: 'POST /channels (list)', setup: async (n) => { await ok('PUT', `${R}/channels/${n}`, chan(n)); },
        req: (n) => ['POST', `${R}/channels`, [chan(n, 'user')]], expect: { anon: 401, user: 401, admin: 200 } },
      { what: 'DELETE /channels/{name} of admin', setup: async (n) => { await ok('PUT', `${R}/channels/${n}`, chan(n)); },
        req: (n) => ['DELETE', `${R}/channels/${n}`], expect: { anon: 401, user: 401, admin: 200 } },
      { what: 'DELETE /channels/{name} of group operators', setup: async (n) => { await ok('PUT', `${R}/channels/${n}`, chan(n, 'operators')); },
        req: (n) => ['DELETE', `${R}/channels/${n}`], expect: { anon: 401, user: 401, ops: 200, admin: 200 } },
      { what: 'DELETE /channels (list)', setup: async (n) => { await ok('PUT', `${R}/channels/${n}`, chan(n, 'user')); },
        req: (n) => ['DELETE', `${R}/channels`, [n]], expect: { anon: 401, user: 200, admin: 200 } },
      { what: 'DELETE /channels/{missing}', setup: async () => undefined,
        req: (n) => ['DELETE', `${R}/channels/${n}`], expect: { anon: 401, user: 404, admin: 404 } },
      { what: 'PUT /properties/{name} owned by user', setup: async () => undefined,
        req: (n) => ['PUT', `${R}/properties/${n}`, { name: n, owner: 'user' }], expect: { anon: 401, user: 200, prop: 401, tagger: 401, admin: 200 } },
      { what: 'PUT /properties/{name} owned by prop', setup: async () => undefined,
        req: (n) => ['PUT', `${R}/properties/${n}`, { name: n, owner: 'prop' }], expect: { anon: 401, prop: 200, tagger: 401, admin: 200 } },
      { what: 'PUT /properties (list)', setup: async () => undefined,
        req: (n) => ['PUT', `${R}/properties`, [{ name: n, owner: 'user' }]], expect: { anon: 401, user: 200, admin: 200 } },
      { what: 'POST /properties/{name} of admin', setup: async (n) => { await defProp(n); },
        req: (n) => ['POST', `${R}/properties/${n}`, { name: n, owner: 'user' }], expect: { anon: 401, user: 401, admin: 200 } },
      { what: 'POST /properties (list)', setup: async (n) => { await defProp(n, 'user'); },
        req: (n) => ['POST', `${R}/properties`, [{ name: n, owner: 'user' }]], expect: { anon: 401, user: 200, admin: 200 } },
      { what: 'PUT /properties/{name}/{channel}', setup: async (n) => { await defProp(n, 'user'); await ok('PUT', `${R}/channels/c${n}`, chan(`c${n}`)); },
        req: (n) => ['PUT', `${R}/properties/${n}/c${n}`, { name: n, owner: 'user', value: 'v' }], expect: { anon: 401, user: 200, tagger: 401, admin: 200 } },
      { what: 'DELETE /properties/{name} of admin', setup: async (n) => { await defProp(n); },
        req: (n) => ['DELETE', `${R}/properties/${n}`], expect: { anon: 401, user: 401, admin: 200 } },
      { what: 'DELETE /properties/{name}/{channel}', setup: async (n) => { await defProp(n, 'user'); await ok('PUT', `${R}/channels/c${n}`, chan(`c${n}`, 'admin', [{ name: n, value: '1' }])); },
        req: (n) => ['DELETE', `${R}/properties/${n}/c${n}`], expect: { anon: 401, user: 200, admin: 200 } },
      { what: 'PUT /tags/{name}', setup: async () => undefined,
        req: (n) => ['PUT', `${R}/tags/${n}`, { name: n, owner: 'tagger' }], expect: { anon: 401, tagger: 200, user: 401, nobody: 401, admin: 200 } },
      { what: 'PUT /tags (list)', setup: async () => undefined,
        req: (n) => ['PUT', `${R}/tags`, [{ name: n, owner: 'tagger' }]], expect: { anon: 401, tagger: 200, admin: 200 } },
      { what: 'POST /tags/{name} of admin', setup: async (n) => { await defTag(n); },
        req: (n) => ['POST', `${R}/tags/${n}`, { name: n, owner: 'tagger' }], expect: { anon: 401, tagger: 401, admin: 200 } },
      { what: 'POST /tags (list)', setup: async (n) => { await defTag(n, 'tagger'); },
        req: (n) => ['POST', `${R}/tags`, [{ name: n, owner: 'tagger' }]], expect: { anon: 401, tagger: 200, admin: 200 } },
      { what: 'PUT /tags/{name}/{channel} (no body)', setup: async (n) => { await defTag(n, 'tagger'); await ok('PUT', `${R}/channels/c${n}`, chan(`c${n}`)); },
        req: (n) => ['PUT', `${R}/tags/${n}/c${n}`], expect: { anon: 401, tagger: 200, user: 401, prop: 401, nobody: 401, admin: 200 } },
      { what: 'DELETE /tags/{name} of admin', setup: async (n) => { await defTag(n); },
        req: (n) => ['DELETE', `${R}/tags/${n}`], expect: { anon: 401, tagger: 401, admin: 200 } },
      { what: 'DELETE /tags/{name}/{channel}', setup: async (n) => { await defTag(n, 'tagger'); await ok('PUT', `${R}/channels/c${n}`, chan(`c${n}`, 'admin', [], [n])); },
        req: (n) => ['DELETE', `${R}/tags/${n}/c${n}`], expect: { anon: 401, tagger: 200, admin: 200 } },
    ];
    for (const row of rows) {
      it(row.what, async () => {
        for (const [who, status] of Object.entries(row.expect)) {
          const n = fresh('m');
          await row.setup(n);
          const [method, url, body] = row.req(n);
          const res = await call(method, url, body, who === 'anon' ? undefined : who);
          expect(res.statusCode, `${who}: ${res.body}`).toBe(status);
          if (status !== 200) {
            expect(res.json()).toMatchObject({ status, path: url.split('?')[0] });
            if (status === 401) expect(res.headers['www-authenticate']).toMatch(/^Basic/);
          }
        }
      });
    }

    it('refuses a wrong password and a malformed header with 401', async () => {
      const n = fresh('pw');
      expect((await call('PUT', `${R}/channels/${n}`, chan(n), undefined, { authorization: basic('admin', 'nope') })).statusCode).toBe(401);
      expect((await call('PUT', `${R}/channels/${n}`, chan(n), undefined, { authorization: 'Basic !!!' })).statusCode).toBe(401);
      expect((await call('PUT', `${R}/channels/${n}`, chan(n), undefined, { authorization: basic('ghost') })).statusCode).toBe(401);
      expect(await get(n)).toBeNull();
    });

    it('answers reads anonymously', async () => {
      for (const url of [`${R}/channels`, `${R}/properties`, `${R}/tags`, `${R}/channels/count`, '/ChannelFinder']) {
        expect((await call('GET', url)).statusCode).toBe(200);
      }
    });
  });

  describe('validation', () => {
    it('400 for empty names, owners and values; 404 for unknown properties and tags', async () => {
      const n = fresh('v');
      const cases: [unknown, number][] = [
        [{ name: '', owner: 'admin' }, 400],
        [{ name: n, owner: '' }, 400],
        [{ name: n }, 400],
        [chan(n, 'admin', [{ name: 'owned', value: '' }]), 400],
        [chan(n, 'admin', [{ name: 'no-such-prop', value: '1' }]), 404],
        [chan(n, 'admin', [], ['no-such-tag']), 404],
        [[1, 2], 400],
      ];
      for (const [body, status] of cases) {
        const res = await call('PUT', `${R}/channels/${n}`, body, 'admin');
        expect(res.statusCode, JSON.stringify(body)).toBe(status);
        expect(res.json<{ message: string }>().message.length).toBeGreaterThan(5);
      }
      expect((await call('PUT', `${R}/properties/${n}`, { name: n, owner: 'admin', channels: [{ name: 'missing-chan', properties: [{ name: n, value: '1' }] }] }, 'admin')).statusCode).toBe(400);
      expect((await call('PUT', `${R}/tags/${n}`, { name: n, owner: 'admin', channels: [{ name: 'missing-chan' }] }, 'admin')).statusCode).toBe(404);
      expect((await call('PUT', `${R}/properties/owned/missing-chan`, { name: 'owned', value: '1' }, 'admin')).statusCode).toBe(404);
      expect((await call('PUT', `${R}/properties/owned/IOC:A`, { name: 'other', value: '1' }, 'admin')).statusCode).toBe(400);
      expect((await call('PUT', `${R}/properties/owned/IOC:A`, { name: 'owned', value: '' }, 'admin')).statusCode).toBe(400);
      expect((await call('DELETE', `${R}/properties/no-such-prop`, undefined, 'admin')).statusCode).toBe(404);
      expect((await call('DELETE', `${R}/tags/no-such-tag/IOC:A`, undefined, 'admin')).statusCode).toBe(404);
      expect(await get(n)).toBeNull();
    });
  });

  describe('semantics', () => {
    it('PUT replaces the whole channel; nested owners are the definitions owners', async () => {
      const n = fresh('put');
      await defProp('p2', 'user');
      let res = await ok('PUT', `${R}/channels/${n}`, chan(n, 'admin', [{ name: 'owned', value: 'a' }, { name: 'p2', value: 'b' }], ['golden']));
      expect(res.json()).toEqual({ name: n, owner: 'admin', tags: [{ name: 'golden', owner: 'admin', channels: [] }],
        properties: [{ name: 'owned', owner: 'admin', value: 'a', channels: [] }, { name: 'p2', owner: 'user', value: 'b', channels: [] }] });
      res = await ok('PUT', `${R}/channels/${n}`, chan(n, 'user', [{ name: 'p2', value: 'c' }]));
      expect(await get(n)).toEqual({ name: n, owner: 'user', tags: [], properties: [{ name: 'p2', owner: 'user', value: 'c', channels: [] }] });
      expect(res.json()).toEqual(await get(n));
    });

    it('POST merges properties and tags, replaces values, takes the body owner, and renames', async () => {
      const n = fresh('post');
      await ok('PUT', `${R}/channels/${n}`, chan(n, 'admin', [{ name: 'owned', value: 'a' }]));
      await ok('POST', `${R}/channels/${n}`, chan(n, 'user', [{ name: 'owned', value: 'b' }], ['golden']));
      expect(await get(n)).toMatchObject({ owner: 'user', properties: [{ name: 'owned', value: 'b' }], tags: [{ name: 'golden' }] });
      const to = fresh('renamed');
      await ok('POST', `${R}/channels/${n}`, chan(to, 'user'));
      expect(await get(n)).toBeNull();
      expect(await get(to)).toMatchObject({ name: to, owner: 'user', properties: [{ name: 'owned', value: 'b' }], tags: [{ name: 'golden' }] });
      // POST list: merges into existing channels, keeping their owner.
      await ok('POST', `${R}/channels`, [chan(to, 'someone-else', [], [])]);
      expect((await get(to))?.owner).toBe('user');
    });

    it('DELETE with an empty JSON body, and DELETE with a list', async () => {
      const a = fresh('del');
      const b = fresh('del');
      await ok('PUT', `${R}/channels`, [chan(a), chan(b)]);
      const res = await call('DELETE', `${R}/channels/${a}`, undefined, 'admin', { 'content-type': 'application/json' });
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe('');
      await ok('DELETE', `${R}/channels`, [b]);
      expect([await get(a), await get(b)]).toEqual([null, null]);
    });

    it('PUT /properties/{name} puts it exclusively on the payload channels; POST renames; DELETE strips', async () => {
      const p = fresh('prop');
      const [c1, c2, c3] = [fresh('pc'), fresh('pc'), fresh('pc')];
      await defProp(p);
      await ok('PUT', `${R}/channels`, [chan(c1, 'admin', [{ name: p, value: '1' }]), chan(c2, 'admin', [{ name: p, value: '2' }]), chan(c3)]);
      expect(await names(`${p}=*`)).toEqual([c1, c2]);
      const res = await ok('PUT', `${R}/properties/${p}`, { name: p, owner: 'user', channels: [{ name: c3, owner: 'x', properties: [{ name: p, value: '3' }] }] });
      expect(res.json()).toMatchObject({ name: p, owner: 'user', value: null, channels: [{ name: c3 }] });
      expect(await names(`${p}=*`)).toEqual([c3]);
      expect(prop(await get(c3), p)).toBe('3');
      expect((await get(c3))?.properties.find((x) => x.name === p)?.owner).toBe('user');
      const q = fresh('renamedprop');
      await ok('POST', `${R}/properties/${p}`, { name: q, owner: 'user' });
      expect((await call('GET', `${R}/properties/${p}`)).statusCode).toBe(404);
      expect(await names(`${q}=3`)).toEqual([c3]);
      const withChannels = (await call('GET', `${R}/properties/${q}?withChannels=true`)).json<{ channels: CfChannel[] }>();
      expect(withChannels.channels.map((c) => c.name)).toEqual([c3]);
      await ok('PUT', `${R}/properties/${q}/${c1}`, { name: q, value: 'one' });
      expect(await names(`${q}=*`)).toEqual([c1, c3]);
      await ok('DELETE', `${R}/properties/${q}/${c3}`);
      expect(await names(`${q}=*`)).toEqual([c1]);
      await ok('DELETE', `${R}/properties/${q}`);
      expect((await get(c1))?.properties).toEqual([]);
      expect((await call('GET', `${R}/properties`)).json<{ name: string }[]>().map((x) => x.name)).not.toContain(q);
    });

    it('tags: PUT exclusive, single add and remove, DELETE strips from every channel', async () => {
      const t = fresh('tag');
      const [c1, c2] = [fresh('tc'), fresh('tc')];
      await ok('PUT', `${R}/channels`, [chan(c1), chan(c2)]);
      await ok('PUT', `${R}/tags/${t}`, { name: t, owner: 'admin', channels: [{ name: c1 }] });
      expect(await names(`~tag=${t}`)).toEqual([c1]);
      await ok('PUT', `${R}/tags/${t}/${c2}`);
      expect(await names(`~tag=${t}`)).toEqual([c1, c2]);
      await ok('POST', `${R}/tags/${t}`, { name: t, owner: 'tagger', channels: [] });
      expect((await call('GET', `${R}/tags/${t}`)).json()).toMatchObject({ name: t, owner: 'tagger' });
      await ok('DELETE', `${R}/tags/${t}/${c1}`);
      expect(await names(`~tag=${t}`)).toEqual([c2]);
      await ok('DELETE', `${R}/tags/${t}`);
      expect(await names(`~tag=${t}`)).toEqual([]);
      expect((await get(c2))?.tags).toEqual([]);
    });

    it('IOC channels keep managed properties, take user additions, and the additions survive a re-upload', async () => {
      await ok('PUT', `${R}/tags/golden/IOC:A`);
      await ok('PUT', `${R}/properties/owned/IOC:A`, { name: 'owned', value: 'mine' });
      // A write of managed properties is accepted and ignored on an IOC channel.
      await ok('POST', `${R}/channels/IOC:A`, chan('IOC:A', 'pvsync', [{ name: 'hostName', value: 'bogus' }, { name: 'pvStatus', value: 'Inactive' }]));
      let c = await get('IOC:A');
      expect(prop(c, 'hostName')).toBe('hostA');
      expect(prop(c, 'pvStatus')).toBe('Active');
      expect(prop(c, 'owned')).toBe('mine');
      expect(c?.tags.map((t) => t.name)).toEqual(['golden']);
      // The uploader rewrites the record (a new DESC): the additions stay.
      const res = await r.client.put(keys.iocRecord(IOC, 'IOC:A')).value(JSON.stringify({ name: 'IOC:A', type: 'ai', desc: 'second', infos: {}, aliases: [] }));
      await r.mirror.waitFor(Number(res.header.revision));
      c = await get('IOC:A');
      expect(prop(c, 'recordDesc')).toBe('second');
      expect(prop(c, 'owned')).toBe('mine');
      expect(await names('~tag=golden&iocName=ioc1')).toEqual(['IOC:A']);
      // DELETE removes the additions; the IOC still serves the channel.
      await ok('DELETE', `${R}/channels/IOC:A`);
      c = await get('IOC:A');
      expect(c?.tags).toEqual([]);
      expect(prop(c, 'owned')).toBeUndefined();
      expect(prop(c, 'hostName')).toBe('hostA');
      // A user with the CHANNEL role does not own IOC channels (owner pvsync).
      expect((await call('POST', `${R}/channels/IOC:A`, chan('IOC:A', 'user'), 'user')).statusCode).toBe(401);
    });

    it('channel names over 100 characters with {}<>:*\'" round-trip', async () => {
      await ok('PUT', `${R}/channels/${encodeURIComponent(ODD)}`, chan(ODD, 'admin', [{ name: 'owned', value: 'odd value: {}<>*' }]));
      expect(prop(await get(ODD), 'owned')).toBe('odd value: {}<>*');
      expect(await names(`~name=${encodeURIComponent('SR:{dev}<1>*')}`)).toEqual([ODD]);
      expect(await names(`owned=${encodeURIComponent('odd value: {}<>\\*')}`)).toEqual([ODD]);
      await ok('DELETE', `${R}/channels/${encodeURIComponent(ODD)}`);
      expect(await get(ODD)).toBeNull();
    });

    it('a 10 000-channel PUT (several MB, many transactions) is applied and answered whole', async () => {
      const prefix = fresh('BULK');
      const list = Array.from({ length: 10_000 }, (_, i) => chan(`${prefix}:${String(i).padStart(5, '0')}`, 'user',
        [{ name: 'owned', value: `value-${i}-${'x'.repeat(200)}` }], ['golden']));
      expect(JSON.stringify(list).length).toBeGreaterThan(3_000_000);
      const res = await ok('PUT', `${R}/channels`, list, 'user');
      expect(res.json<CfChannel[]>()).toHaveLength(10_000);
      const count = await call('GET', `${R}/channels/count?~name=${prefix}:*&~tag=golden`);
      expect(count.body).toBe('10000');
    });
  });

  describe('query rules over API channels', () => {
    const P = 'QRY';
    beforeAll(async () => {
      await defProp('color');
      await defProp('size');
      await defTag('red');
      await ok('PUT', `${R}/channels`, [
        chan(`${P}:a`, 'admin', [{ name: 'color', value: 'Blue sky' }, { name: 'size', value: '1' }], ['red']),
        chan(`${P}:B`, 'admin', [{ name: 'color', value: 'green' }]),
        chan(`${P}:c`, 'admin', [{ name: 'size', value: '2' }], ['red']),
        chan(`${P}:d`, 'admin'),
      ]);
    });
    const cases: [string, string[]][] = [
      [`~name=${P}:*`, [`${P}:B`, `${P}:a`, `${P}:c`, `${P}:d`]],
      [`~name=qry:b`, [`${P}:B`]],
      [`~name=${P}:*&color=blue+SKY`, [`${P}:a`]],
      [`~name=${P}:*&color=blue*|green`, [`${P}:B`, `${P}:a`]],
      [`~name=${P}:*&color=blue*&color=green`, [`${P}:B`, `${P}:a`]],
      [`~name=${P}:*&color=*&size=*`, [`${P}:a`]],
      [`~name=${P}:*&color!=green`, [`${P}:a`]],
      [`~name=${P}:*&color!=*`, [`${P}:c`, `${P}:d`]],
      [`~name=${P}:*&~tag=red`, [`${P}:a`, `${P}:c`]],
      [`~name=${P}:*&~tag!=red`, [`${P}:B`, `${P}:d`]],
      [`~name=${P}:*&~tag=red&~tag=nope`, []],
      [`~name=${P}:?&~size=2`, [`${P}:B`, `${P}:a`]],
      [`~name=${P}:?&~size=2&~from=2`, [`${P}:c`, `${P}:d`]],
      [`~name=${P}:?&~search_after=${P}:a`, [`${P}:c`, `${P}:d`]],
    ];
    for (const [q, want] of cases) {
      it(q, async () => {
        expect(await names(q)).toEqual(want);
      });
    }
    it('get by name is case-sensitive, search is not', async () => {
      expect(await get(`${P}:b`)).toBeNull();
      expect(await get(`${P}:B`)).not.toBeNull();
    });
  });
});
