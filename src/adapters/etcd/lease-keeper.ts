/**
 * Keeps one etcd lease alive through the loss of any one member, for everything that proves liveness or leadership
 * with a lease (the uploader, the archiver agents, a RecCaster bridge). Keep-alives go out often (default TTL/8),
 * each attempt with a short deadline of its own (default TTL/4); an attempt that fails or is not answered in time is
 * replaced at once — the client has by then isolated the member it went to, so the replacement goes to another —
 * and up to three attempts may be in flight, so one hanging on a silent member (or on an election) never delays the
 * others. An interval replaces at most as many attempts as may be in flight: with every member isolated an attempt
 * fails without any I/O, and replacing it without end would spin on promise callbacks and starve the event loop
 * (timers, sockets, the probes that would readmit a member) for as long as the outage lasts. The keeper remembers
 * when the last acknowledged keep-alive was **sent**: etcd counts the TTL from when it received it, never earlier,
 * so `lastAckSentAt + TTL` bounds the server's expiry from below.
 */
import { EventEmitter } from 'node:events';
import type { Etcd3, Lease } from 'etcd3';
import type { Logger } from 'pino';
import { PvsError, isPvsError, messageOf } from '../../core/errors.js';
import { wrapEtcdError } from './errors.js';

/** The lease calls the keeper makes; `etcdLeaseTransport` is the real one, tests pass fakes. */
export interface LeaseTransport {
  /** Grant a lease; resolves with its id (decimal string) and the TTL etcd granted. */
  grant(ttlS: number, timeoutMs: number): Promise<{ readonly id: string; readonly ttlS: number }>;
  /** One keep-alive; resolves with the TTL etcd reports (≤ 0: the lease is gone). */
  keepAlive(id: string, timeoutMs: number): Promise<number>;
  /** Revoke the lease (deleting every key bound to it). */
  revoke(id: string, timeoutMs: number): Promise<void>;
  /** Forget a lease without telling etcd (it expires there). */
  release(id: string): void;
}

/** Timing of a keeper. */
export interface LeaseKeeperOptions {
  readonly ttlS: number;
  /** Time between keep-alives in ms (default TTL/8, at least 100). */
  readonly intervalMs?: number;
  /** Deadline of one keep-alive attempt in ms (default TTL/4, at least 200). */
  readonly attemptTimeoutMs?: number;
  /** Attempts in flight at once (default 3). */
  readonly maxInFlight?: number;
  /** Deadline of grant and revoke in ms (default TTL/2, at least 500). */
  readonly callTimeoutMs?: number;
  readonly log: Logger;
  readonly now?: () => number;
}

/** Why a kept lease ended. */
export type LeaseLossReason = 'expired' | 'deadline';

/**
 * One lease and its keep-alives. Events: `ack` (sentAt: number) after every acknowledged keep-alive, `lost`
 * (reason) once when etcd says the lease is gone or no keep-alive was acknowledged within the TTL; keep-alives stop
 * then, and a new lease needs a new keeper.
 */
export class LeaseKeeper extends EventEmitter {
  /** The lease id, once granted. */
  id: string | null = null;
  /** When the last acknowledged keep-alive (or the grant) was sent, in ms of `now()`. */
  lastAckSentAt = 0;
  private ttlMs: number;
  private readonly intervalMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly maxInFlight: number;
  private readonly callTimeoutMs: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  /** Failed attempts replaced at once since the last interval's attempt. */
  private replaced = 0;
  private ended = false;

  constructor(private readonly transport: LeaseTransport, opts: LeaseKeeperOptions) {
    super();
    this.ttlMs = opts.ttlS * 1000;
    this.intervalMs = opts.intervalMs ?? Math.max(100, Math.floor(this.ttlMs / 8));
    this.attemptTimeoutMs = opts.attemptTimeoutMs ?? Math.max(200, Math.floor(this.ttlMs / 4));
    this.maxInFlight = opts.maxInFlight ?? 3;
    this.callTimeoutMs = opts.callTimeoutMs ?? Math.max(500, Math.floor(this.ttlMs / 2));
    this.now = opts.now ?? Date.now;
    this.log = opts.log.child({ component: 'lease-keeper' });
  }

  /** The TTL etcd granted, in seconds. */
  get ttlS(): number {
    return this.ttlMs / 1000;
  }

  /** The earliest moment etcd can expire the lease. */
  get earliestExpiry(): number {
    return this.lastAckSentAt + this.ttlMs;
  }

  /** True once the lease is lost, revoked or released. */
  get isEnded(): boolean {
    return this.ended;
  }

  /** Grant the lease and start its keep-alives; resolves with the id. */
  async grant(): Promise<string> {
    if (this.id !== null) throw new PvsError('PVS_PROTOCOL_LOCAL', 'a lease keeper grants one lease only');
    const sentAt = this.now();
    const g = await this.transport.grant(this.ttlMs / 1000, this.callTimeoutMs);
    if (this.ended) {
      this.transport.release(g.id);
      throw new PvsError('PVS_LEASE_LOST', 'lease keeper stopped during the grant');
    }
    this.id = g.id;
    // etcd raises a TTL below its minimum: time by what it granted.
    this.ttlMs = Math.max(this.ttlMs, g.ttlS * 1000);
    this.lastAckSentAt = sentAt;
    this.schedule();
    return g.id;
  }

  /** Stop keep-alives and revoke the lease; errors are returned (the lease then expires by itself), never thrown. */
  async revoke(timeoutMs = this.callTimeoutMs): Promise<Error | null> {
    const id = this.id;
    this.end();
    if (id === null) return null;
    try {
      await this.transport.revoke(id, timeoutMs);
      return null;
    } catch (err) {
      this.transport.release(id);
      return wrapEtcdError(err, 'lease revoke');
    }
  }

  /** Stop keep-alives without revoking (the lease expires in etcd after its TTL). */
  release(): void {
    const id = this.id;
    this.end();
    if (id !== null) this.transport.release(id);
  }

  private end(): void {
    this.ended = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.ended) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.tick();
      this.schedule();
    }, this.intervalMs);
  }

  private tick(): void {
    if (this.ended) return;
    if (this.now() >= this.earliestExpiry) {
      this.lose('deadline');
      return;
    }
    this.replaced = 0;
    this.attempt();
  }

  private attempt(): void {
    const id = this.id;
    if (id === null || this.ended || this.inFlight >= this.maxInFlight) return;
    this.inFlight++;
    const sentAt = this.now();
    void this.keepAliveOnce(id).then((ttl) => {
      this.inFlight--;
      if (this.ended) return;
      if (ttl <= 0) {
        this.lose('expired');
        return;
      }
      if (sentAt > this.lastAckSentAt) this.lastAckSentAt = sentAt;
      this.emit('ack', sentAt);
    }, (err: unknown) => {
      this.inFlight--;
      if (this.ended) return;
      if (isPvsError(err, 'PVS_LEASE_LOST')) {
        this.lose('expired');
        return;
      }
      // Replace it at once: the member it went to is isolated by now, so this one goes elsewhere. Past the budget
      // (every member failing, often without a round trip) the next interval sends the next one.
      if (this.replaced >= this.maxInFlight) return;
      this.replaced++;
      this.log.debug({ lease: id, err: messageOf(err) }, 'keep-alive attempt failed, sending another');
      this.attempt();
    });
  }

  /** One attempt with its own deadline, enforced here too (a stream that stays silent must not hold a slot). */
  private keepAliveOnce(id: string): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new PvsError('PVS_ETCD_UNAVAILABLE', 'keep-alive not answered in time', { retryable: true })),
        this.attemptTimeoutMs + 50);
      this.transport.keepAlive(id, this.attemptTimeoutMs).then(
        (ttl) => { clearTimeout(t); resolve(ttl); },
        (err: unknown) => { clearTimeout(t); reject(wrapEtcdError(err, 'lease keep-alive')); },
      );
    });
  }

  private lose(reason: LeaseLossReason): void {
    if (this.ended) return;
    const id = this.id;
    this.end();
    if (id !== null) this.transport.release(id);
    this.log.warn({ lease: id, reason, sinceAckMs: this.now() - this.lastAckSentAt }, 'lease lost');
    this.emit('lost', reason);
  }
}

/** The lease calls over an etcd3 client (keep-alives are single requests with a deadline, not etcd3's loop). */
export function etcdLeaseTransport(client: Etcd3): LeaseTransport {
  const leases = new Map<string, Lease>();
  return {
    async grant(ttlS, timeoutMs) {
      const lease = client.lease(ttlS, { autoKeepAlive: false, deadline: Date.now() + timeoutMs });
      lease.on('lost', () => undefined); // reported through keepAlive's answers instead
      try {
        const id = await lease.grant();
        leases.set(id, lease);
        return { id, ttlS };
      } catch (err) {
        lease.release();
        throw wrapEtcdError(err, 'lease grant');
      }
    },
    async keepAlive(id, timeoutMs) {
      const lease = leases.get(id);
      if (lease === undefined) throw new PvsError('PVS_LEASE_LOST', `lease ${id} is not kept here`);
      const res = await lease.keepaliveOnce({ deadline: Date.now() + timeoutMs });
      return Number(res.TTL);
    },
    async revoke(id, timeoutMs) {
      const lease = leases.get(id);
      leases.delete(id);
      await lease?.revoke({ deadline: Date.now() + timeoutMs });
    },
    release(id) {
      leases.get(id)?.release();
      leases.delete(id);
    },
  };
}
