/**
 * Whether an IOC counts as up, from periodic probes of one of its PVs over Channel Access. Up at the first
 * successful probe; down once no probe has succeeded for `graceMs` (one lost UDP search or a slow IOC is not a death).
 * Time is passed in; nothing here touches the network.
 */

/** What the probes say about the IOC. `unknown` until the first probe result. */
export type IocState = 'unknown' | 'up' | 'down';

/** Options of the liveness rule. */
export interface IocLivenessOptions {
  /** How long probes may fail before the IOC counts as down (ms). */
  readonly graceMs: number;
}

/** Folds probe results into an up/down state; `observe` returns the new state when it changes, else null. */
export class IocLiveness {
  private current: IocState = 'unknown';
  private lastOk: number | null = null;
  private firstSeen: number | null = null;

  constructor(private readonly opts: IocLivenessOptions) {
    if (!(opts.graceMs > 0)) throw new RangeError('graceMs must be positive');
  }

  /** The current state. */
  get state(): IocState {
    return this.current;
  }

  /** Record one probe result taken at `now` (ms). */
  observe(ok: boolean, now: number): IocState | null {
    this.firstSeen ??= now;
    if (ok) {
      this.lastOk = now;
      return this.set('up');
    }
    // Never seen up: down once the grace has passed since the first probe; seen up: since the last success.
    const since = this.lastOk ?? this.firstSeen;
    return now - since >= this.opts.graceMs ? this.set('down') : null;
  }

  private set(next: IocState): IocState | null {
    if (next === this.current) return null;
    this.current = next;
    return next;
  }
}
