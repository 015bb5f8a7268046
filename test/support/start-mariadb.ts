/**
 * Start a throwaway local MariaDB server for tests: a fresh data dir in a temp dir, a free port below 32768, a small
 * buffer pool. No vitest imports, so global setup (main process) and test files (e.g. an outage test that kills its
 * own server) can both use it.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findMariadb, type MariadbBinaries } from '../../src/adapters/local-mariadb/binaries.js';
import { LocalMariadb, type MariadbEndpoint } from '../../src/adapters/local-mariadb/local-mariadb.js';
import { freePorts } from './free-ports.js';
import { stopOnce } from './stop-once.js';

/** What a test process needs to reach (and attach to) a running test server; plain data, crosses to workers. */
export interface TestMariadbInfo extends MariadbEndpoint {
  /** The server's directory (data/, pid file, log): `attachMariadb(info)` can stop, kill and restart it. */
  readonly dir: string;
  readonly binaries: MariadbBinaries;
}

/** A started test server and how to get rid of it. */
export interface StartedMariadb {
  readonly info: TestMariadbInfo;
  readonly server: LocalMariadb;
  /** SIGKILL the server (a test server needs no clean shutdown) and delete its directory; safe to call twice. */
  stop(): Promise<void>;
}

/** Flags that keep a test server small: its data is thrown away after the run. */
export const TEST_SERVER_ARGS = ['--innodb-buffer-pool-size=64M', '--innodb-log-file-size=32M', '--max-connections=300'];

/** A LocalMariadb for a running test server's directory (to kill, freeze or restart it). */
export function attachMariadb(info: TestMariadbInfo): LocalMariadb {
  return new LocalMariadb(info.dir, {
    binaries: info.binaries, isRoot: process.getuid?.() === 0, extraArgs: TEST_SERVER_ARGS, stopTimeoutMs: 10_000,
  });
}

/**
 * Start a server in a new temp dir on a free port; retried on another port when one was taken meanwhile. The server
 * is SIGKILLed when this process exits without calling stop.
 */
export async function startTestMariadb(label: string): Promise<StartedMariadb> {
  const binaries = await findMariadb(process.env['PATH'] ?? '');
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), `pvsync-${label}-mariadb-`));
    const [port] = await freePorts(1);
    const server = new LocalMariadb(dir, {
      binaries, isRoot: process.getuid?.() === 0, port: port ?? 0, password: 'pvsync-test-pw', extraArgs: TEST_SERVER_ARGS,
    });
    const stop = stopServer(server);
    try {
      const endpoint = await server.up();
      return { info: { ...endpoint, dir: server.dir, binaries }, server, stop };
    } catch (err) {
      lastError = err;
      await stop();
    }
  }
  throw lastError;
}

function stopServer(server: LocalMariadb): () => Promise<void> {
  return stopOnce({
    stop: () => server.stop('SIGKILL'),
    killSync: () => {
      try {
        const pid = Number.parseInt(readFileSync(server.pidPath, 'utf8'), 10);
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(server.dataDir)) process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    },
    dir: server.dir,
  });
}
