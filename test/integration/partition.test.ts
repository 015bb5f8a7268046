/**
 * Issue 14: one etcd member cut off SILENTLY (network namespaces + nftables dropping everything: it accepts nothing
 * and answers nothing), the leader and then a follower, while an uploader (TTL 2 s), two API replicas and an
 * archiver pair run. Bounds are the issue's; the figures themselves are in `npm run bench:partition`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEtcdClient, memberGuardsOf } from '../../src/adapters/etcd/client.js';
import { Mirror } from '../../src/adapters/etcd/mirror.js';
import { Keyspace } from '../../src/core/keyspace.js';
import { MapSink } from '../support/map-sink.js';
import { NetnsCluster } from '../support/netns-cluster.js';
import { PartitionScenario, type CutReport } from '../support/partition-scenario.js';
import { until } from '../support/processes.js';

const CUT_MS = 5000;

describe('a silent etcd member (network partition)', () => {
  let s: PartitionScenario;

  beforeAll(async () => {
    s = await PartitionScenario.start();
  }, 90_000);

  afterAll(async () => {
    await s?.stop();
  }, 60_000);

  const check = async (r: CutReport): Promise<void> => {
    console.log(`partition cut ${r.role}: firstWriteMs ${JSON.stringify(r.firstWriteMs)}, mirrorStallMs ${JSON.stringify(r.mirrorStallMs)}`);
    const detail = `${JSON.stringify(r)}\n${await s.diagnostics()}`;
    // No channel of the live IOC turned Inactive, in etcd or in either replica.
    expect(r.livenessGapMs, detail).toBe(0);
    // The first write through each replica succeeded within 2 s of the cut.
    for (const ms of r.firstWriteMs) expect(ms, detail).toBeLessThanOrEqual(2000);
    // Neither mirror stayed behind the cluster for more than 2 s.
    for (const ms of r.mirrorStallMs) expect(ms, detail).toBeLessThanOrEqual(2000);
    // Never two active archiver nodes; the active one neither stopped nor restarted.
    expect(r.overlapSamples, detail).toBe(0);
    expect(r.activeAfter, detail).toEqual(r.activeBefore);
    expect(r.activeRunsInWindow, detail).toBe(1);
    expect(r.activeMaxGapMs, detail).toBeLessThan(1000);
    // After the heal the member rejoins and every replica equals etcd.
    expect(r.rejoinMs, detail).toBeGreaterThanOrEqual(0);
    expect(r.replicasEqualEtcd, detail).toBe(true);
  };

  it('cutting the leader off stalls nothing: liveness, writes, mirrors and the active archiver carry on', async () => {
    await check(await s.cut('leader', CUT_MS));
  }, 60_000);

  it('cutting a follower off stalls nothing either', async () => {
    await check(await s.cut('follower', CUT_MS));
  }, 60_000);
});

describe('require leader (hasleader metadata)', () => {
  it('etcd cancels a watch on a member that lost its leader with "no leader", and the mirror resumes on another member', async () => {
    const cluster = await NetnsCluster.start();
    const logs: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => { logs.push(line); } });
    // No probes and no stall check: only etcd's own cancellation can move the watch here.
    const client = createEtcdClient(cluster.endpoints, { probe: false });
    const keys = new Keyspace('/pvsync-require-leader/');
    const mirror = new Mirror({ client, keys, sink: new MapSink(), log, progress: { stallMs: 600_000 } });
    let writer: ReturnType<typeof createEtcdClient> | undefined;
    try {
      await mirror.start();
      const leader = await cluster.leader();
      const victim = cluster.members.find((m) => m.name !== leader);
      if (victim === undefined) throw new Error('no follower');
      const guards = memberGuardsOf(client);
      if (guards === undefined) throw new Error('no member guards');
      for (let i = 0; guards.streamsOn(victim.endpoint) === 0; i++) {
        if (i >= 50) throw new Error('could not move the watch onto the follower');
        guards.cancelStreams();
        await sleep(250);
        await until('watch re-established', () => mirror.ready, 10_000);
      }
      writer = createEtcdClient(cluster.endpoints.filter((e) => e !== victim.endpoint), { probe: false });
      await cluster.cutPeers(victim.name);
      let last = 0;
      for (let i = 0; i < 30; i++) {
        last = Number((await writer.put(`${keys.root}tick`).value(String(i)).exec()).header.revision);
        await sleep(100);
      }
      await until('the mirror shows the last write', () => mirror.revision >= last, 10_000);
      expect(guards.streamsOn(victim.endpoint)).toBe(0);
      expect(logs.some((l) => l.includes('watch disconnected') && l.includes('no leader'))).toBe(true);
      await cluster.heal(victim.name);
    } finally {
      await mirror.stop();
      client.close();
      writer?.close();
      await cluster.stop();
    }
  }, 60_000);
});
