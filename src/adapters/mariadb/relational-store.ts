/**
 * The relational mirror in MariaDB, as its one writer sees it: every change set is one transaction that first locks
 * the `sync_state` row (SELECT … FOR UPDATE), refuses to write when `fencing_token` is newer than the writer's own
 * election token, and sets `revision`, `fencing_token` and `writer` before it commits. Rows go in as bulk batches
 * (MariaDB's COM_STMT_BULK_EXECUTE through the client's `batch`). Foreign errors are wrapped once here.
 */
import mariadb, { type Connection } from 'mariadb';
import type { Logger } from 'pino';
import { PvsError, isPvsError, messageOf } from '../../core/errors.js';
import type { DbTarget } from '../../core/relational/db-url.js';
import type { IocRow, PvRow, RowChanges } from '../../core/relational/rows.js';
import { migrate } from './migrations.js';

/** The `sync_state` row. */
export interface SyncState {
  readonly revision: number;
  readonly fencingToken: number;
  readonly writer: string;
}

/** Who writes: the election token (the election key's create revision) and a name for `sync_state.writer`. */
export interface WriterIdentity {
  readonly token: number;
  readonly writer: string;
}

/** Outcome of applying a change set. */
export type ApplyOutcome =
  /** Committed; `sync_state.revision` is now the set's revision. */
  | 'applied'
  /** `sync_state.revision` was already there (this writer's earlier commit whose answer was lost): nothing done. */
  | 'already'
  /** `sync_state.revision` is not the revision the changes were derived from: re-read it and resume from there. */
  | 'diverged';

/** Timing of the store's connection. */
export interface StoreOptions {
  readonly target: DbTarget;
  readonly log: Logger;
  /** Connect deadline (default 3 s). */
  readonly connectTimeoutMs?: number;
  /** Close the connection when the server sends nothing for this long during a call (default 30 s). */
  readonly socketTimeoutMs?: number;
  /**
   * The server kills this writer's connection when it sits idle inside a transaction this long (default 10 s):
   * a frozen writer cannot hold the sync_state lock and block the next one.
   */
  readonly idleTransactionTimeoutS?: number;
  /** How long a transaction waits for the sync_state lock (default 20 s, more than the idle timeout). */
  readonly lockWaitTimeoutS?: number;
  /** Rows per bulk statement (default 5 000). */
  readonly batchRows?: number;
}

const PV_COLUMNS = 'name, ioc_id, record_type, description, status, alias_of, archive, source_file, source_line, updated_revision, updated_at';
const PV_INSERT = `INSERT INTO pv (${PV_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))`;
const PV_UPSERT = `${PV_INSERT} ON DUPLICATE KEY UPDATE ioc_id = VALUES(ioc_id), record_type = VALUES(record_type),
  description = VALUES(description), status = VALUES(status), alias_of = VALUES(alias_of), archive = VALUES(archive),
  source_file = VALUES(source_file), source_line = VALUES(source_line), updated_revision = VALUES(updated_revision),
  updated_at = VALUES(updated_at)`;
const IOC_INSERT = 'INSERT INTO ioc (id, name, host, ip, status, records, last_upload_at) VALUES (?, ?, ?, ?, ?, ?, ?)';
const IOC_UPSERT = `${IOC_INSERT} ON DUPLICATE KEY UPDATE name = VALUES(name), host = VALUES(host), ip = VALUES(ip),
  status = VALUES(status), records = VALUES(records), last_upload_at = VALUES(last_upload_at)`;

/** Wrap anything MariaDB threw as PVS_MARIADB_UNAVAILABLE (retryable); pvsync's own errors pass through. */
export function wrapDbError(err: unknown, what: string): PvsError {
  if (isPvsError(err)) return err;
  return new PvsError('PVS_MARIADB_UNAVAILABLE', `MariaDB ${what}: ${messageOf(err)}`, { retryable: true, cause: err });
}

/** One writer's connection to the relational mirror. Calls are serialized by the caller (one at a time). */
export class RelationalStore {
  private conn: Connection | null = null;
  private readonly batchRows: number;

  constructor(private readonly opts: StoreOptions) {
    this.batchRows = opts.batchRows ?? 5000;
  }

  /** Connect (creating the database when missing), set the session limits and apply missing migrations. */
  async open(): Promise<number[]> {
    const conn = await this.connection();
    try {
      return await migrate(conn);
    } catch (err) {
      throw wrapDbError(err, 'migration');
    }
  }

  /** The `sync_state` row. */
  async readState(): Promise<SyncState> {
    const conn = await this.connection();
    try {
      return stateOf(await conn.query('SELECT revision, fencing_token, writer FROM sync_state WHERE id = 1'));
    } catch (err) {
      throw wrapDbError(err, 'read sync_state');
    }
  }

  /**
   * Take the mirror over at election: set `fencing_token` to this writer's token (refused with PVS_SYNC_FENCED when
   * it is already newer), so that every older writer is refused from now on. Returns the state it found.
   */
  async claim(id: WriterIdentity): Promise<SyncState> {
    return this.transaction('claim', async (conn) => {
      const st = await lockState(conn, id);
      await setState(conn, st.revision, id);
      return st;
    });
  }

  /**
   * Apply the changes of revisions (`base`, `revision`] in one transaction, only if the mirror is at `base` and not
   * fenced. Deleted channels lose their row, properties and tags; changed ones are replaced whole.
   */
  async apply(changes: RowChanges, base: number, revision: number, id: WriterIdentity): Promise<ApplyOutcome> {
    return this.transaction('apply', async (conn) => {
      const st = await lockState(conn, id);
      if (st.revision !== base) {
        await conn.rollback();
        return st.revision === revision && st.fencingToken === id.token ? 'already' : 'diverged';
      }
      await this.writeChanges(conn, changes, revision, false);
      await setState(conn, revision, id);
      return 'applied';
    });
  }

  /**
   * Replace the whole mirror with `chunks` (the derivation at `revision`, in pieces) in one transaction: the cold
   * load (bulk inserts into empty tables) and the convergence after a compaction or a re-list.
   */
  async replaceAll(chunks: () => Iterable<RowChanges>, revision: number, id: WriterIdentity): Promise<{ channels: number; rows: number }> {
    return this.transaction('replace', async (conn) => {
      await lockState(conn, id);
      const [{ n }] = await conn.query('SELECT COUNT(*) AS n FROM (SELECT 1 FROM pv LIMIT 1) x') as [{ n: bigint }];
      if (Number(n) > 0) {
        for (const t of ['pv_tag', 'pv_property', 'pv', 'ioc']) await conn.query(`DELETE FROM ${t}`);
      } else {
        await conn.query('DELETE FROM ioc');
      }
      let channels = 0;
      let rows = 0;
      for (const c of chunks()) {
        rows += await this.writeChanges(conn, c, revision, true);
        channels += c.pv.size;
      }
      await setState(conn, revision, id);
      return { channels, rows };
    });
  }

  /** Close the connection (waiting for nothing: an open transaction is rolled back by the server). */
  destroy(): void {
    const c = this.conn;
    this.conn = null;
    c?.destroy();
  }

  /** Close the connection politely. */
  async close(): Promise<void> {
    const c = this.conn;
    this.conn = null;
    await c?.end().catch(() => c.destroy());
  }

  private async writeChanges(conn: Connection, changes: RowChanges, revision: number, fresh: boolean): Promise<number> {
    const pvRows: unknown[][] = [];
    const propRows: unknown[][] = [];
    const tagRows: unknown[][] = [];
    const gone: unknown[][] = [];
    for (const [name, row] of changes.pv) {
      if (!fresh) gone.push([name]);
      if (row === null) continue;
      pvRows.push(pvValues(row, revision));
      for (const [k, v] of row.properties) propRows.push([row.name, k, v]);
      for (const t of row.tags) tagRows.push([row.name, t]);
    }
    const iocRows: unknown[][] = [];
    const iocGone: unknown[][] = [];
    for (const [id, row] of changes.ioc) {
      if (row === null) iocGone.push([id]);
      else iocRows.push(iocValues(row));
    }
    if (!fresh) {
      await this.bulk(conn, 'DELETE FROM pv_property WHERE pv_name = ?', gone);
      await this.bulk(conn, 'DELETE FROM pv_tag WHERE pv_name = ?', gone);
      const deleted = [...changes.pv].filter(([, r]) => r === null).map(([n]) => [n]);
      await this.bulk(conn, 'DELETE FROM pv WHERE name = ?', deleted);
      await this.bulk(conn, 'DELETE FROM ioc WHERE id = ?', iocGone);
    }
    await this.bulk(conn, fresh ? PV_INSERT : PV_UPSERT, pvRows);
    await this.bulk(conn, 'INSERT INTO pv_property (pv_name, name, value) VALUES (?, ?, ?)', propRows);
    await this.bulk(conn, 'INSERT INTO pv_tag (pv_name, tag) VALUES (?, ?)', tagRows);
    await this.bulk(conn, fresh ? IOC_INSERT : IOC_UPSERT, iocRows);
    return pvRows.length + propRows.length + tagRows.length + iocRows.length;
  }

  private async bulk(conn: Connection, sql: string, rows: unknown[][]): Promise<void> {
    for (let i = 0; i < rows.length; i += this.batchRows) {
      const part = rows.length <= this.batchRows ? rows : rows.slice(i, i + this.batchRows);
      if (part.length === 1) await conn.query(sql, part[0]);
      else await conn.batch(sql, part);
    }
  }

  private async transaction<T>(what: string, body: (conn: Connection) => Promise<T>): Promise<T> {
    const conn = await this.connection();
    try {
      await conn.beginTransaction();
      const out = await body(conn);
      await conn.commit();
      return out;
    } catch (err) {
      // A failed statement leaves the transaction open: roll back, or drop the connection if that fails too.
      await conn.rollback().catch(() => this.destroy());
      if (!isPvsError(err)) this.destroy();
      throw wrapDbError(err, what);
    }
  }

  private async connection(): Promise<Connection> {
    if (this.conn !== null && this.conn.isValid()) return this.conn;
    this.destroy();
    const t = this.opts.target;
    const base = {
      host: t.host, port: t.port, user: t.user, password: t.password,
      connectTimeout: this.opts.connectTimeoutMs ?? 3000, socketTimeout: this.opts.socketTimeoutMs ?? 30_000,
      bigIntAsNumber: true, insertIdAsNumber: true, dateStrings: true,
    };
    let conn: Connection;
    try {
      conn = await mariadb.createConnection({ ...base, database: t.database });
    } catch (err) {
      // ER_BAD_DB_ERROR: create the database, then connect to it.
      if ((err as { errno?: number }).errno !== 1049) throw wrapDbError(err, `connect to ${t.host}:${t.port}`);
      try {
        const admin = await mariadb.createConnection(base);
        try {
          await admin.query(`CREATE DATABASE IF NOT EXISTS \`${t.database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
        } finally {
          await admin.end();
        }
        conn = await mariadb.createConnection({ ...base, database: t.database });
      } catch (e) {
        throw wrapDbError(e, `create database ${t.database}`);
      }
    }
    conn.on('error', (err: Error) => {
      // socketTimeout also ends a connection that was merely idle that long (a quiet directory): not worth a warning,
      // the next write connects again. Any other error (MariaDB gone, network) is.
      if ((err as { errno?: number }).errno === 45026 /* ER_SOCKET_TIMEOUT */) this.opts.log.debug({ err: err.message }, 'idle mariadb connection closed');
      else this.opts.log.warn({ err: err.message }, 'mariadb connection error');
    });
    try {
      await conn.query(`SET SESSION idle_transaction_timeout = ${Math.max(1, Math.round(this.opts.idleTransactionTimeoutS ?? 10))},
        innodb_lock_wait_timeout = ${Math.max(1, Math.round(this.opts.lockWaitTimeoutS ?? 20))}, time_zone = '+00:00'`);
    } catch (err) {
      conn.destroy();
      throw wrapDbError(err, 'session setup');
    }
    this.conn = conn;
    return conn;
  }
}

async function lockState(conn: Connection, id: WriterIdentity): Promise<SyncState> {
  const st = stateOf(await conn.query('SELECT revision, fencing_token, writer FROM sync_state WHERE id = 1 FOR UPDATE'));
  if (st.fencingToken > id.token) {
    await conn.rollback();
    throw new PvsError('PVS_SYNC_FENCED', `sync_state.fencing_token is ${st.fencingToken} (writer ${st.writer}), newer than this `
      + `writer's token ${id.token}: a newer writer owns the mirror`);
  }
  return st;
}

async function setState(conn: Connection, revision: number, id: WriterIdentity): Promise<void> {
  await conn.query('UPDATE sync_state SET revision = ?, fencing_token = ?, writer = ?, updated_at = UTC_TIMESTAMP(3) WHERE id = 1',
    [revision, id.token, id.writer.slice(0, 255)]);
}

function stateOf(rows: unknown): SyncState {
  const r = (rows as { revision: number | bigint; fencing_token: number | bigint; writer: string }[])[0];
  if (r === undefined) throw new PvsError('PVS_MARIADB_UNAVAILABLE', 'sync_state has no row 1 (was it deleted by hand?)');
  return { revision: Number(r.revision), fencingToken: Number(r.fencing_token), writer: r.writer };
}

function pvValues(r: PvRow, revision: number): unknown[] {
  return [r.name, r.iocId, r.recordType, r.description, r.status, r.aliasOf, r.archive, r.sourceFile, r.sourceLine, revision];
}

function iocValues(r: IocRow): unknown[] {
  return [r.id, r.name, r.host, r.ip, r.status, r.records, r.lastUploadAt];
}
