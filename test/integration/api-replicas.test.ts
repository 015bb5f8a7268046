/**
 * Several stateless replicas on one etcd cluster: after a burst of concurrent writes through either, both answer
 * every query identically (concurrent merges of one channel through both lose nothing); and the watch stream of one
 * replica, cut mid-burst and resumed with Last-Event-ID, delivers every change exactly once.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyspace } from '../../src/core/keyspace.js';
import type { CfChannel } from '../../src/core/model.js';
import { uniqueRoot } from '../support/cluster.js';
import { freePorts } from '../support/free-ports.js';
import { until } from '../support/processes.js';
import { basic, startReplica, type Replica } from '../support/api-replica.js';

const R = '/ChannelFinder/resources';

interface SseEvent {
  readonly event: string;
  readonly id: number;
  readonly data: { revision: number; channels?: CfChannel[]; removed?: string[] };
}

/** An SSE connection that collects complete events. */
function openStream(port: number, path: string, lastEventId?: number): { events: SseEvent[]; close: () => void; ready: Promise<void> } {
  const events: SseEvent[] = [];
  let req: ClientRequest | null = null;
  let res: IncomingMessage | null = null;
  const ready = new Promise<void>((resolve, reject) => {
    req = httpRequest({ host: '127.0.0.1', port, path, headers: lastEventId === undefined ? {} : { 'last-event-id': String(lastEventId) } }, (r) => {
      res = r;
      let buf = '';
      r.setEncoding('utf8');
      r.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const f: Record<string, string> = {};
          for (const line of block.split('\n')) {
            const c = line.indexOf(': ');
            if (c > 0) f[line.slice(0, c)] = line.slice(c + 2);
          }
          events.push({ event: f['event'] ?? '', id: Number(f['id']), data: JSON.parse(f['data'] ?? '{}') as SseEvent['data'] });
        }
      });
      r.on('error', () => undefined);
      resolve();
    });
    req.on('error', reject);
    req.end();
  });
  return { events, ready, close: () => { res?.destroy(); req?.destroy(); } };
}

describe('replicas', () => {
  const keys = new Keyspace(uniqueRoot('api-replicas'));
  let a: Replica;
  let b: Replica;
  let port: number;

  const write = async (rep: Replica, method: 'PUT' | 'POST' | 'DELETE', url: string, payload?: unknown): Promise<void> => {
    const res = await rep.app.inject({ method, url, headers: { authorization: basic('admin') }, ...(payload === undefined ? {} : { payload: payload as object }) });
    expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(200);
  };
  const chan = (name: string, props: [string, string][] = [], tags: string[] = []): object =>
    ({ name, owner: 'admin', properties: props.map(([n, value]) => ({ name: n, owner: 'admin', value })), tags: tags.map((t) => ({ name: t, owner: 'admin' })) });
  const caughtUp = async (): Promise<void> => {
    const rev = Number((await a.client.get('/').exec()).header.revision);
    await Promise.all([a.mirror.waitFor(rev), b.mirror.waitFor(rev)]);
  };

  beforeAll(async () => {
    a = await startReplica(keys, { heartbeatMs: 200 });
    b = await startReplica(keys);
    [port] = (await freePorts(1)) as [number];
    await a.app.listen({ port, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  it('answer every query identically after a burst of concurrent writes through both', async () => {
    await write(a, 'PUT', `${R}/properties/color`, { name: 'color', owner: 'admin' });
    await write(b, 'PUT', `${R}/tags/hot`, { name: 'hot', owner: 'admin' });
    for (let i = 0; i < 8; i++) await b.mirror.waitFor(a.mirror.revision);
    await caughtUp();
    const ops: Promise<void>[] = [];
    for (let i = 0; i < 120; i++) {
      const rep = i % 2 === 0 ? a : b;
      const n = `BURST:${String(i).padStart(3, '0')}`;
      ops.push(write(rep, 'PUT', `${R}/channels/${n}`, chan(n, [['color', i % 3 === 0 ? 'red' : 'blue']], i % 4 === 0 ? ['hot'] : [])));
    }
    // Both replicas merge different properties into one channel at the same time: guarded writes keep both.
    await write(a, 'PUT', `${R}/channels/SHARED`, chan('SHARED'));
    for (let i = 0; i < 10; i++) {
      await write(a, 'PUT', `${R}/properties/p${i}`, { name: `p${i}`, owner: 'admin' });
    }
    await caughtUp();
    for (let i = 0; i < 10; i++) ops.push(write(i % 2 === 0 ? a : b, 'POST', `${R}/channels/SHARED`, chan('SHARED', [[`p${i}`, String(i)]])));
    await Promise.all(ops);
    const more: Promise<void>[] = [];
    for (let i = 0; i < 120; i += 5) more.push(write(i % 2 === 0 ? b : a, 'DELETE', `${R}/channels/BURST:${String(i).padStart(3, '0')}`));
    more.push(write(b, 'PUT', `${R}/tags/hot/BURST:001`));
    await Promise.all(more);
    await caughtUp();

    const queries = ['', '~name=BURST:*', 'color=red', 'color!=red', '~tag=hot', '~name=BURST:0*&~size=7&~from=3',
      '~name=SHARED', 'p*=*', '~tag!=hot&color=*'];
    for (const q of queries) {
      const [x, y] = await Promise.all([a, b].map((rep) => rep.app.inject({ method: 'GET', url: `${R}/channels?${q}` })));
      expect(x?.body, q).toBe(y?.body);
      expect(x?.statusCode).toBe(200);
    }
    for (const url of [`${R}/properties`, `${R}/tags`, `${R}/channels/count?color=blue`, `${R}/tags/hot`]) {
      const [x, y] = await Promise.all([a, b].map((rep) => rep.app.inject({ method: 'GET', url })));
      expect(x?.body, url).toBe(y?.body);
    }
    const shared = (await a.app.inject({ method: 'GET', url: `${R}/channels/SHARED` })).json<CfChannel>();
    expect(shared.properties.map((p) => p.name).sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9']);
    expect((await a.app.inject({ method: 'GET', url: `${R}/channels/count?~name=BURST:*` })).body).toBe('96');
  });

  it('a watch stream cut mid-burst and resumed with Last-Event-ID delivers every change exactly once', async () => {
    const N = 300;
    const path = '/api/v1/watch?~name=W:*';
    const first = openStream(port, path);
    await first.ready;
    await until('sync event', () => first.events.some((e) => e.event === 'sync'));
    const writes = (async () => {
      for (let i = 0; i < N; i++) {
        const n = `W:${String(i).padStart(4, '0')}`;
        await write(b, 'PUT', `${R}/channels/${n}`, chan(n));
        // Changes outside the query must not show up in the stream.
        if (i % 50 === 0) await write(b, 'PUT', `${R}/channels/OTHER:${i}`, chan(`OTHER:${i}`));
      }
    })();
    const upserts = (events: readonly SseEvent[]): string[] =>
      events.filter((e) => e.event === 'change').flatMap((e) => (e.data.channels ?? []).map((c) => c.name));
    await until('a third of the burst', () => upserts(first.events).length >= N / 3, 60_000);
    first.close();
    const seen1 = [...first.events];
    const lastId = Math.max(...seen1.filter((e) => e.event !== 'sync').map((e) => e.id));
    // The burst goes on while no one listens.
    await until('more writes while disconnected', () => b.mirror.revision > lastId + 20, 60_000);
    const second = openStream(port, path, lastId);
    await second.ready;
    await writes;
    await until('every change', () => upserts(seen1).length + upserts(second.events).length >= N, 60_000);
    await new Promise((r) => setTimeout(r, 500)); // anything duplicated would arrive now
    second.close();

    const all = [...upserts(seen1), ...upserts(second.events)];
    expect(all).toHaveLength(N);
    expect(new Set(all).size).toBe(N);
    expect(all.every((n) => n.startsWith('W:'))).toBe(true);
    expect(second.events.some((e) => e.event === 'reset')).toBe(false);
    const ids = [...seen1, ...second.events].filter((e) => e.event === 'change').map((e) => e.id);
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1] as number);
    expect(second.events.some((e) => e.event === 'progress')).toBe(true);
  });

  it('a resume from before the journal gets a reset event', async () => {
    // The journal covers the revisions after the snapshot this replica started from.
    const s = openStream(port, '/api/v1/watch?~name=W:*', a.journal.floor - 1);
    await s.ready;
    await until('reset', () => s.events.length > 0);
    s.close();
    expect(s.events[0]?.event, JSON.stringify(s.events.slice(0, 3)).slice(0, 300)).toBe('reset');
    expect(s.events[0]?.id).toBe(a.directory.revision);
  });
});
