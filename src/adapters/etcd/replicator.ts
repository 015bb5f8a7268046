/**
 * One-way replication of one data type from a source installation's etcd into a target's (docs/keyspace.md,
 * "Replicas"). Elected per flow on a lease at the target (the LeaseKeeper and the "create if absent" campaign of
 * the archiver election); the leader follows one prefix watch on the source and commits each source revision, with
 * the checkpoint, in one guarded target transaction (core/replication/plan.ts), so that after a crash of either
 * side it resumes exactly after the checkpoint. A missing checkpoint or a compacted resume revision → re-list and
 * converge (deleting what vanished).
 */
import { EventEmitter } from 'node:events';
import type { Etcd3, ICompare, IEvent, IRequestOp, IWatchResponse, Watcher } from 'etcd3';
import type { Logger } from 'pino';
import { backoffMs } from '../../core/backoff.js';
import { PvsError, messageOf } from '../../core/errors.js';
import type { ReplicationKeys } from '../../core/replication/keys.js';
import {
  CheckpointSchema, DEFAULT_LIMITS, convergeChanges, planCommits,
  type Checkpoint, type PlannedCommit, type SourceRevision, type TargetChange, type TxnLimits,
} from '../../core/replication/plan.js';
import { grantLease, type AgentLease } from './archiver-election.js';
import { wrapEtcdError } from './errors.js';
import { etcdRevision, scanPrefix } from './kv.js';

/** Options of a replicator. */
export interface ReplicatorOptions {
  readonly source: Etcd3;
  readonly target: Etcd3;
  readonly keys: ReplicationKeys;
  readonly log: Logger;
  /** Who this replicator is (written into the election key and checkpoint). */
  readonly id: string;
  /** TTL of the election lease in seconds (default 5). */
  readonly leaseTtlS?: number;
  /** How often an idle leader proves itself current and writes the checkpoint's provenAt (default 2 000 ms). */
  readonly statusIntervalMs?: number;
  readonly limits?: TxnLimits;
  readonly now?: () => number;
}

/** Counters and state of a replicator (also exported as metrics by `pvsync replicate`). */
export interface ReplicatorStats {
  leader: boolean;
  /** Source revisions applied (each exactly once), keys written at the target, commits, re-lists. */
  revisions: number;
  keys: number;
  commits: number;
  relists: number;
  /** Checkpoint revision (last source revision wholly applied). */
  checkpoint: number;
  /** When the replica was last proven current with the source (ms since the epoch; 0 never). */
  provenAt: number;
}

const CALL_MS = 5000;

/** A long-running replicator of one flow. Emits `committed` (checkpoint revision) after every target commit. */
export class Replicator extends EventEmitter {
  readonly stats: ReplicatorStats = { leader: false, revisions: 0, keys: 0, commits: 0, relists: 0, checkpoint: 0, provenAt: 0 };
  private stopped = false;
  private session: Session | null = null;
  private running: Promise<void> | null = null;
  private readonly log: Logger;
  private readonly now: () => number;
  private wake: (() => void) | null = null;

  constructor(private readonly opts: ReplicatorOptions) {
    super();
    this.log = opts.log.child({ component: 'replicator', source: opts.keys.source, type: opts.keys.type });
    this.now = opts.now ?? Date.now;
  }

  /** Seconds since the replica was last proven current (Infinity before that). */
  lagSeconds(): number {
    return this.stats.provenAt === 0 ? Infinity : Math.max(0, (this.now() - this.stats.provenAt) / 1000);
  }

  /** Start campaigning and replicating in the background until stop(). */
  start(): void {
    this.running ??= this.loop();
  }

  /** Stop: end the session, resign (revoke the lease). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.session?.abort(new PvsError('PVS_INTERNAL', 'stopped'));
    this.wake?.();
    await this.running;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void { clearTimeout(t); resolve(); }
      this.wake = done;
    });
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      let lease: AgentLease | null = null;
      try {
        lease = await grantLease(this.opts.target, this.opts.leaseTtlS ?? 5, CALL_MS, this.log);
        const token = await this.campaign(lease);
        if (token === null) break; // stopped while standing by
        this.stats.leader = true;
        this.log.info({ token }, 'elected: replicating');
        const session = new Session(this.opts, this.stats, token, this.log, this.now, (rev) => this.emit('committed', rev));
        this.session = session;
        lease.keeper.once('lost', () => session.abort(new PvsError('PVS_LEASE_LOST', 'election lease lost', { retryable: true })));
        failures = 0;
        await session.run();
      } catch (err) {
        if (this.stopped) break;
        failures++;
        const delay = backoffMs(failures, 250, 5000);
        this.log.warn({ err: messageOf(err), failures, retryInMs: delay }, 'replication interrupted, resuming from the checkpoint');
        await this.sleep(delay);
      } finally {
        this.stats.leader = false;
        this.session = null;
        if (lease !== null) await lease.keeper.revoke(CALL_MS).catch(() => undefined);
      }
    }
  }

  /** Campaign until elected (the election key's create revision) or stopped (null). */
  private async campaign(lease: AgentLease): Promise<string | null> {
    const k = this.opts.keys.leader;
    const t = this.opts.target;
    let announced = false;
    while (!this.stopped) {
      let res;
      try {
        res = await t.if(k, 'Create', '==', 0).then(t.put(k).value(JSON.stringify({ node: this.opts.id, since: new Date(this.now()).toISOString() })).lease(lease.id))
          .else(t.get(k)).commit();
      } catch (err) {
        throw wrapEtcdError(err, 'replicator campaign');
      }
      if (res.succeeded) return res.header.revision;
      if (!announced) this.log.info({ holder: res.responses[0]?.response_range?.kvs[0]?.value.toString() }, 'another replicator leads this flow: standing by');
      announced = true;
      if (lease.keeper.isEnded) throw new PvsError('PVS_LEASE_LOST', 'lease lost while standing by', { retryable: true });
      await this.sleep(Math.max(250, (lease.ttlS * 1000) / 4));
    }
    return null;
  }
}

/** One leadership term: read the checkpoint, re-list or follow, commit; ends by throwing (abort, error). */
class Session {
  private ck: Checkpoint = { revision: 0, sourceHead: 0 };
  private ckMod = 0;
  private queue: SourceRevision[] = [];
  private seen = 0;
  private watcher: Watcher | null = null;
  private connected = false;
  private draining: Promise<void> | null = null;
  private failed: ((err: Error) => void) | null = null;
  private aborted: Error | null = null;
  private lastStatus = 0;
  private readonly limits: TxnLimits;

  constructor(
    private readonly opts: ReplicatorOptions, private readonly stats: ReplicatorStats, private readonly token: string,
    private readonly log: Logger, private readonly now: () => number, private readonly onCommit: (rev: number) => void,
  ) {
    this.limits = opts.limits ?? DEFAULT_LIMITS;
  }

  abort(err: Error): void {
    this.aborted ??= err;
    this.failed?.(err);
  }

  async run(): Promise<void> {
    const ended = new Promise<never>((_r, reject) => { this.failed = reject; });
    ended.catch(() => undefined);
    if (this.aborted !== null) throw this.aborted;
    try {
      await Promise.race([this.readCheckpoint(), ended]);
      if (this.ck.revision === 0) await Promise.race([this.relist(), ended]);
      for (;;) {
        const compacted = await Promise.race([this.follow(this.ck.revision + 1), ended]);
        if (!compacted) break;
        this.stats.relists++;
        await Promise.race([this.relist(), ended]);
      }
    } finally {
      await this.close();
    }
  }

  private async close(): Promise<void> {
    const w = this.watcher;
    this.watcher = null;
    await w?.cancel().catch(() => undefined);
  }

  private async readCheckpoint(): Promise<void> {
    let res;
    try {
      res = await this.opts.target.get(this.opts.keys.checkpoint).exec();
    } catch (err) {
      throw wrapEtcdError(err, 'read checkpoint');
    }
    const kv = res.kvs[0];
    if (kv === undefined) return;
    const parsed = CheckpointSchema.safeParse(safeJson(kv.value.toString()));
    if (!parsed.success) throw new PvsError('PVS_ETCD_DATA', `bad checkpoint at ${this.opts.keys.checkpoint}`);
    this.ck = parsed.data;
    this.ckMod = Number(kv.mod_revision);
    this.stats.checkpoint = this.ck.revision;
    this.log.info({ checkpoint: this.ck.revision, pending: this.ck.pending }, 'resuming after the checkpoint');
  }

  /** Make the target equal the source at one revision, then checkpoint that revision. */
  private async relist(): Promise<void> {
    const keys = this.opts.keys;
    const source = new Map<string, string>();
    let revision = 0;
    for (const p of keys.sourcePrefixes) {
      const r = await scanPrefix(this.opts.source, p, 5000, (k, v) => {
        const t = keys.targetKey(k);
        if (t !== null) source.set(t, v);
      }, revision);
      revision = r.revision;
    }
    const target = new Map<string, string>();
    for (const p of keys.targetPrefixes) await scanPrefix(this.opts.target, p, 5000, (k, v) => target.set(k, v));
    const changes = convergeChanges(source, target);
    this.log.info({ revision, sourceKeys: source.size, changes: changes.length }, 're-listed the source: converging');
    await this.commitAll(planCommits([{ revision, changes }], this.ck.revision, this.limits), revision);
    this.stats.provenAt = this.now();
  }

  /** Follow the source from `start`; resolves true when the watch was cancelled (compaction), rejects on failure. */
  private follow(start: number): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.seen = start - 1;
      const fail = (err: Error): void => reject(err);
      this.failed = fail;
      void (async () => {
        const watcher = await this.opts.source.watch().prefix(this.opts.keys.sourceRoot).startRevision(String(start)).create();
        this.watcher = watcher;
        this.connected = true;
        watcher.on('data', (res: IWatchResponse) => this.onData(res));
        watcher.on('connected', () => { this.connected = true; });
        watcher.on('disconnected', () => {
          this.connected = false;
          // Resume from what was queued, not from the header revision of the last response (etcd3's default).
          watcher.request.start_revision = String(this.seen + 1);
        });
        watcher.on('error', (err: Error) => {
          this.connected = false;
          this.log.warn({ err: err.message, checkpoint: this.ck.revision }, 'source watch cancelled (compaction?): re-listing');
          void watcher.cancel().catch(() => undefined);
          if (this.watcher === watcher) this.watcher = null;
          // Everything queued is dropped: the re-list converges from the source as it is now.
          void (this.draining ?? Promise.resolve()).then(() => {
            this.queue = [];
            resolve(true);
          });
        });
        for (;;) {
          if (this.watcher !== watcher) return;
          await new Promise((r) => setTimeout(r, this.opts.statusIntervalMs ?? 2000));
          if (this.watcher !== watcher) return;
          await this.status();
        }
      })().catch(fail);
    });
  }

  private onData(res: IWatchResponse): void {
    let cur: { revision: number; changes: TargetChange[] } | null = null;
    for (const ev of res.events as IEvent[]) {
      const rev = Number(ev.kv.mod_revision);
      if (rev <= this.seen) continue;
      const key = this.opts.keys.targetKey(ev.kv.key.toString());
      if (key === null) continue;
      if (cur === null || cur.revision !== rev) {
        if (cur !== null) this.queue.push(cur);
        cur = { revision: rev, changes: [] };
      }
      cur.changes.push({ key, value: ev.type === 'Delete' ? null : ev.kv.value.toString() });
    }
    if (cur !== null) {
      this.queue.push(cur);
      this.seen = cur.revision;
    }
    this.drain();
  }

  private drain(): void {
    if (this.draining !== null || this.queue.length === 0) return;
    this.draining = (async () => {
      try {
        while (this.queue.length > 0) {
          const batch = this.queue;
          this.queue = [];
          await this.commitAll(planCommits(batch, this.ck.revision, this.limits), batch.at(-1)!.revision);
        }
        if (this.connected) this.stats.provenAt = this.now();
      } catch (err) {
        this.failed?.(err instanceof Error ? err : new Error(String(err)));
      } finally {
        this.draining = null;
        if (this.queue.length > 0) this.drain();
      }
    })();
  }

  /** Commit planned transactions in order, each guarded by the checkpoint's mod revision and the election token. */
  private async commitAll(commits: readonly PlannedCommit[], head: number): Promise<void> {
    for (const c of commits) {
      const ck: Checkpoint = {
        revision: c.revision, sourceHead: Math.max(head, this.ck.sourceHead), writer: this.opts.id,
        provenAt: new Date(this.now()).toISOString(), ...(c.pending === undefined ? {} : { pending: c.pending }),
      };
      await this.commit(c.changes, ck);
      this.stats.revisions += c.completes;
      this.stats.keys += c.changes.length;
      this.stats.commits++;
      this.onCommit(c.revision);
    }
  }

  private async commit(changes: readonly TargetChange[], ck: Checkpoint): Promise<void> {
    const keys = this.opts.keys;
    const compare: ICompare[] = [
      { key: Buffer.from(keys.checkpoint), target: 'Mod', result: 'Equal', mod_revision: this.ckMod },
      { key: Buffer.from(keys.leader), target: 'Create', result: 'Equal', create_revision: this.token },
    ];
    // etcd: at most 128 operations and 1.5 MiB per transaction; planCommits keeps within them.
    const success: IRequestOp[] = changes.map((c) => (c.value === null
      ? { request_delete_range: { key: Buffer.from(c.key) } }
      : { request_put: { key: Buffer.from(c.key), value: Buffer.from(c.value) } }));
    success.push({ request_put: { key: Buffer.from(keys.checkpoint), value: Buffer.from(JSON.stringify(ck)) } });
    let res;
    try {
      res = await this.opts.target.kv.txn({ compare, success, failure: [] }, { deadline: new Date(Date.now() + CALL_MS) });
    } catch (err) {
      throw wrapEtcdError(err, 'replica commit');
    }
    if (!res.succeeded) {
      throw new PvsError('PVS_ETCD_CONFLICT', 'the checkpoint or the election key changed under this replicator (another one took over)', { retryable: true });
    }
    this.ck = ck;
    this.ckMod = Number(res.header.revision);
    this.stats.checkpoint = ck.revision;
    this.lastStatus = this.now();
  }

  /**
   * When idle and connected: prove the source reachable and write provenAt into the checkpoint. Runs in the drain
   * slot, so that it never races a commit of replicated changes.
   */
  private async status(): Promise<void> {
    if (this.draining !== null || this.queue.length > 0 || !this.connected) return;
    if (this.now() - this.lastStatus < (this.opts.statusIntervalMs ?? 2000)) return;
    const run = (async () => {
      let head: number;
      try {
        head = await etcdRevision(this.opts.source, this.opts.keys.checkpoint);
      } catch (err) {
        this.log.warn({ err: messageOf(err) }, 'source not answering: the replica is not proven current');
        return;
      }
      if (this.queue.length > 0 || !this.connected) return;
      const provenAt = this.now();
      await this.commit([], { ...this.ck, sourceHead: head, provenAt: new Date(provenAt).toISOString(), writer: this.opts.id });
      this.stats.provenAt = provenAt;
    })();
    this.draining = run.finally(() => {
      this.draining = null;
      if (this.queue.length > 0) this.drain();
    });
    await this.draining;
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}
