/**
 * The running uploader's re-reads of its IOC configuration: every `intervalMs` while the last reading had files
 * it could not read (an NFS hiccup heals by itself), and at once on request (SIGHUP) whatever the last reading
 * was. A reading that differs from the one in force is handed to `apply`; an unchanged one is dropped.
 */
import type { Logger } from 'pino';

/** What the re-reader reads and where it hands a changed reading. */
export interface ConfigRereaderOptions<C> {
  /** Time between re-reads while the configuration has unreadable files (ms). */
  readonly intervalMs: number;
  /** Read the configuration afresh; may throw (the startup script itself unreadable): the reading in force stays. */
  readonly read: () => C;
  /** Whether a reading has files that could not be read (then the next timed re-read is due). */
  readonly incomplete: (c: C) => boolean;
  /** Whether two readings would publish the same thing. */
  readonly same: (a: C, b: C) => boolean;
  /** Publish a changed reading; returns false to refuse it (`--strict` with errors), keeping the one in force. */
  readonly apply: (c: C, reason: string) => boolean;
  readonly log: Logger;
}

/** Re-reads on a timer while incomplete and on demand; `stop()` cancels the timer. */
export class ConfigRereader<C> {
  private current: C;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  /** Readings that threw, for tests and logs. */
  failures = 0;

  constructor(initial: C, private readonly opts: ConfigRereaderOptions<C>) {
    this.current = initial;
    this.schedule(opts.incomplete(initial));
  }

  /** The reading in force. */
  get configuration(): C {
    return this.current;
  }

  /** Re-read now (SIGHUP, or the timer), apply the reading if it changed, and decide on the next timed re-read. */
  reread(reason: string): void {
    if (this.stopped) return;
    this.clear();
    let next: C;
    try {
      next = this.opts.read();
    } catch (err) {
      this.failures++;
      this.opts.log.error({ reason, err: err instanceof Error ? err.message : String(err) },
        'IOC configuration cannot be re-read: the configuration in force stays');
      this.schedule(true);
      return;
    }
    const incomplete = this.opts.incomplete(next);
    if (this.opts.same(next, this.current)) {
      this.opts.log.info({ reason, incomplete }, 'IOC configuration re-read: unchanged');
    } else if (this.opts.apply(next, reason)) {
      this.current = next;
      this.opts.log.info({ reason, incomplete }, 'IOC configuration re-read: changed, publishing the difference');
    } else {
      this.opts.log.warn({ reason, incomplete }, 'IOC configuration re-read: changed but refused, the configuration in force stays');
    }
    this.schedule(incomplete);
  }

  /** No more re-reads. */
  stop(): void {
    this.stopped = true;
    this.clear();
  }

  private schedule(due: boolean): void {
    if (!due || this.stopped || this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.reread('interval');
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  private clear(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
