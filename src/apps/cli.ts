/**
 * The `pvsync` command-line program: one subcommand per module under ./commands, each registering itself.
 * This and the other composition roots in src/apps are the only places that read process.env or exit.
 */
import { Command, CommanderError } from 'commander';
import { isPvsError } from '../core/errors.js';
import * as cluster from './commands/cluster.js';
import * as parse from './commands/parse.js';
import * as upload from './commands/upload.js';
import * as serve from './commands/serve.js';
import * as archiver from './commands/archiver.js';
import * as demo from './commands/demo.js';
import * as auth from './commands/auth.js';
import * as security from './commands/security.js';
import * as db from './commands/db.js';
import * as archiving from './commands/archiving.js';

/** Build the program with every subcommand registered (tests call this without running it). */
export function buildProgram(): Command {
  const program = new Command('pvsync')
    .description('Fault-tolerant directory of EPICS process variables on etcd')
    .version('0.1.0')
    .showHelpAfterError();
  for (const mod of [cluster, parse, upload, serve, archiver, demo, auth, security, db, archiving]) mod.register(program);
  return program;
}

/** Run the program; an expected error prints `pvsync: CODE: message` and exits 1, never a stack trace. */
export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (isPvsError(err)) {
      process.stderr.write(`pvsync: ${err.code}: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}
