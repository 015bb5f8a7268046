import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mariadb from 'mariadb';
import { afterAll, describe, expect, it } from 'vitest';
import { findMariadb } from '../../src/adapters/local-mariadb/binaries.js';
import { LocalMariadb, type MariadbEndpoint } from '../../src/adapters/local-mariadb/local-mariadb.js';
import { freePorts } from '../support/free-ports.js';
import { createTestDatabase, mariadbInfo } from '../support/mariadb.js';
import { TEST_SERVER_ARGS } from '../support/start-mariadb.js';

const BIN = fileURLToPath(new URL('../../bin/pvsync.js', import.meta.url));

async function query(e: MariadbEndpoint, sql: string, database?: string): Promise<unknown[]> {
  const conn = await mariadb.createConnection({ host: e.host, port: e.port, user: e.user, password: e.password, connectTimeout: 5_000, ...(database === undefined ? {} : { database }) });
  try {
    return await conn.query(sql) as unknown[];
  } finally {
    await conn.end();
  }
}

describe('the shared test MariaDB', () => {
  it('answers with the provided account and gives each test its own database', async () => {
    const info = mariadbInfo();
    const a = await createTestDatabase('local-a');
    const b = await createTestDatabase('local-b');
    try {
      expect(a.database).not.toBe(b.database);
      expect(a.url).toBe(`mariadb://${info.user}:${info.password}@127.0.0.1:${info.port}/${a.database}`);
      await query(info, 'CREATE TABLE t (x INT PRIMARY KEY)', a.database);
      await query(info, 'INSERT INTO t VALUES (1)', a.database);
      await expect(query(info, 'SELECT * FROM t', b.database)).rejects.toThrow(/doesn't exist/);
    } finally {
      await a.drop();
      await b.drop();
    }
    const dbs = (await query(info, 'SHOW DATABASES')).map((r) => (r as { Database: string }).Database);
    expect(dbs).not.toContain(a.database);
  });
});

describe('pvsync db and LocalMariadb', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('up and status (CLI) → crash (SIGKILL) → up keeps the data → down', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'pvsync-dbcmd-'));
    dirs.push(stateDir);
    const port = (await freePorts(1))[0] ?? 0;
    const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, 'db', ...args, '--state-dir', stateDir], { encoding: 'utf8', env: { ...process.env, PVSYNC_LOG_LEVEL: 'warn' } });
    const up = cli('up', '--port', String(port));
    expect(up.stderr).toBe('');
    expect(up.status).toBe(0);
    expect(up.stdout).toContain(`MariaDB is up on 127.0.0.1:${port}`);
    const server = new LocalMariadb(join(stateDir, 'mariadb'), { binaries: await findMariadb(process.env['PATH'] ?? ''), isRoot: process.getuid?.() === 0, extraArgs: TEST_SERVER_ARGS });
    try {
      const e = await server.endpoint();
      if (e === undefined) throw new Error('no server.json');
      expect(e.port).toBe(port);
      // The URL the command prints reaches the server with its own account.
      expect(up.stdout).toContain(`--db mariadb://${e.user}:${e.password}@127.0.0.1:${port}/pvsync`);
      const st = cli('status', '--json');
      expect(st.status).toBe(0);
      expect(JSON.parse(st.stdout)).toMatchObject({ alive: true, answering: true });
      await query(e, 'CREATE DATABASE keep');
      await query(e, 'CREATE TABLE keep.t (x INT PRIMARY KEY) ENGINE=InnoDB');
      await query(e, 'INSERT INTO keep.t VALUES (42)');

      await server.stop('SIGKILL');
      expect((await server.status()).alive).toBe(false);
      await expect(query(e, 'SELECT 1')).rejects.toThrow();
      await server.up(); // InnoDB crash recovery
      expect(await query(e, 'SELECT x FROM keep.t')).toEqual([{ x: 42 }]);
      // A second up of a running server is a no-op; a taken port is refused by name.
      await server.up();
      const other = new LocalMariadb(await mkdtemp(join(tmpdir(), 'pvsync-dbport-')), { binaries: await findMariadb(''), isRoot: process.getuid?.() === 0, port });
      dirs.push(other.dir);
      await expect(other.up()).rejects.toThrow(new RegExp(`port 127.0.0.1:${port} is in use`));
    } finally {
      await server.down();
    }
    expect(await server.status()).toMatchObject({ alive: false, answering: false });
  });
});
