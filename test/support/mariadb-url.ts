/**
 * The MariaDB server of the integration run, as a mariadb:// URL, and a fresh database name per test so that
 * tests never see each other's rows.
 */
import { randomBytes } from 'node:crypto';

/** The suite's MariaDB URL (mariadb://user:password@host:port/). */
export function testMariadbUrl(): string {
  const url = process.env.PVSYNC_TEST_MARIADB_URL;
  if (url === undefined || url === '') throw new Error('no MariaDB for the integration run (PVSYNC_TEST_MARIADB_URL)');
  return url;
}

/** A database name of its own, e.g. `archappl_t_3f9a2c1b`. */
export function uniqueDatabase(prefix: string): string {
  return `${prefix}_t_${randomBytes(4).toString('hex')}`;
}
