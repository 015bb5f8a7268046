/**
 * The versioned schema of the relational mirror (a public contract, docs/archiver-sync.md). Migrations are applied in
 * order by the writer at takeover, under a named lock so two writers never migrate at once, and each is recorded in
 * `schema_migrations`. A database migrated by a newer pvsync (an unknown version) is refused, never downgraded.
 * Never edit a released migration: add the next one.
 */
import type { Connection } from 'mariadb';
import { PvsError } from '../../core/errors.js';

/** One schema change. Statements run in order (DDL commits implicitly in MariaDB, so each must be idempotent). */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

const TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'pv, pv_property, pv_tag, ioc, sync_state',
    statements: [
      `CREATE TABLE IF NOT EXISTS pv (
        name VARCHAR(500) NOT NULL PRIMARY KEY,
        ioc_id VARCHAR(255) NULL,
        record_type VARCHAR(255) NULL,
        description TEXT NULL,
        status ENUM('Active','Inactive') NULL,
        alias_of VARCHAR(500) NULL,
        archive VARCHAR(1024) NULL,
        source_file VARCHAR(1024) NULL,
        source_line INT NULL,
        updated_revision BIGINT NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        KEY pv_ioc (ioc_id),
        KEY pv_alias_of (alias_of)
      ) ${TABLE}`,
      `CREATE TABLE IF NOT EXISTS pv_property (
        pv_name VARCHAR(500) NOT NULL,
        name VARCHAR(200) NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (pv_name, name),
        KEY pv_property_name (name)
      ) ${TABLE}`,
      `CREATE TABLE IF NOT EXISTS pv_tag (
        pv_name VARCHAR(500) NOT NULL,
        tag VARCHAR(200) NOT NULL,
        PRIMARY KEY (pv_name, tag),
        KEY pv_tag_tag (tag)
      ) ${TABLE}`,
      `CREATE TABLE IF NOT EXISTS ioc (
        id VARCHAR(255) NOT NULL PRIMARY KEY,
        name VARCHAR(255) NOT NULL,
        host VARCHAR(255) NOT NULL,
        ip VARCHAR(255) NULL,
        status ENUM('Active','Inactive') NOT NULL,
        records INT NOT NULL,
        last_upload_at DATETIME(3) NULL
      ) ${TABLE}`,
      `CREATE TABLE IF NOT EXISTS sync_state (
        id TINYINT NOT NULL PRIMARY KEY CHECK (id = 1),
        revision BIGINT NOT NULL,
        fencing_token BIGINT NOT NULL,
        writer VARCHAR(255) NOT NULL,
        updated_at DATETIME(3) NOT NULL
      ) ${TABLE}`,
      `INSERT IGNORE INTO sync_state (id, revision, fencing_token, writer, updated_at) VALUES (1, 0, 0, '', UTC_TIMESTAMP(3))`,
    ],
  },
];

/** The newest schema version this pvsync knows. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/** Apply the missing migrations on `conn` (connected to the mirror's database); returns the versions applied. */
export async function migrate(conn: Connection, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const locked = await conn.query(`SELECT GET_LOCK('pvsync_schema_migrations', 30) AS ok`) as { ok: number | bigint | null }[];
  if (Number(locked[0]?.ok ?? 0) !== 1) {
    throw new PvsError('PVS_MARIADB_UNAVAILABLE', 'could not take the schema migration lock within 30 s', { retryable: true });
  }
  try {
    await conn.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INT NOT NULL PRIMARY KEY,
      name VARCHAR(255) NOT NULL,
      applied_at DATETIME(3) NOT NULL
    ) ${TABLE}`);
    const rows = await conn.query('SELECT version FROM schema_migrations') as { version: number }[];
    const have = new Set(rows.map((r) => Number(r.version)));
    const newest = Math.max(0, ...have);
    const known = Math.max(0, ...migrations.map((m) => m.version));
    if (newest > known) {
      throw new PvsError('PVS_CONFIG', `the relational mirror's schema is at version ${newest}, newer than this pvsync knows `
        + `(${known}): upgrade pvsync before running archiver-sync on it`);
    }
    const applied: number[] = [];
    for (const m of migrations) {
      if (have.has(m.version)) continue;
      for (const sql of m.statements) await conn.query(sql);
      await conn.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, UTC_TIMESTAMP(3))', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  } finally {
    await conn.query(`SELECT RELEASE_LOCK('pvsync_schema_migrations')`).catch(() => undefined);
  }
}
