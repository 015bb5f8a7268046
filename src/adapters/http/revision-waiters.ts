/**
 * Waits for this replica to apply an etcd revision, each with a deadline: a write's read-your-writes and a watch
 * resume from a replica that was ahead. A wait ends when the revision is applied, at its deadline, or at shutdown;
 * no waiter outlives it (a `Last-Event-ID` far in the future cannot leave one behind).
 */

interface Waiter {
  readonly revision: number;
  readonly done: (reached: boolean) => void;
}

/** The pending waits of one replica; feed it every applied revision. */
export class RevisionWaiters {
  private readonly waiting = new Set<Waiter>();

  /** `current` is the revision applied so far. */
  constructor(private readonly current: () => number) {}

  /** Number of waits pending. */
  get size(): number {
    return this.waiting.size;
  }

  /** Call after each applied revision: ends the waits it reaches. */
  applied(revision: number): void {
    for (const w of this.waiting) if (revision >= w.revision) w.done(true);
  }

  /** True once `revision` is applied, false when `timeoutMs` passed first or cancelAll() was called. */
  wait(revision: number, timeoutMs: number): Promise<boolean> {
    if (this.current() >= revision) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w: Waiter = {
        revision,
        done: (reached) => {
          clearTimeout(timer);
          this.waiting.delete(w);
          resolve(reached);
        },
      };
      const timer = setTimeout(() => w.done(false), timeoutMs);
      this.waiting.add(w);
    });
  }

  /** End every pending wait as not reached (shutdown). */
  cancelAll(): void {
    for (const w of [...this.waiting]) w.done(false);
  }
}
