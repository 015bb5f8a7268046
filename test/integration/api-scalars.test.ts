/**
 * ChannelFinder's scalar coercion against the real cluster: a channel list written the way pyCFClient's
 * CFUpdateIOC writes it (`time` as a JSON number, the other properties as strings) is stored in etcd with the
 * number's text and read back as that text, by this replica and by a second one following etcd.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyspace } from '../../src/core/keyspace.js';
import type { CfChannel } from '../../src/core/model.js';
import { basic, startReplica, type Replica } from '../support/api-replica.js';
import { uniqueRoot } from '../support/cluster.js';

const R = '/ChannelFinder/resources';

describe('ChannelFinder write API: numbers and booleans for strings', () => {
  const keys = new Keyspace(uniqueRoot('api-scalars'));
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    a = await startReplica(keys);
    b = await startReplica(keys);
  });
  afterAll(async () => {
    await a.stop();
    await b.stop();
  });

  const send = (method: 'PUT' | 'POST', url: string, body: unknown) => a.app.inject({
    method, url, headers: { authorization: basic('admin'), 'content-type': 'application/json' }, payload: JSON.stringify(body),
  });

  it('stores a numeric time as its text and reads it back as text', async () => {
    for (const name of ['hostName', 'iocName', 'pvStatus', 'time']) {
      expect((await send('PUT', `${R}/properties/${name}`, { name, owner: 'admin' })).statusCode).toBe(200);
    }
    const time = 1700000123.456789;
    const props = (status: string): object[] => [
      { name: 'hostName', owner: 'admin', value: 'ioc-host' }, { name: 'iocName', owner: 'admin', value: 'cfupdate-ioc' },
      { name: 'pvStatus', owner: 'admin', value: status }, { name: 'time', owner: 'admin', value: time },
    ];
    const put = await send('PUT', `${R}/channels`, [
      { name: 'CFU:PV1', owner: 'admin', properties: props('Active'), tags: [] },
      { name: 'CFU:PV2', owner: 'admin', properties: props('Inactive'), tags: [] },
    ]);
    expect(put.statusCode, put.body).toBe(200);
    const timeOf = (c: CfChannel | undefined): string | null | undefined => c?.properties.find((p) => p.name === 'time')?.value;
    expect(put.json<CfChannel[]>().map(timeOf)).toEqual(['1700000123.456789', '1700000123.456789']);

    // what etcd holds: the text, not a number
    const stored = await a.client.get(keys.channel('CFU:PV1')).string();
    expect(JSON.parse(stored ?? '{}')).toMatchObject({ properties: expect.arrayContaining([{ name: 'time', value: '1700000123.456789' }]) as unknown });

    // and the other replica, which only follows etcd, reads the same text (and queries it as text)
    const rev = Number((await a.client.get(keys.channel('CFU:PV1')).exec()).header.revision);
    await b.mirror.waitFor(rev);
    const got = await b.app.inject({ method: 'GET', url: `${R}/channels?time=1700000123.45*&~name=CFU:*` });
    expect(got.json<CfChannel[]>().map((c) => [c.name, timeOf(c)])).toEqual([
      ['CFU:PV1', '1700000123.456789'], ['CFU:PV2', '1700000123.456789'],
    ]);

    // a boolean value in a merge, as Jackson would coerce it
    const post = await send('POST', `${R}/channels/CFU:PV1`, { name: 'CFU:PV1', owner: 'admin', properties: [{ name: 'pvStatus', value: true }] });
    expect(post.statusCode, post.body).toBe(200);
    expect(post.json<CfChannel>().properties.find((p) => p.name === 'pvStatus')?.value).toBe('true');
  });

  it('stores a number exactly as the client wrote it (1.50, 1e-05, trailing zeros), as Jackson does', async () => {
    await send('PUT', `${R}/properties/time`, { name: 'time', owner: 'admin' });
    await send('PUT', `${R}/properties/gain`, { name: 'gain', owner: 'admin' });
    // raw JSON text: JSON.stringify would print 1.5 and 0.00001
    const put = await a.app.inject({
      method: 'PUT', url: `${R}/channels`, headers: { authorization: basic('admin'), 'content-type': 'application/json' },
      payload: '[{"name":"CFU:EXACT","owner":"admin","properties":[{"name":"gain","owner":"admin","value":1.50},'
        + '{"name":"time","owner":"admin","value":1733050000.123000}]},'
        + '{"name":"CFU:EXP","owner":"admin","properties":[{"name":"gain","owner":"admin","value":1e-05}]}]',
    });
    expect(put.statusCode, put.body).toBe(200);
    const valueOf = (c: CfChannel | undefined, name: string): string | null | undefined => c?.properties.find((p) => p.name === name)?.value;
    const stored = JSON.parse(await a.client.get(keys.channel('CFU:EXACT')).string() ?? '{}') as CfChannel;
    expect([valueOf(stored, 'gain'), valueOf(stored, 'time')]).toEqual(['1.50', '1733050000.123000']);
    const rev = Number((await a.client.get(keys.channel('CFU:EXP')).exec()).header.revision);
    await b.mirror.waitFor(rev);
    const got = await b.app.inject({ method: 'GET', url: `${R}/channels?gain=1*&~name=CFU:E*` });
    expect(got.json<CfChannel[]>().map((c) => [c.name, valueOf(c, 'gain')])).toEqual([['CFU:EXACT', '1.50'], ['CFU:EXP', '1e-05']]);
    expect(valueOf(got.json<CfChannel[]>()[0], 'time')).toBe('1733050000.123000');
  });
});
