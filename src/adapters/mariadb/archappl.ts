/**
 * The Archiver Appliance's own tables in the shared `archappl` database (domain.md §6; the appliance's
 * archappl_mysql.sql): PVTypeInfo, PVAliases, ArchivePVRequests, ExternalDataServers. Used by the stand-in appliance
 * (load at start, write-through) and by the reconciler (archive requests while no appliance is active).
 */
import mariadb, { type Pool, type PoolConnection } from 'mariadb';
import { encodeTypeInfo, encodeUserParams, type UserParams } from '../../core/archiver/appliance-rows.js';
import type { RowEffect } from '../../core/archiver/sim-appliance.js';
import { PvsError, messageOf } from '../../core/errors.js';

const TABLES = [
  `CREATE TABLE IF NOT EXISTS PVTypeInfo (
    pvName VARCHAR(255) NOT NULL PRIMARY KEY, typeInfoJSON MEDIUMTEXT NOT NULL,
    last_modified TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP) ENGINE=InnoDB`,
  `CREATE TABLE IF NOT EXISTS PVAliases (
    pvName VARCHAR(255) NOT NULL PRIMARY KEY, realName VARCHAR(256) NOT NULL,
    last_modified TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP) ENGINE=InnoDB`,
  `CREATE TABLE IF NOT EXISTS ArchivePVRequests (
    pvName VARCHAR(255) NOT NULL PRIMARY KEY, userParams MEDIUMTEXT NOT NULL,
    last_modified TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP) ENGINE=InnoDB`,
  `CREATE TABLE IF NOT EXISTS ExternalDataServers (
    serverid VARCHAR(255) NOT NULL PRIMARY KEY, serverinfo MEDIUMTEXT NOT NULL,
    last_modified TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP) ENGINE=InnoDB`,
];

// Rows per multi-row statement (well under max_allowed_packet for 255-character names).
const ROWS_PER_STATEMENT = 1000;

/** A raw row of PVTypeInfo, ArchivePVRequests or PVAliases. */
export interface NameValueRow {
  readonly name: string;
  readonly value: string;
}

const UPSERT: Readonly<Record<string, string>> = {
  putTypeInfo: 'INSERT INTO PVTypeInfo (pvName, typeInfoJSON) VALUES # ON DUPLICATE KEY UPDATE typeInfoJSON = VALUES(typeInfoJSON)',
  putRequest: 'INSERT INTO ArchivePVRequests (pvName, userParams) VALUES # ON DUPLICATE KEY UPDATE userParams = VALUES(userParams)',
  putAlias: 'INSERT INTO PVAliases (pvName, realName) VALUES # ON DUPLICATE KEY UPDATE realName = VALUES(realName)',
};
const DELETE: Readonly<Record<string, string>> = {
  deleteTypeInfo: 'DELETE FROM PVTypeInfo WHERE pvName IN #',
  deleteRequest: 'DELETE FROM ArchivePVRequests WHERE pvName IN #',
  deleteAlias: 'DELETE FROM PVAliases WHERE pvName IN #',
};

function pairOf(e: RowEffect): [string, string] | string {
  switch (e.kind) {
    case 'putTypeInfo': return [e.info.pvName, encodeTypeInfo(e.info)];
    case 'putRequest': return [e.pvName, encodeUserParams(e.params)];
    case 'putAlias': return [e.alias, e.realName];
    case 'deleteTypeInfo': case 'deleteRequest': return e.pvName;
    case 'deleteAlias': return e.alias;
  }
}

// One statement for a run of effects of one kind (in order: a later put of the same name wins in an upsert).
async function applyRun(c: PoolConnection, run: readonly RowEffect[]): Promise<void> {
  const kind = run[0]?.kind;
  if (kind === undefined) return;
  const rows = run.map(pairOf);
  const upsert = UPSERT[kind];
  if (upsert !== undefined) {
    await c.query(upsert.replace('#', rows.map(() => '(?, ?)').join(', ')), rows.flat());
  } else {
    await c.query((DELETE[kind] ?? '').replace('#', `(${rows.map(() => '?').join(', ')})`), rows);
  }
}

function dbError(what: string, err: unknown): PvsError {
  return new PvsError('PVS_APPLIANCE', `archappl database: ${what}: ${messageOf(err)}`, { retryable: true, cause: err });
}

/** The appliance's tables over a small pool; `open` creates the database and tables when missing. */
export class ArchapplStore {
  private constructor(private readonly pool: Pool, readonly database: string) {}

  /** Connect to `url` (mariadb://user:pass@host:port/[db]); `database` (default "archappl") is created if absent. */
  static async open(url: string, database = 'archappl', connectTimeoutMs = 3000): Promise<ArchapplStore> {
    let u: URL;
    try {
      u = new URL(url);
    } catch (err) {
      throw new PvsError('PVS_CONFIG', `--db ${url}: not a URL (mariadb://user:password@host:port/)`, { cause: err });
    }
    if (u.protocol !== 'mariadb:' && u.protocol !== 'mysql:') {
      throw new PvsError('PVS_CONFIG', `--db ${url}: the scheme must be mariadb://`);
    }
    if (!/^[A-Za-z0-9_]{1,64}$/.test(database)) throw new PvsError('PVS_CONFIG', `database name ${database} is not a plain identifier`);
    const base = {
      host: u.hostname, port: u.port === '' ? 3306 : Number(u.port), user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password), connectTimeout: connectTimeoutMs,
    };
    try {
      const c = await mariadb.createConnection(base);
      try {
        await c.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4`);
      } finally {
        await c.end();
      }
    } catch (err) {
      throw dbError(`cannot reach ${u.host}`, err);
    }
    const pool = mariadb.createPool({ ...base, database, connectionLimit: 3, acquireTimeout: connectTimeoutMs * 2 });
    const store = new ArchapplStore(pool, database);
    try {
      for (const ddl of TABLES) await pool.query(ddl);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw dbError('cannot create the appliance tables', err);
    }
    return store;
  }

  private async rows(sql: string): Promise<NameValueRow[]> {
    try {
      const r: { name: string; value: string }[] = await this.pool.query(sql);
      return r.map((x) => ({ name: x.name, value: x.value }));
    } catch (err) {
      throw dbError('read failed', err);
    }
  }

  /** Every PVTypeInfo row (the caller filters by applianceIdentity, as the appliance does). */
  typeInfos(): Promise<NameValueRow[]> {
    return this.rows('SELECT pvName AS name, typeInfoJSON AS value FROM PVTypeInfo');
  }

  /** Every PVAliases row (value = realName). */
  aliases(): Promise<NameValueRow[]> {
    return this.rows('SELECT pvName AS name, realName AS value FROM PVAliases');
  }

  /** Every ArchivePVRequests row (value = userParams JSON). */
  requests(): Promise<NameValueRow[]> {
    return this.rows('SELECT pvName AS name, userParams AS value FROM ArchivePVRequests');
  }

  /** Apply the stand-in's row effects in one transaction (write-through); runs of one kind as multi-row statements. */
  async apply(effects: readonly RowEffect[]): Promise<void> {
    if (effects.length === 0) return;
    await this.tx(async (c) => {
      for (let i = 0; i < effects.length;) {
        const kind = effects[i]?.kind;
        let j = i;
        while (j < effects.length && j - i < ROWS_PER_STATEMENT && effects[j]?.kind === kind) j++;
        await applyRun(c, effects.slice(i, j));
        i = j;
      }
    });
  }

  /**
   * Queue archive requests for the appliance's next start (no appliance is active): one multi-row upsert per
   * thousand rows, in one transaction. Rows already queued are overwritten with the newer parameters.
   */
  async queueRequests(reqs: readonly { readonly pvName: string; readonly params: UserParams }[]): Promise<void> {
    if (reqs.length === 0) return;
    await this.tx(async (c) => {
      for (let i = 0; i < reqs.length; i += ROWS_PER_STATEMENT) {
        const chunk = reqs.slice(i, i + ROWS_PER_STATEMENT);
        await c.query(`INSERT INTO ArchivePVRequests (pvName, userParams) VALUES ${chunk.map(() => '(?, ?)').join(', ')}
          ON DUPLICATE KEY UPDATE userParams = VALUES(userParams)`, chunk.flatMap((r) => [r.pvName, encodeUserParams(r.params)]));
      }
    });
  }

  private async tx(body: (c: PoolConnection) => Promise<void>): Promise<void> {
    let c: PoolConnection;
    try {
      c = await this.pool.getConnection();
    } catch (err) {
      throw dbError('no connection', err);
    }
    try {
      await c.beginTransaction();
      await body(c);
      await c.commit();
    } catch (err) {
      await c.rollback().catch(() => undefined);
      throw dbError('write failed', err);
    } finally {
      await c.release();
    }
  }

  /** Run raw SQL (tests and tools). */
  query<T>(sql: string, values?: readonly unknown[]): Promise<T> {
    return this.pool.query(sql, values as unknown[]) as Promise<T>;
  }

  /** Close the pool. */
  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
