/**
 * Helpers for integration tests on the MariaDB server that test/global-setup.ts starts: its endpoint, a database of
 * a test's own (so tests never see each other's tables), and the server itself to kill or restart. Tests that take
 * the server down should rather start their own (`startTestMariadb` in ./start-mariadb.ts).
 */
import { randomBytes } from 'node:crypto';
import mariadb from 'mariadb';
import { inject } from 'vitest';
import { endpointUrl, type LocalMariadb } from '../../src/adapters/local-mariadb/local-mariadb.js';
import { attachMariadb, type TestMariadbInfo } from './start-mariadb.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The shared MariaDB server of the integration project. */
    mariadb: TestMariadbInfo;
  }
}

/** Host, port, user, password (and directory) of the shared server. */
export function mariadbInfo(): TestMariadbInfo {
  return inject('mariadb');
}

/** The shared server as a LocalMariadb: `stop('SIGKILL')`, `up()`, `signal('SIGSTOP')` act on the real process. */
export function testMariadb(info: TestMariadbInfo = mariadbInfo()): LocalMariadb {
  return attachMariadb(info);
}

/** A database of a test's own, its URL for `--db`, and how to drop it. */
export interface TestDatabase {
  readonly database: string;
  /** `mariadb://user:pass@host:port/<database>` */
  readonly url: string;
  drop(): Promise<void>;
}

/** Create a fresh database such as `t_mirror_3f9a2c1b` on the shared server (or `info`'s). */
export async function createTestDatabase(name: string, info: TestMariadbInfo = mariadbInfo()): Promise<TestDatabase> {
  const database = `t_${name.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40)}_${randomBytes(4).toString('hex')}`;
  const run = async (sql: string): Promise<void> => {
    const conn = await mariadb.createConnection({ host: info.host, port: info.port, user: info.user, password: info.password, connectTimeout: 5_000 });
    try {
      await conn.query(sql);
    } finally {
      await conn.end();
    }
  };
  await run(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  return { database, url: endpointUrl(info, database), drop: () => run(`DROP DATABASE IF EXISTS \`${database}\``) };
}
