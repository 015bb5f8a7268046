/**
 * Ordered start and stop hooks of an archiver node. Start hooks run in order and stop at the first failure; stop
 * hooks all run, in order, whatever fails (a half-stopped node must still stop the rest). Output is logged.
 */
import type { Logger } from 'pino';
import { runCommand, type CommandResult } from './run-command.js';

/** One hook's outcome. */
export interface HookOutcome extends CommandResult {
  readonly cmd: string;
}

/** Options of a hook run. */
export interface HookRunOptions {
  readonly timeoutMs: number;
  readonly env: Readonly<Record<string, string>>;
  readonly log: Logger;
  readonly signal?: AbortSignal;
}

async function runOne(phase: 'start' | 'stop', cmd: string, index: number, opts: HookRunOptions): Promise<HookOutcome> {
  const log = opts.log.child({ hook: phase, index });
  log.info({ cmd }, 'hook started');
  const res = await runCommand(cmd, {
    timeoutMs: opts.timeoutMs, env: opts.env,
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    onLine: (stream, line) => log.info({ stream, line }, 'hook output'),
  });
  const fields = { cmd, code: res.code, signal: res.signal, timedOut: res.timedOut, aborted: res.aborted, ms: res.durationMs };
  if (res.ok) log.info(fields, 'hook finished');
  else log.error(fields, 'hook failed');
  return { ...res, cmd };
}

/** Run start hooks in order; stops at the first failure. `ok` is true only when every hook succeeded. */
export async function runStartHooks(cmds: readonly string[], opts: HookRunOptions): Promise<{ ok: boolean; outcomes: HookOutcome[] }> {
  const outcomes: HookOutcome[] = [];
  for (const [i, cmd] of cmds.entries()) {
    const o = await runOne('start', cmd, i, opts);
    outcomes.push(o);
    if (!o.ok) return { ok: false, outcomes };
  }
  return { ok: true, outcomes };
}

/** Run every stop hook in order, whatever fails. `ok` is true when all succeeded. */
export async function runStopHooks(cmds: readonly string[], opts: HookRunOptions): Promise<{ ok: boolean; outcomes: HookOutcome[] }> {
  const outcomes: HookOutcome[] = [];
  for (const [i, cmd] of cmds.entries()) outcomes.push(await runOne('stop', cmd, i, opts));
  return { ok: outcomes.every((o) => o.ok), outcomes };
}
