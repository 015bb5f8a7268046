import type { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEtcdClient } from '../../src/adapters/etcd/client.js';
import { IocPublisher } from '../../src/adapters/etcd/ioc-publisher.js';
import { rangePrefix } from '../../src/adapters/etcd/kv.js';
import { Keyspace } from '../../src/core/keyspace.js';
import { IocInfoSchema, type IocRecord } from '../../src/core/model.js';
import { testCluster, testEndpoints, uniqueRoot } from '../support/cluster.js';
import { until } from '../support/processes.js';

function records(n: number, tag = 'v1'): IocRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `PUB:R${String(i).padStart(5, '0')}`, type: 'ai', fields: { DESC: `record ${i} ${tag}` },
    infos: { archive: 'monitor 1.0' }, aliases: i % 10 === 0 ? [`PUB:ALIAS${i}`] : [],
  }));
}

function publisher(client: Etcd3, keys: Keyspace, recs: IocRecord[], logLines: string[] = []) {
  const log = pino({ level: 'info' }, { write: (s: string) => { logLines.push(s); } });
  return new IocPublisher({
    client, keys, iocId: 'pub@test', iocName: 'pub', hostName: 'test', env: { IOCNAME: 'pub' },
    records: recs, ttlSeconds: 3, writer: 'test', log, concurrency: 4,
  });
}

async function stored(client: Etcd3, keys: Keyspace) {
  const snap = await rangePrefix(client, keys.iocRecordsPrefix('pub@test'));
  return new Map(snap.kvs.map((kv) => [kv.key, JSON.parse(kv.value.toString()) as { desc?: string; gone?: boolean }]));
}

describe('IOC publisher against the real cluster', () => {
  let client: Etcd3;
  beforeAll(() => { client = createEtcdClient(testEndpoints()); });
  afterAll(() => client.close());

  it('uploads everything, then a restart with the same records writes nothing but info and alive', async () => {
    const keys = new Keyspace(uniqueRoot('pub-basic'));
    const p1 = publisher(client, keys, records(500));
    const first = await p1.start();
    expect(first.written).toBe(500);
    expect((await stored(client, keys)).size).toBe(500);
    const info = IocInfoSchema.parse(JSON.parse((await client.get(keys.iocInfo('pub@test')).string())!));
    expect(info.state).toBe('complete');
    expect(await client.get(keys.alive('pub@test')).string()).not.toBeNull();
    await p1.stop();
    expect(await client.get(keys.alive('pub@test')).string()).toBeNull();
    expect(JSON.parse((await client.get(keys.iocInfo('pub@test')).string())!)).toMatchObject({ state: 'stopped' });

    const p2 = publisher(client, keys, records(500));
    const second = await p2.start();
    expect(second.written).toBe(0);
    expect(second.unchanged).toBe(500);
    // A reboot that drops records keeps them, marked gone.
    await p2.stop();
    const p3 = publisher(client, keys, records(400));
    const third = await p3.start();
    expect(third.markedGone).toBe(100);
    const after = await stored(client, keys);
    expect(after.size).toBe(500);
    expect([...after.values()].filter((r) => r.gone).length).toBe(100);
    await p3.stop();
  });

  it('loses nothing when a member is killed during the upload', async () => {
    const keys = new Keyspace(uniqueRoot('pub-member'));
    const cluster = await testCluster();
    const victim = (await cluster.leader()) ?? cluster.memberNames[0]!;
    const p = publisher(client, keys, records(6000));
    const done = p.start();
    await new Promise((r) => setTimeout(r, 30));
    await cluster.stopMember(victim, 'SIGKILL');
    try {
      const report = await done;
      expect(report.records).toBe(6000);
      const s = await stored(client, keys);
      expect(s.size).toBe(6000);
      expect([...s.values()].every((r) => r.desc?.endsWith('v1'))).toBe(true);
    } finally {
      await cluster.startMember(victim);
      await cluster.waitHealthy();
      await p.stop();
    }
  });

  it('retries while quorum is lost, says so, and completes when etcd is back', async () => {
    const keys = new Keyspace(uniqueRoot('pub-quorum'));
    const cluster = await testCluster();
    const [a, b] = cluster.memberNames;
    await cluster.stopMember(a!, 'SIGKILL');
    await cluster.stopMember(b!, 'SIGKILL');
    const lines: string[] = [];
    const p = publisher(client, keys, records(2000, 'q'), lines);
    const done = p.start();
    try {
      // The first attempt fails once its call deadline (5 s) passes; wait for the uploader to say it is retrying.
      await until('a retry is logged', () => lines.some((l) => l.includes('upload failed, retrying')), 30_000);
      expect(lines.some((l) => l.includes('"code":"PVS_ETCD_UNAVAILABLE"'))).toBe(true);
    } finally {
      await cluster.startMember(a!);
      await cluster.startMember(b!);
      await cluster.waitHealthy();
    }
    const report = await done;
    expect(report.records).toBe(2000);
    expect((await stored(client, keys)).size).toBe(2000);
    await p.stop();
  });
});
