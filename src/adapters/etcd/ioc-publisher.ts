/**
 * Publishes one IOC's records to etcd and proves the IOC alive with a lease, until stopped. Survives etcd outages:
 * every failure leads to a back-off and a fresh, idempotent upload (re-read, diff, write what differs).
 */
import { backoffMs } from '../../core/backoff.js';
import { randomBytes } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import { PvsError, messageOf } from '../../core/errors.js';
import type { Keyspace } from '../../core/keyspace.js';
import { SCHEMA_VERSION, type Alive, type IocInfo, type IocRecord, type UnreadableFile, type UploadState } from '../../core/model.js';
import { batchOps, planRecordWrites, unreadableErrors } from '../../core/upload/plan.js';
import type { WriteOp } from '../../core/write-op.js';
import { isEtcdRefusal, wrapEtcdError } from './errors.js';
import { commitOps, rangePrefix } from './kv.js';
import { LeaseKeeper, etcdLeaseTransport, type LeaseTransport } from './lease-keeper.js';

/** What the publisher needs to know about the IOC and how to reach etcd. */
export interface IocPublisherOptions {
  readonly client: Etcd3;
  readonly keys: Keyspace;
  readonly iocId: string;
  readonly iocName: string;
  readonly hostName: string;
  readonly iocIP?: string;
  readonly env: Readonly<Record<string, string>>;
  readonly records: readonly IocRecord[];
  /**
   * Files of the configuration that could not be read: the records last published from them are kept as they are,
   * and the errors are published in the IOC's info (`errors`).
   */
  readonly unreadable?: readonly UnreadableFile[];
  /** Lease TTL in seconds (etcd raises anything below its minimum, 2 s with default timings). */
  readonly ttlSeconds: number;
  /** Who writes (becomes the `recceiverID` property). */
  readonly writer: string;
  readonly log: Logger;
  /** Transactions in flight at once during an upload (default 8). */
  readonly concurrency?: number;
  readonly now?: () => Date;
  /** Whether the IOC itself counts as up at start (default true; false when a probe must confirm it first). */
  readonly initiallyUp?: boolean;
  /** Lease calls (default: over `client`); tests inject faults here. */
  readonly leases?: LeaseTransport;
}

/** One reading of the IOC's configuration: what `reconfigure` replaces. */
export interface IocConfiguration {
  readonly env: Readonly<Record<string, string>>;
  readonly records: readonly IocRecord[];
  readonly unreadable: readonly UnreadableFile[];
}

/** Figures of one completed upload. */
export interface UploadReport {
  readonly records: number;
  readonly written: number;
  readonly unchanged: number;
  readonly markedGone: number;
  /** Records left as last published because a file they come from could not be read. */
  readonly kept: number;
  readonly revision: number;
  readonly seconds: number;
}

/** Keeps one IOC published and alive; `start()` resolves after the first complete upload. */
export class IocPublisher {
  private readonly uploadId = randomBytes(8).toString('hex');
  private readonly log: Logger;
  private readonly now: () => Date;
  private lease: LeaseKeeper | null = null;
  private readonly leases: LeaseTransport;
  private stopping = false;
  private wake: (() => void) | null = null;
  private loopDone: Promise<void> | null = null;
  private iocUp: boolean;
  /** Set when the liveness key must be rewritten (the IOC went up or down) by another pass of the loop. */
  private pendingSync = false;
  private firstUpload: { resolve: (r: UploadReport) => void; promise: Promise<UploadReport> };
  /** Records the IOC has in etcd (parsed ones plus those kept), as published in its info. */
  private liveRecords: number;
  /** The configuration to publish: the options' until `reconfigure` replaces it. */
  private config: IocConfiguration;
  /** When the last keep-alive etcd acknowledged was sent (ms since epoch; 0 before the first lease). */
  get lastKeepAlive(): number {
    return this.lease?.lastAckSentAt ?? 0;
  }

  constructor(private readonly opts: IocPublisherOptions) {
    this.log = opts.log.child({ component: 'publisher', ioc: opts.iocId });
    this.now = opts.now ?? (() => new Date());
    this.iocUp = opts.initiallyUp ?? true;
    this.leases = opts.leases ?? etcdLeaseTransport(opts.client);
    this.liveRecords = opts.records.length;
    this.config = { env: opts.env, records: opts.records, unreadable: opts.unreadable ?? [] };
    let resolve!: (r: UploadReport) => void;
    const promise = new Promise<UploadReport>((r) => { resolve = r; });
    this.firstUpload = { resolve, promise };
  }

  /** Begin publishing; resolves with the first complete upload's report (retrying meanwhile as long as needed). */
  start(): Promise<UploadReport> {
    this.loopDone ??= this.loop();
    return this.firstUpload.promise;
  }

  /**
   * Say whether the IOC itself is up (from a Channel Access probe): down deletes the liveness key, so the channels turn
   * Inactive while this uploader keeps its lease; up writes it again. Applied by the publishing loop, so an etcd
   * outage at that moment only delays it.
   */
  setIocUp(up: boolean): void {
    if (up === this.iocUp) return;
    this.iocUp = up;
    this.pendingSync = true;
    this.log.info({ iocUp: up }, up ? 'IOC answers again: marking it alive' : 'IOC does not answer: marking it inactive');
    this.wake?.();
  }

  /**
   * Publish a new reading of the IOC's configuration (a re-read after an unreadable file): the loop uploads its
   * difference with etcd as soon as it can, so records of a file readable again are refreshed, vanished ones
   * marked gone and the info's errors cleared, as in any upload.
   */
  reconfigure(config: IocConfiguration): void {
    this.config = config;
    this.pendingSync = true;
    this.wake?.();
  }

  /**
   * Stop gracefully: mark the IOC stopped, delete its liveness key and revoke the lease, so its channels turn
   * Inactive at once. If etcd cannot be reached within `timeoutMs`, the lease simply expires.
   */
  async stop(timeoutMs = 3000): Promise<void> {
    this.stopping = true;
    this.wake?.();
    // An upload in flight against an unreachable etcd must not hold the shutdown for long.
    await withTimeout(this.loopDone ?? Promise.resolve(), timeoutMs).catch(() => undefined);
    const lease = this.lease;
    this.lease = null;
    const { keys, iocId } = this.opts;
    const work = (async () => {
      await commitOps(this.opts.client, [
        { type: 'delete', key: keys.alive(iocId) },
        { type: 'put', key: keys.iocInfo(iocId), value: JSON.stringify(this.info('stopped')) },
      ], 'mark IOC stopped');
      const err = await lease?.revoke(timeoutMs);
      if (err !== undefined && err !== null) throw err;
    })();
    try {
      await withTimeout(work, timeoutMs);
      this.log.info({}, 'stopped: IOC marked inactive');
    } catch (err) {
      this.log.warn({ err: messageOf(err) }, 'could not mark IOC inactive; its lease will expire');
      lease?.release();
    }
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        const lease = await this.ensureLease();
        const report = await this.uploadOnce(lease);
        failures = 0;
        this.firstUpload.resolve(report);
        await this.waitForTrouble(lease);
      } catch (err) {
        if (this.stopping) break;
        failures++;
        const e = wrapEtcdError(err, 'upload');
        // A refusal (permission, login, TLS) is an operator's matter: say so loudly and retry slowly, not as an outage.
        const refused = isEtcdRefusal(e);
        const delay = (refused ? backoffMs(failures, 5000, 60_000) : backoffMs(failures, 500, 10_000))
          * (0.75 + Math.random() * 0.5);
        if (refused) this.log.error({ err: e.message, code: e.code, failures, retryInMs: Math.round(delay) }, 'etcd refused the upload');
        else this.log.warn({ err: e.message, code: e.code, failures, retryInMs: Math.round(delay) }, 'upload failed, retrying');
        await this.sleep(delay);
      }
    }
  }

  private async ensureLease(): Promise<LeaseKeeper> {
    if (this.lease !== null && !this.lease.isEnded) return this.lease;
    const lease = new LeaseKeeper(this.leases, { ttlS: this.opts.ttlSeconds, log: this.log });
    lease.on('lost', () => this.wake?.());
    await lease.grant();
    this.lease = lease;
    return lease;
  }

  /** Re-read what etcd holds for this IOC, write the difference, then mark the upload complete and the IOC alive. */
  private async uploadOnce(lease: LeaseKeeper): Promise<UploadReport> {
    const t0 = performance.now();
    this.pendingSync = false;
    const { client, keys, iocId } = this.opts;
    const config = this.config; // a reconfigure() meanwhile is published by the next pass
    const { records, unreadable } = config;
    const snapshot = await rangePrefix(client, keys.iocRecordsPrefix(iocId));
    const existing = new Map(snapshot.kvs.map((kv) => [kv.key, kv.value.toString()]));
    const plan = planRecordWrites(keys, iocId, records, existing, unreadable);
    this.liveRecords = plan.live;
    if (plan.kept > 0 || unreadable.length > 0) {
      this.log.warn({ kept: plan.kept, unreadable: unreadable.map((u) => u.name) },
        'files of the IOC configuration could not be read: their records are kept as last published');
    }
    if (plan.ops.length > 0) {
      await commitOps(client, [this.infoOp('uploading', config)], 'mark upload started');
      await this.commitConcurrently(batchOps(plan.ops));
    }
    const leaseId = lease.id;
    if (leaseId === null || lease.isEnded) throw new PvsError('PVS_LEASE_LOST', 'liveness lease lost during the upload', { retryable: true });
    const alive: Alive = { uploadId: this.uploadId, since: this.now().toISOString(), writer: this.opts.writer };
    const revision = await commitOps(client, [
      this.infoOp('complete', config),
      this.iocUp
        ? { type: 'put', key: keys.alive(iocId), value: JSON.stringify(alive), lease: leaseId }
        : { type: 'delete', key: keys.alive(iocId) },
    ], 'mark upload complete');
    const report: UploadReport = {
      records: records.length, written: plan.ops.length, unchanged: plan.unchanged, markedGone: plan.markedGone,
      kept: plan.kept, revision, seconds: (performance.now() - t0) / 1000,
    };
    this.log.info({ ...report, iocUp: this.iocUp }, 'upload committed');
    return report;
  }

  private async commitConcurrently(batches: readonly WriteOp[][]): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length && !this.stopping) {
        const batch = batches[next++]!;
        await commitOps(this.opts.client, batch, 'write records');
      }
    };
    const n = Math.max(1, Math.min(this.opts.concurrency ?? 8, batches.length));
    await Promise.all(Array.from({ length: n }, worker));
  }

  private info(state: UploadState, config = this.config): IocInfo {
    const o = this.opts;
    return {
      schema: SCHEMA_VERSION, iocId: o.iocId, iocName: o.iocName, hostName: o.hostName,
      ...(o.iocIP !== undefined ? { iocIP: o.iocIP } : {}),
      env: { ...config.env }, uploadId: this.uploadId, state, records: this.liveRecords,
      updatedAt: this.now().toISOString(), writer: o.writer,
      ...(config.unreadable.length > 0 ? { errors: unreadableErrors(config.unreadable) } : {}),
    };
  }

  private infoOp(state: UploadState, config: IocConfiguration): WriteOp {
    return { type: 'put', key: this.opts.keys.iocInfo(this.opts.iocId), value: JSON.stringify(this.info(state, config)) };
  }

  /**
   * Resolves when the loop must run again: the lease was lost (it is granted anew and everything re-published), the
   * IOC went up or down, or the publisher is stopping.
   */
  private waitForTrouble(lease: LeaseKeeper): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.stopping || this.pendingSync || lease.isEnded) return resolve();
      this.wake = () => { this.wake = null; resolve(); };
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => { this.wake = null; resolve(); }, ms);
      this.wake = () => { clearTimeout(t); this.wake = null; resolve(); };
    });
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e: unknown) => { clearTimeout(t); reject(e instanceof Error ? e : new Error(String(e))); });
  });
}
