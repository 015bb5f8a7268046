/**
 * `pvsync db up | down | status | url`: run a local MariaDB server (Debian's mariadbd) as a background process whose
 * data, socket, pid file, log and account live in `<state-dir>/mariadb/` (--state-dir, else PVSYNC_STATE_DIR, else
 * ./.state), the way `pvsync cluster` runs etcd. For the demo and for operators trying the archiver side; production
 * points `pvsync archiver-sync --db` at its own server.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { findMariadb } from '../../adapters/local-mariadb/binaries.js';
import { LocalMariadb, endpointUrl, type LocalMariadbState } from '../../adapters/local-mariadb/local-mariadb.js';
import { PvsError } from '../../core/errors.js';
import { rootLogger } from '../logger.js';
import { PORT, numberOption } from '../option-values.js';
import { resolveStateDir } from '../options.js';

interface DbOpts {
  readonly stateDir?: string;
  readonly port?: number;
  readonly json?: boolean;
  readonly database?: string;
}

/** The local server of a state dir (`<state-dir>/mariadb`); `port` applies when it is first created. */
export async function openLocalMariadb(opts: { stateDir?: string | undefined; port?: number | undefined }): Promise<LocalMariadb> {
  const binaries = await findMariadb(process.env['PATH'] ?? '');
  const log = rootLogger('pvsync').child({ component: 'mariadb' });
  return new LocalMariadb(join(resolveStateDir(opts.stateDir), 'mariadb'), { binaries, log, isRoot: process.getuid?.() === 0, ...(opts.port === undefined ? {} : { port: opts.port }) });
}

function common(cmd: Command): Command {
  return cmd.option('--state-dir <dir>', 'where data, socket, pid file and log live (env PVSYNC_STATE_DIR, default .state)');
}

/** Register `pvsync db` on the program. */
export function register(program: Command): void {
  const db = program.command('db').description('run a local MariaDB server for the relational mirror (pvsync archiver-sync)');

  common(db.command('up').description('initialize (first time) and start the server in the background, wait until it answers'))
    .addOption(numberOption('--port <port>', 'TCP port on 127.0.0.1 when the server is first created (default 3306)', PORT))
    .action(async (opts: DbOpts) => {
      const m = await openLocalMariadb({ stateDir: opts.stateDir, port: opts.port });
      const e = await m.up();
      process.stdout.write(`MariaDB is up on ${e.host}:${e.port}, state in ${m.dir}\n`
        + `use it: pvsync archiver-sync --db ${endpointUrl(e, 'pvsync')}\n`);
    });

  common(db.command('down').description('stop the server cleanly (data is kept)'))
    .action(async (opts: DbOpts) => {
      const m = await openLocalMariadb({ stateDir: opts.stateDir });
      await m.down();
      process.stdout.write(`MariaDB is down (data kept in ${m.dir})\n`);
    });

  common(db.command('status').description('pid, liveness and whether the server answers'))
    .option('--json', 'print JSON')
    .action(async (opts: DbOpts) => {
      const st = await (await openLocalMariadb({ stateDir: opts.stateDir })).status();
      process.stdout.write(opts.json === true ? `${JSON.stringify(st, null, 2)}\n` : formatDbStatus(st));
      // Scripts can test `pvsync db status` for a server that answers.
      if (!st.answering) process.exitCode = 1;
    });

  common(db.command('url').description('print the mariadb:// URL of the local server (with its password)'))
    .option('--database <name>', 'database to name in the URL', 'pvsync')
    .action(async (opts: DbOpts) => {
      const e = await (await openLocalMariadb({ stateDir: opts.stateDir })).endpoint();
      if (e === undefined) throw new PvsError('PVS_MARIADB', 'no local MariaDB in this state dir yet: run `pvsync db up` first');
      process.stdout.write(`${endpointUrl(e, opts.database ?? 'pvsync')}\n`);
    });
}

/** Human-readable status lines. */
export function formatDbStatus(st: LocalMariadbState): string {
  const where = st.endpoint === null ? '-' : `${st.endpoint.host}:${st.endpoint.port}`;
  return `MariaDB in ${st.dir}: ${st.alive ? `running (pid ${st.pid ?? '?'})` : 'not running'}, `
    + `${st.answering ? 'answering' : 'not answering'} on ${where}\n`;
}
