import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../../src/adapters/local-etcd/local-cluster.js';
import { etcdClient, testCluster, testEndpoints, uniqueRoot } from '../support/cluster.js';
import { startTestCluster, type StartedCluster } from '../support/start-cluster.js';

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('the shared test cluster', () => {
  let cluster: LocalCluster;
  let client: Etcd3;
  beforeAll(async () => {
    cluster = await testCluster();
    client = etcdClient();
  });
  afterAll(() => client.close());

  it('has 3 healthy members and exactly one leader', async () => {
    await cluster.waitHealthy();
    const members = await cluster.status();
    expect(members.map((m) => m.clientUrl)).toEqual(testEndpoints());
    expect(members.every((m) => m.alive && m.healthy && m.pid !== null)).toBe(true);
    expect(members.filter((m) => m.leader)).toHaveLength(1);
    expect(members.every((m) => (m.dbSizeBytes ?? 0) > 0)).toBe(true);
    // Settings of etcd-cluster.yml reach the processes.
    const leader = members.find((m) => m.leader);
    expect(leader?.name).toBe(await cluster.leader());
  });

  it('elects a new leader when the leader is SIGKILLed, keeps taking writes, and the old leader rejoins', async () => {
    const root = uniqueRoot('cluster-failover');
    await client.put(`${root}before`).value('1');
    const old = await until(() => cluster.leader(), 'a leader');
    await cluster.stopMember(old, 'SIGKILL');
    try {
      const next = await until(async () => {
        const l = await cluster.leader();
        return l !== undefined && l !== old ? l : undefined;
      }, 'a new leader');
      expect(next).not.toBe(old);
      const dead = (await cluster.status()).find((m) => m.name === old);
      expect(dead).toMatchObject({ alive: false, healthy: false, pid: null });
      // The client knows all three endpoints; its retries move past the dead one.
      await client.put(`${root}during`).value('2');
      expect(await client.get(`${root}during`).string()).toBe('2');
    } finally {
      await cluster.startMember(old);
      await cluster.waitHealthy();
    }
    // A linearizable read through the restarted member alone proves it rejoined and caught up.
    const idx = cluster.memberNames.indexOf(old);
    const solo = etcdClient([testEndpoints()[idx] ?? '']);
    try {
      expect(await solo.get(`${root}during`).string()).toBe('2');
    } finally {
      solo.close();
    }
    const members = await cluster.status();
    expect(members.every((m) => m.healthy)).toBe(true);
    expect(members.filter((m) => m.leader)).toHaveLength(1);
  });

  it('start and stop of a member are idempotent', async () => {
    const name = cluster.memberNames[2] ?? '';
    const pid = await cluster.runningPid(name);
    expect(await cluster.startMember(name)).toBe(pid);
    await cluster.stopMember(name);
    await cluster.stopMember(name);
    expect(await cluster.runningPid(name)).toBeUndefined();
    await cluster.startMember(name);
    await cluster.waitHealthy();
  });
});

describe('a separate cluster for up/down', () => {
  let started: StartedCluster;
  beforeAll(async () => {
    started = await startTestCluster('updown');
  });
  afterAll(async () => {
    await started.stop();
  });

  it('up is idempotent, down stops everything and is idempotent, up again keeps the data', async () => {
    const c = started.cluster;
    const pids = (await c.status()).map((m) => m.pid);
    expect(pids.every((p) => p !== null)).toBe(true);
    expect(started.info.endpoints).not.toEqual(testEndpoints());
    // up on a running cluster starts nothing and returns the same endpoints.
    expect(await c.up()).toEqual(started.info.endpoints);
    expect((await c.status()).map((m) => m.pid)).toEqual(pids);

    const solo = etcdClient(started.info.endpoints);
    try {
      await solo.put('/pvsync-test/updown/key').value('kept');
    } finally {
      solo.close();
    }

    await c.down();
    const down = await c.status();
    expect(down.every((m) => !m.alive && !m.healthy && m.pid === null)).toBe(true);
    for (const p of pids) expect(processExists(p ?? 0)).toBe(false);
    await c.down();

    await c.up();
    const again = etcdClient(started.info.endpoints);
    try {
      expect(await again.get('/pvsync-test/updown/key').string()).toBe('kept');
    } finally {
      again.close();
    }
  });

  it('refuses to start a second cluster on ports another one serves, and starts nothing', async () => {
    const other = new LocalCluster(started.info.spec, join(started.info.stateDir, 'other'), { etcdBin: started.info.etcdBin });
    await expect(other.up()).rejects.toMatchObject({ code: 'PVS_CLUSTER', message: expect.stringContaining('in use') });
    expect((await other.status()).every((m) => !m.alive)).toBe(true);
    expect((await started.cluster.status()).every((m) => m.healthy)).toBe(true);
  });

  it('treats a stale pid file (a pid that is not our etcd) as not running', async () => {
    const c = started.cluster;
    const name = c.memberNames[0] ?? '';
    await c.stopMember(name);
    // A pid that certainly exited, and the pid of a live process that is not etcd (this test worker).
    const exited = spawnSync('true').pid ?? 0;
    for (const stale of [exited, process.pid]) {
      await mkdir(c.memberDir(name), { recursive: true });
      await writeFile(join(c.memberDir(name), 'etcd.pid'), `${stale}\n`);
      expect(await c.runningPid(name)).toBeUndefined();
      expect((await c.status()).find((m) => m.name === name)?.alive).toBe(false);
    }
    await c.up();
    expect(await c.runningPid(name)).not.toBe(process.pid);
    expect((await c.status()).every((m) => m.healthy)).toBe(true);
    expect(processExists(process.pid)).toBe(true);
  });
});

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
