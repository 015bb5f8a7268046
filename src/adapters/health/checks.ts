/**
 * Health checks of an archiver node, like a cluster manager's: a process alive (from a pid file), an HTTP endpoint
 * answering 2xx (the appliance's `/mgmt/bpl/ping`), free disk space on the data path, and a custom command.
 * Each check resolves to a result and never throws.
 */
import { readFile, statfs } from 'node:fs/promises';
import { kill } from 'node:process';
import { messageOf } from '../../core/errors.js';

/** The outcome of one check run. */
export interface CheckResult {
  readonly ok: boolean;
  readonly detail: string;
}

/** A runnable health check. */
export interface HealthCheck {
  readonly name: string;
  run(): Promise<CheckResult>;
}

/** Alive when the pid in `pidFile` names a running process (signal 0 succeeds, or EPERM: exists, not ours). */
export function processAliveCheck(pidFile: string): HealthCheck {
  return {
    name: `pid:${pidFile}`,
    async run() {
      let pid: number;
      try {
        pid = Number.parseInt((await readFile(pidFile, 'utf8')).trim(), 10);
      } catch (err) {
        return { ok: false, detail: `cannot read pid file: ${messageOf(err)}` };
      }
      if (!Number.isInteger(pid) || pid <= 0) return { ok: false, detail: 'pid file holds no pid' };
      try {
        kill(pid, 0);
        return { ok: true, detail: `pid ${pid} alive` };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EPERM') return { ok: true, detail: `pid ${pid} alive (not ours)` };
        return { ok: false, detail: `pid ${pid} not running` };
      }
    },
  };
}

/** Healthy when GET `url` answers 2xx within `timeoutMs`. */
export function httpCheck(url: string, timeoutMs: number): HealthCheck {
  return {
    name: `http:${url}`,
    async run() {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        await res.arrayBuffer().catch(() => undefined);
        return res.ok ? { ok: true, detail: `HTTP ${res.status}` } : { ok: false, detail: `HTTP ${res.status}` };
      } catch (err) {
        return { ok: false, detail: messageOf(err) };
      }
    },
  };
}

/** Healthy when the file system of `path` has at least `minFreeBytes` available to unprivileged users. */
export function diskFreeCheck(path: string, minFreeBytes: number): HealthCheck {
  return {
    name: `disk:${path}`,
    async run() {
      try {
        const s = await statfs(path);
        const free = s.bavail * s.bsize;
        return { ok: free >= minFreeBytes, detail: `${free} bytes free (min ${minFreeBytes})` };
      } catch (err) {
        return { ok: false, detail: messageOf(err) };
      }
    },
  };
}

/** Runs a shell command with a time limit (the hooks adapter's runCommand, injected by the composition root). */
export type CommandRunner = (cmd: string, opts: {
  readonly timeoutMs: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly onLine?: (stream: 'stdout' | 'stderr', line: string) => void;
}) => Promise<{ readonly ok: boolean; readonly code: number | null; readonly signal: string | null; readonly timedOut: boolean }>;

/** Healthy when `cmd` exits 0 within `timeoutMs` (its last output line becomes the detail). */
export function commandCheck(cmd: string, timeoutMs: number, runCommand: CommandRunner,
  env?: Readonly<Record<string, string>>): HealthCheck {
  return {
    name: `cmd:${cmd}`,
    async run() {
      let last = '';
      const res = await runCommand(cmd, {
        timeoutMs, ...(env === undefined ? {} : { env }), onLine: (_s, line) => { if (line.trim() !== '') last = line.trim(); },
      });
      const how = res.timedOut ? 'timed out' : `exit ${res.code ?? res.signal ?? '?'}`;
      return { ok: res.ok, detail: last === '' ? how : `${how}: ${last.slice(0, 200)}` };
    },
  };
}
