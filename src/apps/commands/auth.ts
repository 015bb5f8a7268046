/**
 * `pvsync auth hash-password`: print the scrypt hash of a password for the `--auth-file` of `pvsync serve`. The
 * password is read from standard input (first line), so that it stays out of shell history and process lists.
 */
import type { Command } from 'commander';
import { hashPassword } from '../../adapters/auth/passwords.js';
import { PvsError } from '../../core/errors.js';

async function readFirstLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if ((chunk as Buffer).includes(0x0a)) break;
  }
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

/** Register `pvsync auth` and its subcommands. */
export function register(program: Command): void {
  const auth = program.command('auth').description('users of the write API');
  auth.command('hash-password')
    .description('read a password from stdin and print its scrypt hash for an --auth-file')
    .action(async () => {
      if (process.stdin.isTTY) process.stderr.write('password: ');
      const password = await readFirstLine();
      if (password === '') throw new PvsError('PVS_CONFIG', 'empty password on stdin');
      process.stdout.write(`${await hashPassword(password)}\n`);
    });
}
