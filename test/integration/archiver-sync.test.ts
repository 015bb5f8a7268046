/**
 * The relational mirror (pvsync archiver-sync) against the real etcd cluster and a real MariaDB: equal to the API
 * after random uploads, API writes and IOC deaths; a deposed writer refused by the fencing row; convergence after a
 * compaction of the revision it stopped at; cold start with the derivation's own options.
 */
import type { Connection } from 'mariadb';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelationalStore } from '../../src/adapters/mariadb/relational-store.js';
import { createArchiverSync, type ArchiverSync } from '../../src/apps/archiver-sync.js';
import { SyncWriter } from '../../src/apps/sync-writer.js';
import { Keyspace } from '../../src/core/keyspace.js';
import { parseDbUrl } from '../../src/core/relational/db-url.js';
import { emptyChanges } from '../../src/core/relational/rows.js';
import { startReplica, type Replica } from '../support/api-replica.js';
import { etcdClient, uniqueRoot } from '../support/cluster.js';
import { createTestDatabase, type TestDatabase } from '../support/mariadb.js';
import { until } from '../support/processes.js';
import { apiView, connect, differences, readMirror, syncState } from '../support/relational.js';
import { SyncWorkload } from '../support/sync-workload.js';

const log = pino({ level: process.env['PVSYNC_TEST_LOG'] ?? 'silent' });

describe('relational mirror', () => {
  const keys = new Keyspace(uniqueRoot('archiver-sync'));
  const client = etcdClient();
  let replica: Replica;
  let db: TestDatabase;
  let conn: Connection;
  let work: SyncWorkload;
  const syncs: ArchiverSync[] = [];

  const startSync = (node: string): ArchiverSync => {
    const s = createArchiverSync({ client, keys, log, node, ttlS: 2, store: { target: parseDbUrl(db.url) } });
    syncs.push(s);
    void s.run();
    return s;
  };
  const caughtUp = async (revision: number): Promise<void> => {
    await replica.mirror.waitFor(revision);
    await until(`sync_state.revision >= ${revision}`, async () => (await syncState(conn)).revision >= revision, 30_000);
  };
  const expectEqual = async (): Promise<void> => {
    const api = await apiView(replica.app);
    expect(differences(await readMirror(conn), api)).toEqual([]);
    const [{ n }] = await conn.query('SELECT COUNT(*) AS n FROM pv') as [{ n: number }];
    expect(n).toBe(api.size);
  };

  beforeAll(async () => {
    db = await createTestDatabase('archiver_sync');
    conn = await connect(db.url);
    replica = await startReplica(keys);
    work = new SyncWorkload(client, keys, replica, 42);
  });
  afterAll(async () => {
    for (const s of syncs) s.shutdown();
    await Promise.all(syncs.map((s) => s.run()));
    await replica?.stop();
    await conn?.end();
    await db?.drop();
    client.close();
  });

  it('loads, then follows random uploads, API writes and IOC deaths, equal to the API at every step', async () => {
    for (let n = 1; n <= 4; n++) await work.upload(n, 150);
    const sync = startSync('sync-a');
    let rev = Number((await client.get(keys.root).exec()).header.revision);
    await caughtUp(rev);
    const migrations = await conn.query('SELECT version FROM schema_migrations') as { version: number }[];
    expect(migrations.map((m) => m.version)).toEqual([1]);
    await expectEqual();
    expect(sync.writer?.counts.replaced).toBe(1); // the cold load, one transaction

    const some = [...(await apiView(replica.app)).keys()].filter((n) => n.startsWith('SYS')).slice(0, 25);
    const steps: (() => Promise<number>)[] = [
      () => work.apiWrites(some),
      () => work.kill(2),
      () => work.upload(5, 120),
      () => work.upload(1, 80), // a re-upload with other records: the old ones vanish from etcd here
      () => work.removeRecords(3, 'SYS1'),
      () => work.kill(4),
      () => work.upload(2, 60), // back, smaller
    ];
    for (const step of steps) {
      rev = await step();
      await caughtUp(rev);
      await expectEqual();
    }
    const iocs = await conn.query('SELECT id, status, records FROM ioc ORDER BY id') as { id: string; status: string; records: number }[];
    expect(iocs.find((i) => i.id === 'ioc4@host1')?.status).toBe('Inactive');
    expect(iocs.find((i) => i.id === 'ioc2@host2')).toMatchObject({ status: 'Active', records: 60 });
    // Incremental revisions went in as their own transactions, not as reloads.
    expect(sync.writer?.counts.replaced).toBe(1);
    expect(sync.writer?.counts.transactions).toBeGreaterThan(steps.length);
    sync.shutdown();
    await sync.run();
  });

  it('resumes from sync_state.revision after a restart, and converges after that revision was compacted', async () => {
    const before = await syncState(conn);
    // While no writer runs: changes, then a compaction past the revision the mirror stopped at.
    await work.kill(1);
    await work.removeRecords(5, 'SYS2');
    const rev = await work.upload(6, 50);
    await client.kv.compact({ revision: String(rev) });
    const sync = startSync('sync-b');
    await caughtUp(rev);
    await expectEqual();
    expect(sync.writer?.counts.replaced).toBe(1); // re-listed and replaced: rows of the vanished records are gone
    const after = await syncState(conn);
    expect(after.fencing_token).toBeGreaterThan(before.fencing_token);
    expect(after.writer).toBe('sync-b');
    // A plain restart resumes at the revision without rewriting anything.
    sync.shutdown();
    await sync.run();
    const r2 = await work.kill(6);
    const again = startSync('sync-c');
    await caughtUp(r2);
    await expectEqual();
    expect(again.writer?.counts.replaced).toBe(0);
  });

  it('a deposed writer that wakes up writes nothing: the fencing row refuses it', async () => {
    for (const s of syncs) s.shutdown();
    await Promise.all(syncs.map((s) => s.run()));
    const st = await syncState(conn);
    // The old writer (token = st.fencing_token) keeps going while a newer one claims the mirror.
    const old = new SyncWriter({ client, keys, log, store: { target: parseDbUrl(db.url) }, identity: { token: st.fencing_token, writer: 'old' } });
    old.start();
    let rev = await work.upload(7, 20);
    await caughtUp(rev);
    expect((await syncState(conn)).writer).toBe('old');
    const newer = new RelationalStore({ target: parseDbUrl(db.url), log });
    await newer.open();
    await newer.claim({ token: st.fencing_token + 1, writer: 'newer' });
    const rowsBefore = await readMirror(conn);
    const fenced = new Promise((r) => old.once('fenced', r));
    rev = await work.upload(8, 20);
    await fenced;
    expect(old.fenced).toBe(true);
    const now = await syncState(conn);
    expect(now).toMatchObject({ writer: 'newer', fencing_token: st.fencing_token + 1 });
    expect(now.revision).toBeLessThan(rev);
    expect(differences(await readMirror(conn), rowsBefore)).toEqual([]);
    // The store itself refuses an older token for any change, even an empty one.
    const stale = new RelationalStore({ target: parseDbUrl(db.url), log });
    await expect(stale.apply(emptyChanges(), now.revision, now.revision + 1, { token: st.fencing_token, writer: 'old' }))
      .rejects.toMatchObject({ code: 'PVS_SYNC_FENCED' });
    stale.destroy();
    await old.stop();
    await newer.close();
    // A newer writer picks up where the mirror is and catches up.
    const s = startSync('sync-d');
    await caughtUp(rev);
    await expectEqual();
    expect((await syncState(conn)).writer).toBe('sync-d');
    void s;
  });
});
