/**
 * History by etcd revision against the real cluster: a query answered as the directory stood at an earlier
 * revision, and the refusals (a future revision, a compacted one).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyspace } from '../../src/core/keyspace.js';
import type { CfChannel } from '../../src/core/model.js';
import { uniqueRoot } from '../support/cluster.js';
import { basic, startReplica, type Replica } from '../support/api-replica.js';

const R = '/ChannelFinder/resources';

describe('history by revision', () => {
  const keys = new Keyspace(uniqueRoot('api-history'));
  let r: Replica;
  const put = async (url: string, body: unknown): Promise<void> => {
    const res = await r.app.inject({ method: 'PUT', url, headers: { authorization: basic('admin') }, payload: body as object });
    expect(res.statusCode, res.body).toBe(200);
  };
  const revision = (): number => r.mirror.revision;

  beforeAll(async () => { r = await startReplica(keys); });
  afterAll(async () => { await r.stop(); });

  it('answers a query and a channel as they stood at a past revision', async () => {
    await put(`${R}/tags/hist`, { name: 'hist', owner: 'admin' });
    await put(`${R}/channels/HIST:A`, { name: 'HIST:A', owner: 'admin', properties: [], tags: [] });
    const before = revision();
    await put(`${R}/tags/hist/HIST:A`, { name: 'hist', owner: 'admin' });
    await put(`${R}/channels/HIST:B`, { name: 'HIST:B', owner: 'admin', properties: [], tags: [{ name: 'hist', owner: 'admin' }] });
    const now = await r.app.inject({ method: 'GET', url: `${R}/channels?~tag=hist` });
    expect(now.json<CfChannel[]>().map((c) => c.name)).toEqual(['HIST:A', 'HIST:B']);

    const then = await r.app.inject({ method: 'GET', url: `/api/v1/history/channels?~revision=${before}&~name=HIST:*` });
    expect(then.statusCode, then.body).toBe(200);
    expect(then.json<CfChannel[]>()).toEqual([{ name: 'HIST:A', owner: 'admin', properties: [], tags: [] }]);
    const one = await r.app.inject({ method: 'GET', url: `/api/v1/history/channels/HIST:A?~revision=${before}` });
    expect(one.json<CfChannel>().tags).toEqual([]);
    const absent = await r.app.inject({ method: 'GET', url: `/api/v1/history/channels/HIST:B?~revision=${before}` });
    expect(absent.statusCode).toBe(404);
  });

  it('refuses a missing, malformed or future revision with 400, and a compacted one with 410', async () => {
    for (const q of ['', '~revision=abc', '~revision=0', `~revision=${revision() + 1000}`]) {
      const res = await r.app.inject({ method: 'GET', url: `/api/v1/history/channels?${q}` });
      expect(res.statusCode, q).toBe(400);
      expect(res.json<{ message: string }>().message).toMatch(/~revision/);
    }
    const old = revision();
    await put(`${R}/tags/hist2`, { name: 'hist2', owner: 'admin' });
    await r.client.kv.compact({ revision: revision(), physical: true });
    const res = await r.app.inject({ method: 'GET', url: `/api/v1/history/channels?~revision=${old - 1}` });
    expect(res.statusCode, res.body).toBe(410);
  });
});
