/**
 * The holder's own view of its lease: etcd counts the TTL from when it *received* a keep-alive, which is never
 * before we *sent* it, so `sentAt + ttl` of the last acknowledged keep-alive bounds the server's expiry from below.
 * The holder treats its lease as gone `marginMs` before that bound, so its services are stopped before anyone else
 * can win the election key. (etcd may extend a lease on a leader change — later expiry, never earlier.)
 */

/** Timing parameters of a lease, in milliseconds. */
export interface LeaseTiming {
  readonly ttlMs: number;
  /** Safety margin: stop hooks must finish within it (plus clock-rate slack). */
  readonly marginMs: number;
}

/** Default margin for a TTL: 30 % of it, at least 0.5 s, and never more than half of it. */
export function defaultMarginMs(ttlMs: number): number {
  return Math.min(Math.max(500, Math.round(ttlMs * 0.3)), Math.floor(ttlMs / 2));
}

/** Tracks the last acknowledged keep-alive of one lease and answers "may I still act as its holder at `now`?". */
export class LeaseClock {
  private ackedSentAt: number;

  /** `grantSentAt`: when the grant request was sent (the grant itself starts the TTL). */
  constructor(readonly timing: LeaseTiming, grantSentAt: number) {
    if (timing.marginMs <= 0 || timing.marginMs >= timing.ttlMs) {
      throw new RangeError(`lease margin must be within (0, ttl): ${timing.marginMs} of ${timing.ttlMs}`);
    }
    this.ackedSentAt = grantSentAt;
  }

  /** A keep-alive sent at `sentAt` was acknowledged with a positive TTL (late answers never move it back). */
  ack(sentAt: number): void {
    if (sentAt > this.ackedSentAt) this.ackedSentAt = sentAt;
  }

  /** When the holder must consider the lease gone (and have its services stopped). */
  get validUntil(): number {
    return this.ackedSentAt + this.timing.ttlMs - this.timing.marginMs;
  }

  /** The earliest moment etcd can expire the lease (and another node win). */
  get earliestExpiry(): number {
    return this.ackedSentAt + this.timing.ttlMs;
  }

  /** True while the holder may act on the lease. */
  valid(now: number): boolean {
    return now < this.validUntil;
  }
}
