/**
 * The watch journal of a freshly started replica is extended back from etcd history, so that a client resuming from
 * before the start gets the changes it missed. etcd compacts on its own: when the backfill window reaches below the
 * compacted revision, the journal still reaches back to the oldest revision etcd holds (it used to give up entirely).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Keyspace } from '../../src/core/keyspace.js';
import { basic, startReplica, type Replica } from '../support/api-replica.js';
import { etcdClient, uniqueRoot } from '../support/cluster.js';

const R = '/ChannelFinder/resources';

describe('watch journal backfill after a start', () => {
  const replicas: Replica[] = [];
  afterEach(async () => {
    await Promise.all(replicas.splice(0).map((r) => r.stop()));
  });

  const put = async (rep: Replica, name: string): Promise<void> => {
    const res = await rep.app.inject({
      method: 'PUT', url: `${R}/channels/${name}`, headers: { authorization: basic('admin'), 'content-type': 'application/json' },
      payload: { name, owner: 'admin', properties: [], tags: [] },
    });
    expect(res.statusCode, res.body).toBe(200);
  };

  it('reaches back to the compacted revision when its window starts below it', async () => {
    const keys = new Keyspace(uniqueRoot('backfill-compact'));
    const a = await startReplica(keys);
    replicas.push(a);
    await put(a, 'BF:A');
    const client = etcdClient();
    try {
      const compactAt = Number((await client.kv.range({ key: Buffer.from(keys.root), count_only: true })).header.revision);
      await client.kv.compact({ revision: compactAt, physical: true });
      await put(a, 'BF:B');
      await put(a, 'BF:C');

      // Fewer than 1 000 revisions since the compaction: the default window starts below it.
      const b = await startReplica(keys);
      replicas.push(b);
      const startedAt = b.journal.floor;
      expect(startedAt - compactAt).toBeLessThan(1000);
      await b.backfilled;
      expect(b.journal.floor).toBeLessThan(startedAt);
      expect(b.journal.floor).toBeGreaterThanOrEqual(compactAt);

      // A resume from the compaction on replays BF:B and BF:C, not a reset.
      const res = await b.app.inject({ method: 'GET', url: '/api/v1/watch?~name=BF:*', headers: { 'last-event-id': String(compactAt) },
        payloadAsStream: true });
      expect(res.statusCode).toBe(200);
      const stream = res.stream();
      let text = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no replay within 10 s: ${text}`)), 10_000);
        stream.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
          if (text.includes('"BF:B"') && text.includes('"BF:C"')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      stream.destroy();
      expect(text).not.toMatch(/^event: reset$/m);
      expect(text).not.toContain('"BF:A"');
    } finally {
      client.close();
    }
  });
});
