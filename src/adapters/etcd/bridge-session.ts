/**
 * The etcd side of one RecCaster bridge session: claims the IOC (one leased session key per IOC, created only if
 * absent, so one IOC connected to two bridges has one writer), writes its records in batched transactions while
 * they stream in — each guarded by the claim's create revision, the fencing token — and publishes exactly what
 * `pvsync upload` publishes (info, records, the leased alive key; docs/keyspace.md): an idempotent diff, records
 * that vanished marked gone at UploadDone, the upload marked complete and the IOC alive in one transaction.
 */
import { randomBytes } from 'node:crypto';
import type { Etcd3, ICompare, IRangeResponse, IRequestOp } from 'etcd3';
import type { Logger } from 'pino';
import { backoffMs } from '../../core/backoff.js';
import { PvsError, messageOf } from '../../core/errors.js';
import { escapeSegment, unescapeSegment, type Keyspace } from '../../core/keyspace.js';
import { SCHEMA_VERSION, StoredRecordSchema, type Alive, type IocInfo, type IocRecord, type UploadState } from '../../core/model.js';
import { encodeStoredRecord, toStoredRecord, type PlannedOp } from '../../core/upload/plan.js';
import { TxnQueue, type TxnBatch } from '../../core/upload/txn-queue.js';
import { wrapEtcdError } from './errors.js';
import { prefixEnd, scanPrefix, toRequestOp } from './kv.js';
import { LeaseKeeper, etcdLeaseTransport, type LeaseTransport } from './lease-keeper.js';

/** The IOC a session publishes, as its RecCaster infos name it. */
export interface BridgeIoc {
  readonly iocId: string;
  readonly iocName: string;
  readonly hostName: string;
  readonly iocIP: string;
  readonly env: Readonly<Record<string, string>>;
}

/** Options of one session's writer. */
export interface BridgeSessionOptions {
  readonly client: Etcd3;
  readonly keys: Keyspace;
  readonly ioc: BridgeIoc;
  /** The bridge's name: the `writer` of info and alive (the `recceiverID` property). */
  readonly writer: string;
  /** The connection, for the session key and logs (`ip:port`). */
  readonly peer: string;
  readonly ttlSeconds: number;
  readonly log: Logger;
  /** How long to wait for another session's claim on the IOC to go away before refusing this one (ms). */
  readonly claimWaitMs: number;
  /** Record transactions in flight at once (default 8). */
  readonly concurrency?: number;
  /** Called once when the session can no longer write (lease lost, claim taken, etcd refusing for too long). */
  readonly onLost: (err: PvsError) => void;
  readonly leases?: LeaseTransport;
  readonly now?: () => Date;
}

/** Figures of a completed upload. */
export interface BridgeUploadReport {
  readonly records: number;
  readonly written: number;
  readonly unchanged: number;
  readonly markedGone: number;
  readonly seconds: number;
}

// Stored records read per page (the first one in the claim's own transaction).
const SNAPSHOT_PAGE = 5000;

/** Writes one IOC session to etcd. `claim()` first; `add()` any time; `complete()` at UploadDone; `end()` always. */
export class BridgeSession {
  private readonly uploadId = randomBytes(8).toString('hex');
  private readonly log: Logger;
  private readonly now: () => Date;
  private lease: LeaseKeeper | null = null;
  private token = 0;
  /** Record name → its stored value: what etcd held at the claim, updated with every write queued since. */
  private readonly stored = new Map<string, string>();
  /** Keys under the IOC's records prefix that are no escaped record name (never the IOC's: gone at UploadDone). */
  private readonly strays: [string, string][] = [];
  private recordsPrefix = '';
  private early: IocRecord[] | null = [];
  private readonly queue = new TxnQueue();
  private inFlight = 0;
  /** Records queued or in flight. */
  private queuedRecords = 0;
  private announced = false;
  /** `info uploading`, until it goes out with the first batch of records (dropped if they all go with `closing`). */
  private uploading: PlannedOp | null = null;
  /** Set by complete(): the closing ops, beside which the last records go when they fit. */
  private closing: readonly PlannedOp[] | null = null;
  private liveAtStart = 0;
  private written = 0;
  private unchanged = 0;
  private lost: PvsError | null = null;
  private ended = false;
  private idle: (() => void)[] = [];
  private readonly started = performance.now();
  /** Called whenever the backlog shrinks (to resume a paused socket). */
  onProgress: (() => void) | null = null;

  constructor(private readonly opts: BridgeSessionOptions) {
    this.log = opts.log.child({ ioc: opts.ioc.iocId, peer: opts.peer });
    this.now = opts.now ?? (() => new Date());
  }

  /** Records received but not yet committed (the caller pauses its socket when this grows). */
  get backlog(): number {
    return this.queuedRecords + (this.early?.length ?? 0);
  }

  /** The fencing token (create revision of the session key), 0 before the claim. */
  get claimToken(): number {
    return this.token;
  }

  /**
   * Grant the session's lease and create the IOC's session key if absent, waiting up to `claimWaitMs` for another
   * session's key to go (a bridge that died holds it until its lease expires). Throws PVS_ETCD_CONFLICT naming the
   * holder when it stays. The same transaction reads the IOC's stored records (the first page; the rest, if any, at
   * its revision): the one read every record is compared against.
   */
  async claim(): Promise<void> {
    const { client, keys, ioc } = this.opts;
    const lease = new LeaseKeeper(this.opts.leases ?? etcdLeaseTransport(client), { ttlS: this.opts.ttlSeconds, log: this.log });
    lease.on('lost', () => this.lose(new PvsError('PVS_LEASE_LOST', 'the session\'s lease expired', { retryable: true })));
    this.lease = lease;
    const leaseId = await lease.grant();
    const key = Buffer.from(keys.bridgeSession(ioc.iocId));
    const prefix = keys.iocRecordsPrefix(ioc.iocId);
    this.recordsPrefix = prefix;
    const records = Buffer.from(prefix);
    const value = JSON.stringify({ bridge: this.opts.writer, peer: this.opts.peer, uploadId: this.uploadId, since: this.now().toISOString() });
    const deadline = Date.now() + this.opts.claimWaitMs;
    let page: IRangeResponse | undefined;
    for (let attempt = 1; ; attempt++) {
      if (this.ended) throw new PvsError('PVS_LEASE_LOST', 'session ended during its claim');
      let res;
      try {
        res = await client.kv.txn({
          compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
          success: [
            { request_put: { key, value: Buffer.from(value), lease: leaseId } },
            { request_range: { key: records, range_end: prefixEnd(records), limit: SNAPSHOT_PAGE } },
          ],
          failure: [{ request_range: { key } }],
        });
      } catch (err) {
        throw wrapEtcdError(err, 'claim IOC session');
      }
      if (res.succeeded) {
        this.token = Number(res.header.revision);
        page = res.responses[1]?.response_range;
        break;
      }
      const kv = res.responses[0]?.response_range?.kvs[0];
      const holder = kv === undefined ? '' : kv.value.toString();
      if (Date.now() >= deadline) {
        throw new PvsError('PVS_ETCD_CONFLICT', `IOC ${ioc.iocId} already has a session: ${holder}`);
      }
      if (attempt === 1) this.log.info({ holder }, 'IOC has a session elsewhere: waiting for it to end');
      await sleep(Math.min(250, Math.max(10, deadline - Date.now())));
    }
    const keep = (k: string, v: string): void => {
      const segment = k.slice(prefix.length);
      const name = unescapeSegment(segment);
      if (escapeSegment(name) === segment) this.stored.set(name, v);
      else this.strays.push([k, v]);
      if (!v.includes('"gone":true')) this.liveAtStart++;
    };
    if (page?.more === false) for (const kv of page.kvs) keep(kv.key.toString(), kv.value.toString());
    else await scanPrefix(client, prefix, SNAPSHOT_PAGE, keep, this.token);
    const early = this.early ?? [];
    this.early = null;
    this.add(early);
  }

  /** Queue finished records: the ones that differ from what etcd holds are written in batches as they come. */
  add(records: readonly IocRecord[]): void {
    if (this.early !== null) {
      for (const r of records) this.early.push(r);
      return;
    }
    for (const rec of records) {
      const value = encodeStoredRecord(toStoredRecord(rec));
      if (this.stored.get(rec.name) === value) {
        this.unchanged++;
        continue;
      }
      if (!this.announced) {
        // An upload that changes anything first marks the IOC's info `uploading` (same transaction as its first records).
        this.announced = true;
        this.uploading = this.infoOp('uploading', this.liveAtStart);
      }
      this.stored.set(rec.name, value);
      this.queue.push({ type: 'put', key: this.recordsPrefix + escapeSegment(rec.name), value }, 1);
      this.queuedRecords++;
      this.written++;
    }
    this.pump();
  }

  /**
   * UploadDone: write the last records, mark every stored record the IOC no longer has (`names`) gone, then in one
   * transaction mark the upload complete and create the alive key on the session's lease. The records still waiting
   * go in that transaction when they fit beside it (a small IOC's upload is then one transaction of records).
   */
  async complete(records: readonly IocRecord[], names: ReadonlySet<string>): Promise<BridgeUploadReport> {
    this.add(records);
    const { keys, ioc } = this.opts;
    let markedGone = 0;
    const markGone = (key: string, old: string): string | undefined => {
      const parsed = parseRecord(old);
      if (parsed?.gone === true) return undefined;
      if (parsed === null) {
        this.queue.push({ type: 'delete', key }); // garbage under our prefix: nothing to keep
        return undefined;
      }
      const value = encodeStoredRecord({ ...parsed, gone: true });
      this.queue.push({ type: 'put', key, value });
      markedGone++;
      return value;
    };
    for (const [name, old] of this.stored) {
      if (names.has(name)) continue;
      const gone = markGone(this.recordsPrefix + escapeSegment(name), old);
      if (gone !== undefined) this.stored.set(name, gone);
    }
    for (const [key, old] of this.strays.splice(0)) markGone(key, old);
    const leaseId = this.lease?.id;
    if (leaseId === null || leaseId === undefined || this.lease?.isEnded === true) throw this.lost ?? new PvsError('PVS_LEASE_LOST', 'session lease lost');
    const alive: Alive = { uploadId: this.uploadId, since: this.now().toISOString(), writer: this.opts.writer };
    const closing: PlannedOp[] = [this.infoOp('complete', names.size),
      { type: 'put', key: keys.alive(ioc.iocId), value: JSON.stringify(alive), lease: leaseId }];
    this.closing = closing;
    let last: TxnBatch;
    try {
      // Earlier batches first (committed, not merely sent): then the rest with the closing ops, all or nothing.
      last = await this.until(() => (this.inFlight === 0 && this.queue.fitsWith(closing) ? this.queue.takeAll(closing) : null));
    } finally {
      this.closing = null;
    }
    this.uploading = null; // if not sent yet, nothing was written before this transaction, which supersedes it
    try {
      await this.commit(last.ops, 'mark upload complete');
    } finally {
      this.queue.done(last);
    }
    this.queuedRecords -= last.records;
    this.liveAtStart = names.size;
    return {
      records: names.size, written: this.written, unchanged: this.unchanged, markedGone,
      seconds: (performance.now() - this.started) / 1000,
    };
  }

  /**
   * The connection ended: delete the alive key (the channels turn Inactive at once), mark the IOC stopped and drop
   * the claim, then revoke the lease. When etcd cannot be reached the lease expires by itself (within the TTL).
   */
  async end(timeoutMs = 3000): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    const lease = this.lease;
    this.lease = null;
    for (const w of this.idle.splice(0)) w();
    if (this.token === 0 || lease === null) {
      lease?.release();
      return;
    }
    const { keys, ioc } = this.opts;
    try {
      await withTimeout(this.guarded([
        { type: 'delete', key: keys.alive(ioc.iocId) },
        { type: 'put', key: keys.iocInfo(ioc.iocId), value: JSON.stringify(this.info('stopped', this.liveAtStart)) },
        { type: 'delete', key: keys.bridgeSession(ioc.iocId) },
      ]), timeoutMs);
      const err = await lease.revoke(timeoutMs);
      if (err !== null) throw err;
    } catch (err) {
      this.log.warn({ err: messageOf(err) }, 'could not mark the IOC inactive; its session lease will expire');
      lease.release();
    }
  }

  private info(state: UploadState, records: number): IocInfo {
    const { ioc, writer } = this.opts;
    return {
      schema: SCHEMA_VERSION, iocId: ioc.iocId, iocName: ioc.iocName, hostName: ioc.hostName, iocIP: ioc.iocIP,
      env: { ...ioc.env }, uploadId: this.uploadId, state, records, updatedAt: this.now().toISOString(), writer,
    };
  }

  private infoOp(state: UploadState, records: number): PlannedOp {
    return { type: 'put', key: this.opts.keys.iocInfo(this.opts.ioc.iocId), value: JSON.stringify(this.info(state, records)) };
  }

  // Full batches go out while fewer than `concurrency` are in flight; a partial one only when none is (so records
  // trickling in are written at once, and a fast stream is written in full transactions). `info uploading` goes with
  // the first; once complete() waits, what fits beside its closing ops is kept for them.
  private pump(): void {
    const max = this.opts.concurrency ?? 8;
    while (this.lost === null && !this.ended && this.queue.waiting > 0 && this.inFlight < max) {
      if (this.closing !== null && this.inFlight === 0 && this.queue.fitsWith(this.closing)) break;
      const batch = this.queue.next(this.inFlight, this.uploading === null ? [] : [this.uploading]);
      if (batch === null) break;
      this.uploading = null;
      this.inFlight++;
      void this.commit(batch.ops, 'write records').finally(() => this.queue.done(batch)).then(() => {
        this.inFlight--;
        this.queuedRecords -= batch.records;
        this.onProgress?.();
        this.pump();
        this.wakeIfIdle();
      }, (err: unknown) => {
        this.inFlight--;
        this.lose(err instanceof PvsError ? err : wrapEtcdError(err, 'write records'));
      });
    }
  }

  /** Resolves with `ready()`'s first non-null answer, asked again whenever no transaction is in flight. */
  private until<T>(ready: () => T | null): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        if (this.lost !== null) return reject(this.lost);
        if (this.ended) return reject(new PvsError('PVS_LEASE_LOST', 'session ended'));
        const value = ready();
        if (value !== null) return resolve(value);
        this.idle.push(check);
        this.pump();
      };
      check();
    });
  }

  private wakeIfIdle(): void {
    if (this.inFlight > 0) return;
    for (const w of this.idle.splice(0)) w();
  }

  /** A guarded transaction, retried with back-off while etcd is unavailable (until the lease is lost). */
  private async commit(ops: readonly PlannedOp[], what: string): Promise<void> {
    for (let failures = 0; ; failures++) {
      if (this.lost !== null) throw this.lost;
      try {
        await this.guarded(ops);
        return;
      } catch (err) {
        const e = wrapEtcdError(err, what);
        if (!e.retryable || e.code === 'PVS_ETCD_CONFLICT' || e.code === 'PVS_LEASE_LOST' || this.ended) throw e;
        const delay = backoffMs(failures + 1, 200, 2000);
        this.log.warn({ err: e.message, code: e.code, retryInMs: delay }, 'session write failed, retrying');
        await sleep(delay);
      }
    }
  }

  private async guarded(ops: readonly PlannedOp[]): Promise<void> {
    const { client, keys, ioc } = this.opts;
    const compare: ICompare[] = [{ key: Buffer.from(keys.bridgeSession(ioc.iocId)), target: 'Create', result: 'Equal', create_revision: this.token }];
    const success: IRequestOp[] = ops.map(toRequestOp);
    const res = await client.kv.txn({ compare, success, failure: [] });
    if (!res.succeeded) throw new PvsError('PVS_ETCD_CONFLICT', `the claim on IOC ${ioc.iocId} is gone (lease expired or taken over)`);
  }

  private lose(err: PvsError): void {
    if (this.lost !== null || this.ended) return;
    this.lost = err;
    for (const w of this.idle.splice(0)) w();
    this.opts.onLost(err);
  }
}

function parseRecord(raw: string): ReturnType<typeof StoredRecordSchema.parse> | null {
  try {
    const r = StoredRecordSchema.safeParse(JSON.parse(raw));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e: unknown) => { clearTimeout(t); reject(e instanceof Error ? e : new Error(String(e))); });
  });
}
