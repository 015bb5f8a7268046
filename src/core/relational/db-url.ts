/** `mariadb://user:password@host:port/database` (what `pvsync archiver-sync --db` takes), parsed and checked. Pure. */
import { PvsError } from '../errors.js';

/** Where the relational mirror lives. */
export interface DbTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

/** The default database of the relational mirror. */
export const DEFAULT_DATABASE = 'pvsync';

/**
 * Parse a `mariadb://` (or `mysql://`) URL; the database defaults to `pvsync`, the port to 3306. A bad URL is a
 * PVS_CONFIG error naming `--db` (the password is never repeated in the message).
 */
export function parseDbUrl(raw: string): DbTarget {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new PvsError('PVS_CONFIG', '--db: not a URL; expected mariadb://user:password@host:port/database');
  }
  if (u.protocol !== 'mariadb:' && u.protocol !== 'mysql:') {
    throw new PvsError('PVS_CONFIG', `--db: scheme ${u.protocol} is not mariadb: (expected mariadb://user:password@host:port/database)`);
  }
  if (u.hostname === '') throw new PvsError('PVS_CONFIG', '--db: no host');
  if (u.username === '') throw new PvsError('PVS_CONFIG', '--db: no user (mariadb://user:password@host:port/database)');
  const port = u.port === '' ? 3306 : Number(u.port);
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || DEFAULT_DATABASE;
  if (!/^[A-Za-z0-9_$]{1,64}$/.test(database)) {
    throw new PvsError('PVS_CONFIG', `--db: database name ${JSON.stringify(database)} must be 1-64 letters, digits, _ or $`);
  }
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port, user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password), database,
  };
}

/** The URL without its password, for logs and status pages. */
export function redactedUrl(t: DbTarget): string {
  return `mariadb://${encodeURIComponent(t.user)}@${t.host}:${t.port}/${t.database}`;
}
