/**
 * The OS side of one etcd member: its pid file, whether that pid is still our etcd (not a zombie, not a reused pid),
 * signalling it and waiting for it to exit. State lives in files so any process can manage any member.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { kill } from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';

/** The pid recorded in a pid file, or undefined when there is none or it is garbage. */
export async function readPidFile(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
    return Number.isSafeInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Write a pid file atomically (a reader never sees it half written). */
export async function writePidFile(path: string, pid: number): Promise<void> {
  const tmp = `${path}.${pid}.tmp`;
  await writeFile(tmp, `${pid}\n`);
  await rename(tmp, path);
}

/** Remove a pid file; missing is fine. */
export async function removePidFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

/**
 * True when `pid` runs and is the etcd serving `dataDir`. A zombie counts as exited; on Linux a pid reused by
 * another program (its command line lacks our --data-dir) counts as not ours.
 */
export async function isOurEtcd(pid: number, dataDir: string): Promise<boolean> {
  if (!signalReaches(pid)) return false;
  let stat: string;
  let cmdline: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    // No /proc (not Linux) or the process just exited: the signal test is all we have.
    return signalReaches(pid);
  }
  // /proc/PID/stat: "pid (comm) S ..." — the state letter follows the last ")"; Z = zombie, X = dead.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  if (state === 'Z' || state === 'X') return false;
  return cmdline.split('\0').includes(`--data-dir=${dataDir}`);
}

/** Send `signal` to `pid`; false when no such process. */
export function sendSignal(pid: number, signal: NodeJS.Signals): boolean {
  try {
    kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** Poll until `stillRunning()` turns false or `timeoutMs` passes; true when it has exited. */
export async function waitForExit(stillRunning: () => Promise<boolean>, timeoutMs: number, pollMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!(await stillRunning())) return true;
    if (Date.now() >= deadline) return false;
    await sleep(pollMs);
  }
}

function signalReaches(pid: number): boolean {
  try {
    kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
