import type { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEtcdClient } from '../../src/adapters/etcd/client.js';
import { commitOps } from '../../src/adapters/etcd/kv.js';
import { Mirror } from '../../src/adapters/etcd/mirror.js';
import { Keyspace } from '../../src/core/keyspace.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { testEndpoints, uniqueRoot } from '../support/cluster.js';
import { MapSink, etcdState } from '../support/map-sink.js';
import { until } from '../support/processes.js';

const log = pino({ level: 'silent' });

function recordOp(keys: Keyspace, ioc: string, name: string, n: number) {
  return { type: 'put' as const, key: keys.iocRecord(ioc, name), value: JSON.stringify({ name, type: 'ai', infos: { n: String(n) }, aliases: [] }) };
}


describe('mirror against the real cluster', () => {
  let client: Etcd3;
  beforeAll(() => { client = createEtcdClient(testEndpoints()); });
  afterAll(() => client.close());

  it('loads a snapshot, then follows every revision once and in order', async () => {
    const keys = new Keyspace(uniqueRoot('mirror-follow'));
    await commitOps(client, [recordOp(keys, 'a@h', 'PRE', 0)], 'seed');
    const sink = new MapSink();
    const mirror = new Mirror({ client, keys, sink, log, pageSize: 7 });
    await mirror.start();
    expect(sink.state.size).toBe(1);
    for (let i = 0; i < 60; i++) await commitOps(client, [recordOp(keys, 'a@h', `R${i % 20}`, i)], 'write');
    await commitOps(client, [{ type: 'delete', key: keys.iocRecord('a@h', 'R3') }], 'delete');
    const last = await commitOps(client, [recordOp(keys, 'b@h', 'X', 1)], 'write');
    await mirror.waitFor(last);
    expect(sink.state).toEqual(await etcdState(client, keys));
    const revs = sink.revisions.slice(1);
    expect(revs).toEqual([...revs].sort((a, b) => a - b));
    expect(new Set(revs).size).toBe(revs.length);
    await mirror.stop();
  });

  it('rebuilds the same index when stopped during writes and started again', async () => {
    const keys = new Keyspace(uniqueRoot('mirror-restart'));
    const sink1 = new MapSink();
    const m1 = new Mirror({ client, keys, sink: sink1, log });
    await m1.start();
    const writes = (async () => {
      for (let i = 0; i < 200; i++) await commitOps(client, [recordOp(keys, 'a@h', `R${i}`, i)], 'write');
    })();
    await until('the first mirror applied some writes', () => sink1.state.size > 20);
    await m1.stop();
    const frozen = sink1.state.size;
    await writes;
    expect(frozen).toBeLessThan(200);
    const sink2 = new MapSink();
    const m2 = new Mirror({ client, keys, sink: sink2, log, pageSize: 16 });
    await m2.start();
    expect(sink2.state).toEqual(await etcdState(client, keys));
    expect(sink2.state.size).toBe(200);
    await m2.stop();
  });

  it('resumes after a disconnect without loss, and re-lists after a compaction it missed', async () => {
    const keys = new Keyspace(uniqueRoot('mirror-compact'));
    const proxy = new FaultProxy({ target: new URL(testEndpoints()[0]!) });
    await proxy.start();
    const viaProxy = createEtcdClient([proxy.url]);
    try {
      const sink = new MapSink();
      const mirror = new Mirror({ client: viaProxy, keys, sink, log });
      await mirror.start();
      // 1. Disconnect, write, reconnect: the watch resumes from its own last revision and misses nothing.
      proxy.dropAll();
      proxy.refuse(true);
      for (let i = 0; i < 30; i++) await commitOps(client, [recordOp(keys, 'a@h', `D${i}`, i)], 'write');
      proxy.refuse(false);
      const r1 = await commitOps(client, [recordOp(keys, 'a@h', 'D-last', 0)], 'write');
      await mirror.waitFor(r1);
      expect(sink.state).toEqual(await etcdState(client, keys));
      expect(mirror.relists).toBe(0);
      // 2. Disconnect, write, compact past what the mirror saw: the resumed watch is cancelled and it re-lists.
      proxy.dropAll();
      proxy.refuse(true);
      let rev = 0;
      for (let i = 0; i < 30; i++) rev = await commitOps(client, [recordOp(keys, 'a@h', `C${i}`, i)], 'write');
      await commitOps(client, [{ type: 'delete', key: keys.iocRecord('a@h', 'D0') }], 'delete');
      rev = await commitOps(client, [recordOp(keys, 'a@h', 'C-last', 0)], 'write');
      await client.kv.compact({ revision: rev, physical: true });
      proxy.refuse(false);
      await mirror.waitFor(rev);
      await until('the mirror re-listed', () => mirror.relists >= 1);
      expect(sink.state).toEqual(await etcdState(client, keys));
      expect(sink.state.has('record/a@h/D0')).toBe(false);
      await mirror.stop();
    } finally {
      viaProxy.close();
      await proxy.stop();
    }
  });
});
