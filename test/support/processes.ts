/**
 * Running the real `pvsync` command as a child process in integration tests (the suite builds dist/ first), with
 * its log captured, and waiting for conditions without fixed sleeps.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/pvsync.js', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/apps/cli.js', import.meta.url));

/** A running pvsync process and what it has logged so far. */
export interface PvsyncProcess {
  readonly child: ChildProcess;
  readonly output: string[];
  /** Resolves with the exit code (or signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
}

/** Start `pvsync ARGS…`; fails clearly when dist/ has not been built (`npm run build`). */
export function startPvsync(args: readonly string[], env: Readonly<Record<string, string>> = {}): PvsyncProcess {
  if (!existsSync(DIST)) throw new Error('dist/ is missing: run `npm run build` (npm test does it first)');
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, PVSYNC_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout.on('data', (b: Buffer) => output.push(b.toString()));
  child.stderr.on('data', (b: Buffer) => output.push(b.toString()));
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  return { child, output, exited };
}

/** Poll `cond` every 25 ms until it holds; throws with `what` after `timeoutMs`. */
export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
