/**
 * Benchmark of the relational mirror (`npm run bench:archiver-sync`): loads BENCH_CHANNELS channels (default
 * 1 000 000: 1 000 IOCs × 1 000 records, an archive tag on every tenth) into a fresh 3-member etcd cluster, starts a
 * fresh local MariaDB, and measures
 * - the cold load by the sync writer (etcd snapshot → derivation → rows → bulk inserts in one transaction, until
 *   sync_state.revision is set) as rows/s, beside **raw batched inserts of the same rows** (the rows derived up front
 *   in this process, then inserted with the same bulk statements into an empty database) in the same run; goal ≥ 0.5×;
 * - change → row visible: BENCH_CHANGES record updates one after another, each timed from the etcd commit until a
 *   second connection sees the row's new description; goal p99 < 100 ms.
 * - 100 000 archive requests reconciled through the stand-in appliance (time, requests/s) beside the same requests
 *   POSTed straight to a stand-in (`appliance`).
 * Last line is one JSON object.
 */
import { performance } from 'node:perf_hooks';
import mariadb from 'mariadb';
import { pino } from 'pino';
import { createEtcdClient } from '../src/adapters/etcd/client.js';
import { commitOps, scanPrefix, type WriteOp } from '../src/adapters/etcd/kv.js';
import { endpointUrl } from '../src/adapters/local-mariadb/local-mariadb.js';
import { migrate } from '../src/adapters/mariadb/migrations.js';
import { SyncWriter } from '../src/apps/sync-writer.js';
import { decodeChange } from '../src/core/directory/decode.js';
import { Derivation } from '../src/core/directory/derivation.js';
import type { DirectoryEvent } from '../src/core/directory/events.js';
import { Keyspace } from '../src/core/keyspace.js';
import { parseDbUrl } from '../src/core/relational/db-url.js';
import { changesOf } from '../src/core/relational/rows.js';
import { batchOps } from '../src/core/upload/plan.js';
import { startTestCluster } from '../test/support/start-cluster.js';
import { startTestMariadb } from '../test/support/start-mariadb.js';
import { measureApplianceReconcile } from './lib/appliance-reconcile.js';

const PER_IOC = 1000;
const CHANNELS = Number(process.env['BENCH_CHANNELS'] ?? 1_000_000);
const IOCS = Math.max(1, Math.round(CHANNELS / PER_IOC));
const CHANGES = Number(process.env['BENCH_CHANGES'] ?? 300);
const APPLIANCE_COUNT = Number(process.env['BENCH_APPLIANCE_COUNT'] ?? 100_000);
const BATCH = 5000;
const TYPES = ['ai', 'ao', 'bi', 'bo', 'calc', 'longin', 'mbbi', 'stringin'];
const log = pino({ level: process.env['PVSYNC_LOG_LEVEL'] ?? 'warn' });

const pad = (n: number, w: number): string => String(n).padStart(w, '0');
const iocIdOf = (i: number): string => `IOC${pad(i, 4)}@host${i % 50}`;
const recName = (i: number, j: number): string => `SR${pad(i, 4)}:C${Math.floor(j / 100)}:DEV${pad(j, 3)}:${j % 2 ? 'RB' : 'SP'}`;

function iocOps(keys: Keyspace, i: number): WriteOp[] {
  const iocId = iocIdOf(i);
  const now = new Date(1.7e12 + i * 1000).toISOString();
  const ops: WriteOp[] = [{ type: 'put', key: keys.iocInfo(iocId), value: JSON.stringify({
    schema: 1, iocId, iocName: `IOC${pad(i, 4)}`, hostName: `host${i % 50}`, iocIP: `10.0.${i % 250}.${i % 200}`,
    env: { RSRV_SERVER_PORT: '5064' }, uploadId: `u${i}`, state: 'complete', records: PER_IOC, updatedAt: now, writer: 'bench' }) }];
  if (i % 10 !== 0) ops.push({ type: 'put', key: keys.alive(iocId), value: JSON.stringify({ uploadId: `u${i}`, since: now, writer: 'bench' }) });
  for (let j = 0; j < PER_IOC; j++) {
    const name = recName(i, j);
    ops.push({ type: 'put', key: keys.iocRecord(iocId, name), value: JSON.stringify({
      name, type: TYPES[j % TYPES.length], desc: `device ${j} of ioc ${i}`, file: `/iocs/${i}/db/dev.db`, line: j + 1,
      infos: j % 10 === 0 ? { archive: 'monitor 1.0' } : {}, aliases: [] }) });
  }
  return ops;
}

function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round((s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN) * 10) / 10;
}

const etcd = await startTestCluster('bench-sync');
const db = await startTestMariadb('bench-sync');
const keys = new Keyspace('/bench-sync/v1/');
const client = createEtcdClient(etcd.info.endpoints, { callTimeoutMs: 30_000 });
try {
  const tl = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    for (;;) {
      const i = next++;
      if (i >= IOCS) return;
      for (const batch of batchOps(iocOps(keys, i))) await commitOps(client, batch, 'bench load');
    }
  }));
  console.log(`loaded ${IOCS * PER_IOC} channels into etcd in ${((performance.now() - tl) / 1000).toFixed(1)} s`);

  const admin = await mariadb.createConnection({ host: db.info.host, port: db.info.port, user: db.info.user, password: db.info.password });
  await admin.query('CREATE DATABASE raw_rows CHARACTER SET utf8mb4 COLLATE utf8mb4_bin');
  await admin.query('CREATE DATABASE pvsync CHARACTER SET utf8mb4 COLLATE utf8mb4_bin');
  await admin.end();

  // Baseline: the same rows derived up front (not timed), then only the bulk inserts, in one transaction.
  const events: DirectoryEvent[] = [];
  const snap = await scanPrefix(client, keys.root, 30_000, (key, value, rev) => {
    const r = decodeChange(keys, key, value, rev);
    if (r.ok) events.push(r.event);
  });
  const d = new Derivation();
  d.apply(events, snap.revision);
  events.length = 0;
  const rowsAll = changesOf(d, d.names(), [...d.iocs.keys()]);
  const pvRows: unknown[][] = [];
  const propRows: unknown[][] = [];
  const tagRows: unknown[][] = [];
  for (const r of rowsAll.pv.values()) {
    if (r === null) continue;
    pvRows.push([r.name, r.iocId, r.recordType, r.description, r.status, r.aliasOf, r.archive, r.sourceFile, r.sourceLine, snap.revision]);
    for (const [k, v] of r.properties) propRows.push([r.name, k, v]);
    for (const t of r.tags) tagRows.push([r.name, t]);
  }
  const iocRows = [...rowsAll.ioc.values()].filter((r) => r !== null).map((r) => [r.id, r.name, r.host, r.ip, r.status, r.records, r.lastUploadAt]);
  const totalRows = pvRows.length + propRows.length + tagRows.length + iocRows.length + 1;
  const raw = await mariadb.createConnection({ host: db.info.host, port: db.info.port, user: db.info.user, password: db.info.password, database: 'raw_rows' });
  await migrate(raw);
  const tr = performance.now();
  await raw.beginTransaction();
  const bulk = async (sql: string, rows: unknown[][]): Promise<void> => {
    for (let i = 0; i < rows.length; i += BATCH) await raw.batch(sql, rows.slice(i, i + BATCH));
  };
  await bulk('INSERT INTO pv (name, ioc_id, record_type, description, status, alias_of, archive, source_file, source_line, updated_revision, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))', pvRows);
  await bulk('INSERT INTO pv_property (pv_name, name, value) VALUES (?, ?, ?)', propRows);
  await bulk('INSERT INTO pv_tag (pv_name, tag) VALUES (?, ?)', tagRows);
  await bulk('INSERT INTO ioc (id, name, host, ip, status, records, last_upload_at) VALUES (?, ?, ?, ?, ?, ?, ?)', iocRows);
  await raw.query('UPDATE sync_state SET revision = ?, fencing_token = 1, writer = ?, updated_at = UTC_TIMESTAMP(3) WHERE id = 1', [snap.revision, 'raw']);
  await raw.commit();
  const rawMs = performance.now() - tr;
  await raw.end();
  pvRows.length = 0;
  propRows.length = 0;
  tagRows.length = 0;
  console.log(`raw batched inserts: ${totalRows} rows in ${(rawMs / 1000).toFixed(1)} s`);

  // The sync writer from a cold start: etcd snapshot, derivation, rows, one bulk transaction.
  const target = parseDbUrl(endpointUrl(db.info, 'pvsync'));
  const writer = new SyncWriter({ client, keys, log, store: { target }, identity: { token: 1, writer: 'bench' } });
  const ts = performance.now();
  const loaded = new Promise<void>((resolve) => writer.once('committed', () => resolve()));
  writer.start();
  await loaded;
  const syncMs = performance.now() - ts;
  console.log(`archiver-sync cold load: ${totalRows} rows in ${(syncMs / 1000).toFixed(1)} s`);

  // Change → row visible, one change at a time.
  const reader = await mariadb.createConnection({ host: db.info.host, port: db.info.port, user: db.info.user, password: db.info.password, database: 'pvsync' });
  const lat: number[] = [];
  for (let k = 0; k < CHANGES; k++) {
    const i = (k * 7) % IOCS;
    const j = (k * 13) % PER_IOC;
    const name = recName(i, j);
    const desc = `changed ${k}`;
    const t = performance.now();
    await client.put(keys.iocRecord(iocIdOf(i), name)).value(JSON.stringify({ name, type: 'ai', desc, infos: {}, aliases: [] }));
    for (;;) {
      const rows = await reader.query('SELECT description FROM pv WHERE name = ?', [name]) as { description: string }[];
      if (rows[0]?.description === desc) break;
    }
    lat.push(performance.now() - t);
  }
  await reader.end();
  await writer.stop();

  const syncRowsPerS = Math.round(totalRows / (syncMs / 1000));
  const rawRowsPerS = Math.round(totalRows / (rawMs / 1000));
  const result = {
    bench: 'archiver-sync',
    channels: d.size,
    cold_load: {
      rows: totalRows, sync_s: Math.round(syncMs) / 1000, sync_rows_per_s: syncRowsPerS,
      sync_channels_per_s: Math.round(d.size / (syncMs / 1000)), raw_s: Math.round(rawMs) / 1000, raw_rows_per_s: rawRowsPerS,
      ratio: Math.round((syncRowsPerS / rawRowsPerS) * 100) / 100, goal_ratio: 0.5,
    },
    change_to_row_ms: { n: lat.length, p50: pct(lat, 50), p99: pct(lat, 99), max: pct(lat, 100), goal_p99: 100 },
    // 100 000 archive requests reconciled through the stand-in appliance, beside the same requests POSTed straight
    // to a second stand-in (bench/lib/appliance-reconcile.ts); BENCH_APPLIANCE_COUNT=0 leaves it out.
    appliance: APPLIANCE_COUNT === 0 ? null : await measureApplianceReconcile({ dbUrl: endpointUrl(db.info), count: APPLIANCE_COUNT }),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  client.close();
  await db.stop();
  await etcd.stop();
}
