/**
 * Faults of the relational mirror with real processes and a real MariaDB: two `pvsync archiver-sync` processes, the
 * writer frozen (SIGSTOP) → the other takes over and the frozen one, thawed, writes nothing (an audit trigger on
 * sync_state records every write); the new writer SIGKILLed → the first takes over again; and MariaDB SIGKILLed for
 * 30 s while the directory changes → caught up, equal to the API, every revision once.
 */
import type { Connection } from 'mariadb';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArchiverSync, type ArchiverSync } from '../../src/apps/archiver-sync.js';
import { endpointUrl } from '../../src/adapters/local-mariadb/local-mariadb.js';
import { Keyspace } from '../../src/core/keyspace.js';
import { parseDbUrl } from '../../src/core/relational/db-url.js';
import { startReplica, type Replica } from '../support/api-replica.js';
import { etcdClient, testEndpoints, uniqueRoot } from '../support/cluster.js';
import { createTestDatabase, type TestDatabase } from '../support/mariadb.js';
import { startPvsync, until, type PvsyncProcess } from '../support/processes.js';
import { apiView, connect, differences, readMirror, syncState } from '../support/relational.js';
import { startTestMariadb, type StartedMariadb } from '../support/start-mariadb.js';
import { SyncWorkload } from '../support/sync-workload.js';

const log = pino({ level: process.env['PVSYNC_TEST_LOG'] ?? 'silent' });
const client = etcdClient();
afterAll(() => client.close());

async function equalToApi(conn: Connection, replica: Replica): Promise<void> {
  const api = await apiView(replica.app);
  expect(differences(await readMirror(conn), api)).toEqual([]);
}

describe('archiver-sync processes: freeze and kill of the writer', () => {
  const keys = new Keyspace(uniqueRoot('sync-faults'));
  let db: TestDatabase;
  let conn: Connection;
  let replica: Replica;
  const procs: Record<string, PvsyncProcess> = {};

  beforeAll(async () => {
    db = await createTestDatabase('sync_faults');
    conn = await connect(db.url);
    replica = await startReplica(keys);
  });
  afterAll(async () => {
    for (const p of Object.values(procs)) {
      p.child.kill('SIGCONT');
      p.child.kill('SIGKILL');
    }
    await replica?.stop();
    await conn?.end();
    await db?.drop();
  });

  it('frozen writer: the other takes over, the thawed one writes nothing; killed writer: taken over again', async () => {
    const work = new SyncWorkload(client, keys, replica, 7);
    for (let n = 1; n <= 3; n++) await work.upload(n, 100);
    for (const node of ['a', 'b']) {
      procs[node] = startPvsync(['archiver-sync', '--db', db.url, '--endpoints', testEndpoints().join(','), '--root', keys.root,
        '--node', node, '--ttl', '2']);
    }
    let rev = Number((await client.get(keys.root).exec()).header.revision);
    await until('first load', async () => (await syncState(conn)).revision >= rev, 30_000);
    // Every write of sync_state from now on is recorded.
    await conn.query('CREATE TABLE audit (seq INT AUTO_INCREMENT PRIMARY KEY, writer VARCHAR(255), token BIGINT, revision BIGINT)');
    await conn.query(`CREATE TRIGGER sync_audit AFTER UPDATE ON sync_state FOR EACH ROW
      INSERT INTO audit (writer, token, revision) VALUES (NEW.writer, NEW.fencing_token, NEW.revision)`);
    const first = (await syncState(conn)).writer;
    const other = first === 'a' ? 'b' : 'a';
    const frozen = procs[first];
    if (frozen === undefined) throw new Error(`writer ${first} is not one of ours`);

    frozen.child.kill('SIGSTOP');
    rev = await work.kill(2);
    await until(`${other} took over`, async () => {
      const st = await syncState(conn);
      return st.writer === other && st.revision >= rev;
    }, 30_000);
    const takeover = await syncState(conn);
    const [{ since }] = await conn.query('SELECT MAX(seq) AS since FROM audit') as [{ since: number }];
    await equalToApi(conn, replica);

    frozen.child.kill('SIGCONT');
    // The thawed writer sees the changes made while it was frozen and more; none may reach MariaDB from it.
    rev = await work.upload(4, 50);
    rev = await work.apiWrites([...(await apiView(replica.app)).keys()].filter((n) => n.startsWith('SYS')).slice(0, 3));
    await until('caught up by the new writer', async () => (await syncState(conn)).revision >= rev, 30_000);
    await until('the thawed one demoted', () => frozen.output.join('').includes('giving up leadership'), 15_000);
    const later = await conn.query('SELECT writer, token, revision FROM audit WHERE seq > ?', [since]) as { writer: string; token: number }[];
    expect(later.length).toBeGreaterThan(0);
    expect(later.filter((r) => r.writer !== other || r.token !== takeover.fencing_token)).toEqual([]);
    await equalToApi(conn, replica);

    // Now the new writer dies: the first one (a standby again) takes over and catches up.
    procs[other]?.child.kill('SIGKILL');
    rev = await work.upload(5, 40);
    await until(`${first} took over again`, async () => {
      const st = await syncState(conn);
      return st.writer === first && st.revision >= rev;
    }, 30_000);
    expect((await syncState(conn)).fencing_token).toBeGreaterThan(takeover.fencing_token);
    await equalToApi(conn, replica);
  });
});

describe('MariaDB down for 30 s while the directory changes', () => {
  const keys = new Keyspace(uniqueRoot('sync-outage'));
  let server: StartedMariadb;
  let conn: Connection | undefined;
  let replica: Replica;
  let sync: ArchiverSync;

  beforeAll(async () => {
    server = await startTestMariadb('sync-outage');
    replica = await startReplica(keys);
  });
  afterAll(async () => {
    sync?.shutdown();
    await sync?.run();
    await conn?.end().catch(() => undefined);
    await replica?.stop();
    await server?.stop();
  });

  it('catches up after MariaDB is back: equal to the API, no row twice, the same writer throughout', async () => {
    const work = new SyncWorkload(client, keys, replica, 99);
    for (let n = 1; n <= 3; n++) await work.upload(n, 100);
    const url = endpointUrl(server.info, 'pvsync');
    sync = createArchiverSync({ client, keys, log, node: 'outage', ttlS: 2, store: { target: parseDbUrl(url), socketTimeoutMs: 3000, connectTimeoutMs: 1000 } });
    void sync.run();
    let rev = Number((await client.get(keys.root).exec()).header.revision);
    await until('loaded', async () => sync.writer !== null && sync.writer.committed >= rev, 30_000);
    const token = (await syncState(conn = await connect(url))).fencing_token;
    await conn.end();
    conn = undefined;

    await server.server.stop('SIGKILL');
    const downAt = Date.now();
    const some = [...(await apiView(replica.app)).keys()].filter((n) => n.startsWith('SYS')).slice(0, 3);
    const steps = [() => work.kill(1), () => work.upload(4, 80), () => work.apiWrites(some),
      () => work.removeRecords(2, 'SYS2'), () => work.upload(1, 30), () => work.kill(3)];
    for (const [i, step] of steps.entries()) {
      rev = await step();
      await new Promise((r) => setTimeout(r, Math.max(0, downAt + ((i + 1) * 30_000) / steps.length - 1000 - Date.now())));
    }
    await replica.mirror.waitFor(rev);
    expect(sync.writer?.committed).toBeLessThan(rev); // nothing could be written meanwhile
    expect(sync.health()).toMatchObject({ writer: true });
    await new Promise((r) => setTimeout(r, Math.max(0, downAt + 30_000 - Date.now())));
    await server.server.up();

    await until('caught up', async () => (sync.writer?.committed ?? 0) >= rev, 30_000);
    conn = await connect(url);
    const st = await syncState(conn);
    expect(st).toMatchObject({ revision: rev, fencing_token: token, writer: 'outage' });
    await equalToApi(conn, replica);
    const [{ n, d }] = await conn.query('SELECT COUNT(*) AS n, COUNT(DISTINCT name) AS d FROM pv') as [{ n: number; d: number }];
    expect(n).toBe(d);
    expect(n).toBe((await apiView(replica.app)).size);
    expect(sync.writer?.counts.failures).toBeGreaterThan(0);
    expect(sync.writer?.counts.replaced).toBe(1); // only the cold load: the backlog went in incrementally
  });
});
