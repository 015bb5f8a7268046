/**
 * Running one site command (a hook or a health check) through `/bin/sh -c` with a time limit. The command gets its
 * own process group so that a time-out (or an abort) kills everything it started in the foreground; its output is
 * handed over line by line. Completion is the shell's exit, not the end of its output: a hook may leave a daemon
 * running that keeps the pipes open (hooks should redirect a daemon's output).
 */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { kill } from 'node:process';

/** How a command ended. */
export interface CommandResult {
  readonly ok: boolean;
  readonly code: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly aborted: boolean;
  readonly durationMs: number;
}

/** Options of one command run. */
export interface RunCommandOptions {
  readonly timeoutMs: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly signal?: AbortSignal;
  /** Each output line as it arrives. */
  readonly onLine?: (stream: 'stdout' | 'stderr', line: string) => void;
}

/** Run `cmd` with `/bin/sh -c`; never throws for a failing command (the result says how it ended). */
export function runCommand(cmd: string, opts: RunCommandOptions): Promise<CommandResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', cmd], {
      cwd: opts.cwd, env: opts.env === undefined ? undefined : { ...opts.env },
      detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let timedOut = false;
    let aborted = false;
    let done = false;
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) kill(-child.pid, 'SIGKILL');
      } catch { /* already gone */ }
    };
    const timer = setTimeout(() => { timedOut = true; killGroup(); }, opts.timeoutMs);
    const onAbort = (): void => { aborted = true; killGroup(); };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted === true) onAbort();
    for (const name of ['stdout', 'stderr'] as const) {
      let buf = '';
      const stream = child[name];
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buf += chunk;
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          opts.onLine?.(name, buf.slice(0, nl));
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
        }
        if (buf.length > 64 * 1024) { opts.onLine?.(name, buf); buf = ''; }
      });
      stream.on('end', () => { if (buf !== '') opts.onLine?.(name, buf); buf = ''; });
      stream.on('error', () => undefined);
    }
    const finish = (code: number | null, sig: NodeJS.Signals | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      // Daemons left behind keep the pipes open: stop holding the event loop for them.
      (child.stdout as Socket).unref();
      (child.stderr as Socket).unref();
      resolve({
        ok: code === 0 && !timedOut && !aborted, code, signal: sig, timedOut, aborted,
        durationMs: Date.now() - started,
      });
    };
    child.on('exit', finish);
    child.on('error', () => finish(null, null));
  });
}
