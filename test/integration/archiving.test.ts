/**
 * Archiving driven by the directory, end to end: real etcd, real MariaDB, the KOMAC pair (two archiver-agent
 * processes, each starting `pvsync archiver-sim` with the same identity on one shared database and data directory)
 * and the archive reconciler following the directory. IOCs are published with the uploader's publisher.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BplClient } from '../../src/adapters/archiver-bpl/bpl-client.js';
import { createEtcdClient } from '../../src/adapters/etcd/client.js';
import { IocPublisher } from '../../src/adapters/etcd/ioc-publisher.js';
import { ArchapplStore } from '../../src/adapters/mariadb/archappl.js';
import { startArchiveFollower, type ArchiveFollower } from '../../src/apps/archive-follower.js';
import { Keyspace } from '../../src/core/keyspace.js';
import type { IocRecord } from '../../src/core/model.js';
import { largestGap, readSamples, startAppliancePair, type AppliancePair } from '../support/appliance-pair.js';
import { testEndpoints, uniqueRoot } from '../support/cluster.js';
import { createTestDatabase, type TestDatabase } from '../support/mariadb.js';
import { startPvsync, until, type PvsyncProcess } from '../support/processes.js';

const IDENTITY = 'komac-arch';
const log = pino({ level: 'warn' });

function rec(name: string, archive?: string): IocRecord {
  return { name, type: 'ai', fields: { DESC: name }, infos: archive === undefined ? {} : { archive }, aliases: [] };
}

describe('archiving driven by the directory, on the KOMAC pair', () => {
  let client: Etcd3;
  let keys: Keyspace;
  let store: ArchapplStore;
  let db: TestDatabase | null = null;
  let pair: AppliancePair | null = null;
  let follower: ArchiveFollower | null = null;
  const publishers: IocPublisher[] = [];
  const uploaders: PvsyncProcess[] = [];
  const iocDir = mkdtempSync(join(tmpdir(), 'pvsync-archiving-'));

  function publish(iocId: string, records: IocRecord[]): IocPublisher {
    const p = new IocPublisher({
      client, keys, iocId, iocName: iocId, hostName: 'test', env: { IOCNAME: iocId }, records, ttlSeconds: 3,
      writer: 'test', log, concurrency: 4,
    });
    publishers.push(p);
    return p;
  }

  async function statusOn(node: string, names: string[]): Promise<Map<string, Readonly<Record<string, unknown>>>> {
    return new BplClient(pair?.mgmtUrl(node) ?? '', { timeoutMs: 2000 }).pvStatus(names).catch(() => new Map());
  }

  async function active(): Promise<string> {
    const g = await pair?.harness.waitFor((s) => s.active !== null, 20_000, 'an active node');
    return g?.active?.node ?? '';
  }

  async function untilStatus(names: string[], want: (e: Readonly<Record<string, unknown>> | undefined, n: string) => boolean, what: string, ms = 20_000): Promise<void> {
    await until(what, async () => {
      const node = await active();
      const st = await statusOn(node, names);
      return names.every((n) => want(st.get(n), n));
    }, ms);
  }

  beforeAll(async () => {
    client = createEtcdClient(testEndpoints(), { callTimeoutMs: 3000, dialTimeoutMs: 2000 });
    keys = new Keyspace(uniqueRoot('archiving'));
    db = await createTestDatabase('archappl');
    store = await ArchapplStore.open(db.url, db.database);
    pair = await startAppliancePair({
      endpoints: testEndpoints(), root: keys.root, group: 'komac', ttlS: 2, db: db.url, database: db.database, identity: IDENTITY,
    });
    follower = await startArchiveFollower({
      client, keys, group: 'komac', store, log,
      settings: { selector: { names: [IDENTITY], untargeted: true }, onRemoved: 'pause', applianceIdentity: IDENTITY, passMs: 200 },
    });
  });

  afterAll(async () => {
    for (const p of publishers) await p.stop().catch(() => undefined);
    for (const u of uploaders) u.child.kill('SIGKILL');
    rmSync(iocDir, { recursive: true, force: true });
    await follower?.stop();
    await pair?.harness.stop();
    await store?.close();
    await db?.drop();
    client?.close();
  });

  const names = ['KOMAC:LI:BPM1:X', 'KOMAC:LI:BPM1:Y', 'KOMAC:LI:VAC1:P'];

  it('archives by the directory, pauses a killed IOC, resumes it with a changed period; a failover keeps archiving from MariaDB', async () => {
    const h = pair?.harness;
    if (h === undefined || follower === null) throw new Error('not started');
    await h.waitSettled();
    // The IOC: a real `pvsync upload` process beside its st.cmd and .db (killed and restarted below).
    const writeDb = (bpmX: string): void => {
      writeFileSync(join(iocDir, 'linac.db'), [
        `record(ai, "${names[0] ?? ''}") {\n  info(archive, "${bpmX}")\n}`,
        `record(ai, "${names[1] ?? ''}") {\n  info(archive, "scan 0.5")\n}`,
        `record(ai, "${names[2] ?? ''}") {\n  info(archive, "fast")\n}`,
        'record(bi, "KOMAC:LI:BPM1:STAT") {\n}',
        'record(ai, "KOMAC:LI:BAD") {\n  info(archive, "monitor@often")\n}', '',
      ].join('\n'));
    };
    writeDb('monitor@1.0');
    writeFileSync(join(iocDir, 'st.cmd'), 'epicsEnvSet("IOCNAME", "linac")\ndbLoadRecords("linac.db")\niocInit\n');
    const upload = (): PvsyncProcess => startPvsync(['upload', '--st-cmd', join(iocDir, 'st.cmd'), '--endpoints',
      testEndpoints().join(','), '--root', keys.root, '--ttl', '2', '--host', 'host1']);
    let ioc = upload();
    uploaders.push(ioc);

    // 1. archived on the active appliance with the right method and period; the bad spec is reported, not archived.
    await untilStatus(names, (e) => e?.status === 'Being archived', 'PVs archived', 30_000);
    const first = await active();
    const st = await statusOn(first, [...names, 'KOMAC:LI:BPM1:STAT', 'KOMAC:LI:BAD']);
    expect(st.get(names[0] ?? '')).toMatchObject({ isMonitored: 'true', samplingPeriod: '1.0', appliance: IDENTITY });
    expect(st.get(names[1] ?? '')).toMatchObject({ isMonitored: 'false', samplingPeriod: '0.5' });
    expect(st.get(names[2] ?? '')).toMatchObject({ isMonitored: 'true', samplingPeriod: '0.1' });
    expect(st.get('KOMAC:LI:BPM1:STAT')?.status).toBe('Not being archived');
    expect(st.get('KOMAC:LI:BAD')?.status).toBe('Not being archived');
    expect(follower.reconciler.problems.get('KOMAC:LI:BAD')?.error).toMatch(/not a number/);

    // 2. the IOC is killed (SIGKILL: its liveness lease expires) → its PVs paused.
    ioc.child.kill('SIGKILL');
    await untilStatus(names, (e) => e?.status === 'Paused', 'PVs paused');

    // 3. back, with a changed period → resumed, and the period applied (changeArchivalParameters) and written through.
    writeDb('monitor@2.0');
    ioc = upload();
    uploaders.push(ioc);
    await untilStatus(names, (e) => e?.status === 'Being archived', 'PVs resumed', 30_000);
    await untilStatus([names[0] ?? ''], (e) => e?.samplingPeriod === '2.0', 'period applied');
    await until('PVTypeInfo written through', async () => {
      const row = await store.query<{ j: string }[]>('SELECT typeInfoJSON AS j FROM PVTypeInfo WHERE pvName = ?', [names[0]]);
      const t = JSON.parse(row[0]?.j ?? '{}') as Record<string, unknown>;
      return t.samplingPeriod === '2.0' && t.paused === 'false' && t.applianceIdentity === IDENTITY;
    });

    // 4. the active node dies; the standby's appliance loads the same PVs from MariaDB and goes on archiving.
    await new Promise((r) => setTimeout(r, 1000));
    const victim = await active();
    const at = await h.crash(victim);
    await h.waitFor((s) => s.active !== null && s.active.node !== victim, 15_000, 'takeover');
    const successor = await active();
    await untilStatus(names, (e) => e?.status === 'Being archived' && e.appliance === IDENTITY, 'archived on the successor');
    const after = await statusOn(successor, [names[0] ?? '']);
    expect(after.get(names[0] ?? '')).toMatchObject({ samplingPeriod: '2.0' });
    await until('samples from the successor', async () => {
      const s = await readSamples(pair?.dataDir ?? '');
      return names.every((n) => (s.get(n) ?? []).some((x) => x.node === successor && x.t > at));
    }, 15_000);
    const samples = await readSamples(pair?.dataDir ?? '');
    const gaps = Object.fromEntries(names.map((n) => [n, largestGap(samples.get(n) ?? [], at)]));
    console.log(JSON.stringify({ failoverGapsMs: Object.fromEntries(Object.entries(gaps).map(([k, v]) => [k, v?.gapMs])) }));
    for (const n of names) {
      const g = gaps[n];
      expect(g, n).not.toBeNull();
      // Generous: TTL 2 s + start hook (a node process) + start-up; a user would call 30 s broken.
      expect(g?.gapMs ?? Infinity, n).toBeLessThan(30_000);
    }
    // No sample of the victim after it died (same files, same identity: the pair never archives twice).
    for (const n of names) expect((samples.get(n) ?? []).filter((x) => x.node === victim && x.t > at + 200)).toEqual([]);
  });

  it('requests made while no node is active go to ArchivePVRequests and are archived once one is', async () => {
    const h = pair?.harness;
    if (h === undefined) throw new Error('not started');
    for (const n of h.nodes) if (!h.agentExited(n)) await h.stopAgent(n);
    await h.waitFor((s) => s.active === null, 10_000, 'no active node');
    const late = ['KOMAC:RF:KLY1:PWR', 'KOMAC:RF:KLY2:PWR'];
    await publish('rf@host2', [rec(late[0] ?? '', 'scan@5'), rec(late[1] ?? '', 'default')]).start();
    await until('requests queued', async () => {
      const rows = await store.query<{ pvName: string }[]>('SELECT pvName FROM ArchivePVRequests');
      return late.every((n) => rows.some((r) => r.pvName === n));
    }, 15_000);
    const rows = await store.query<{ pvName: string; userParams: string }[]>('SELECT pvName, userParams FROM ArchivePVRequests WHERE pvName = ?', [late[0]]);
    const params = JSON.parse(rows[0]?.userParams ?? '{}') as Record<string, unknown>;
    expect(params).toMatchObject({ userSpecifedsamplingMethod: 'SCAN', userSpecifedSamplingPeriod: '5.0' });
    for (const v of Object.values(params)) expect(typeof v === 'string' || Array.isArray(v)).toBe(true);

    await h.startAgent(h.nodes[0] ?? 'a');
    await untilStatus(late, (e) => e?.status === 'Being archived', 'queued requests archived', 30_000);
    const st = await statusOn(await active(), [...late, ...names]);
    expect(st.get(late[0] ?? '')).toMatchObject({ isMonitored: 'false', samplingPeriod: '5.0' });
    // What was archived before is still archived (loaded from PVTypeInfo), and the request rows are gone.
    for (const n of names) expect(st.get(n)?.status).toBe('Being archived');
    await until('request rows deleted', async () => (await store.query<unknown[]>('SELECT pvName FROM ArchivePVRequests')).length === 0, 10_000);
  });
});
