/**
 * How a test gets rid of a server it started (an etcd cluster, a MariaDB): one stop however often it is asked for,
 * its directory removed afterwards, and a synchronous SIGKILL of whatever is left should this process exit first.
 */
import { rm } from 'node:fs/promises';

export interface Stoppable {
  /** Stop the server (gracefully or not). */
  stop(): Promise<void>;
  /** Synchronous last resort, usable in an 'exit' handler: SIGKILL what is still running. */
  killSync(): void;
  /** The server's directory, removed once it is stopped. */
  readonly dir: string;
}

/** The stop of `s`, run once; `s.killSync` runs if this process exits before it, and after it in any case. */
export function stopOnce(s: Stoppable): () => Promise<void> {
  const killOnExit = (): void => s.killSync();
  process.once('exit', killOnExit);
  let stopped = false;
  return async () => {
    if (stopped) return;
    stopped = true;
    try {
      await s.stop();
    } finally {
      s.killSync();
      process.off('exit', killOnExit);
      await rm(s.dir, { recursive: true, force: true });
    }
  };
}
