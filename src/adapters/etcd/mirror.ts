/**
 * The mirror: loads a consistent snapshot of the keyspace, then follows one prefix watch from the snapshot's
 * revision, feeding a sink (the directory). It applies every revision exactly once and in order; after a
 * disconnect it resumes from its last applied revision, after compaction it re-lists.
 */
import { backoffMs } from '../../core/backoff.js';
import { EventEmitter } from 'node:events';
import type { Etcd3, IEvent, IWatchResponse, Watcher } from 'etcd3';
import type { Logger } from 'pino';
import type { Keyspace } from '../../core/keyspace.js';
import { decodeChange, type ChangeDecoder } from '../../core/directory/decode.js';
import type { DirectoryEvent } from '../../core/directory/events.js';
import { memberGuardsOf } from './client.js';
import { isEtcdRefusal, wrapEtcdError } from './errors.js';
import { scanPrefix } from './kv.js';
import { WatchProgress, type WatchLag } from './watch-progress.js';

// etcd 3.4 walks the whole rest of the range for every limited page: few large pages load far faster than many
// small ones (30 000 record keys are ~5 MB, well under the client's 64 MiB receive limit).
const SNAPSHOT_PAGE = 30_000;

/** What the mirror feeds: the directory, or anything else that follows the keyspace. */
export interface MirrorSink {
  /** Forget everything (a full re-list follows). */
  clear(): void;
  /** Apply the changes of one revision (or of a snapshot at that revision). */
  apply(events: readonly DirectoryEvent[], revision: number): void;
}

/** Options of a mirror. */
export interface MirrorOptions {
  readonly client: Etcd3;
  readonly keys: Keyspace;
  readonly sink: MirrorSink;
  readonly log: Logger;
  /** Keys per page of the snapshot (default 30 000). */
  readonly pageSize?: number;
  /**
   * Decoding of one change (default: decodeChange over `keys`); an installation with replicas decodes them too
   * (core/replication/decode-replica.ts).
   */
  readonly decode?: ChangeDecoder;
  /** Timing of the progress check that notices a silent watch (watch-progress.ts). */
  readonly progress?: { readonly intervalMs?: number; readonly timeoutMs?: number; readonly stallMs?: number };
}

/** Follows the keyspace into a sink. Emits `applied` (revision) after every applied revision, `resynced` after a re-list. */
export class Mirror extends EventEmitter {
  /** The last etcd revision applied to the sink (0 before the first snapshot). */
  revision = 0;
  /** Re-lists done since start (compaction or watch cancellation). */
  relists = 0;
  /** Values that failed validation and were not applied. */
  rejected = 0;
  private watcher: Watcher | null = null;
  private isStopped = false;
  private connected = false;
  private readonly log: Logger;
  private readonly waiters: { revision: number; resolve: () => void }[] = [];
  private readonly progress: WatchProgress;

  constructor(private readonly opts: MirrorOptions) {
    super();
    this.log = opts.log.child({ component: 'mirror' });
    const guards = memberGuardsOf(opts.client);
    this.progress = new WatchProgress({
      client: opts.client, probeKey: opts.keys.progressProbe, log: this.log, watching: () => this.connected,
      ...(guards === undefined ? {} : { resetStreams: () => guards.cancelStreams() }),
      ...opts.progress,
    });
  }

  /** How far behind etcd the mirror is (time since its watch was last proven current, and revisions). */
  lag(): WatchLag {
    return this.progress.lag();
  }

  /** True once stop() was called. */
  get stopped(): boolean {
    return this.isStopped;
  }

  /** True once a snapshot is loaded and the watch stream is up. */
  get ready(): boolean {
    return this.revision > 0 && this.connected;
  }

  /**
   * Load the snapshot and start watching; retries until etcd answers (or stop() is called). With `fromRevision`, a
   * consumer that already holds the keyspace as of that revision (the relational mirror) resumes there: the snapshot
   * is read at that revision and the watch starts right after it; when it is compacted, the current one is loaded.
   */
  async start(fromRevision = 0): Promise<void> {
    if (fromRevision <= 0 || !(await this.resumeAt(fromRevision))) await this.resync();
    this.progress.start();
  }

  /** Stop watching. */
  async stop(): Promise<void> {
    this.isStopped = true;
    this.progress.stop();
    const w = this.watcher;
    this.watcher = null;
    await w?.cancel().catch(() => undefined);
  }

  /** Resolves once the sink has applied `revision` (read-your-writes). */
  waitFor(revision: number): Promise<void> {
    if (this.revision >= revision) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ revision, resolve }));
  }

  private async resync(): Promise<void> {
    let failures = 0;
    while (!this.isStopped) {
      try {
        // Decoded page by page: the raw pages are dropped as soon as read (1M keys would otherwise sit twice in memory).
        let events: DirectoryEvent[] = [];
        const snap = await scanPrefix(this.opts.client, this.opts.keys.root, this.opts.pageSize ?? SNAPSHOT_PAGE,
          (key, value, modRevision) => this.decodeInto(events, key, value, modRevision));
        this.opts.sink.clear();
        this.opts.sink.apply(events, snap.revision);
        events = [];
        this.revision = snap.revision;
        this.progress.proven(snap.revision);
        this.log.info({ revision: snap.revision, keys: snap.keys }, 'snapshot loaded');
        await this.watchFrom(snap.revision + 1);
        this.emit('resynced', snap.revision);
        this.release();
        return;
      } catch (err) {
        failures++;
        const e = wrapEtcdError(err, 'mirror snapshot');
        const refused = isEtcdRefusal(e);
        const delay = backoffMs(failures, 250, refused ? 30_000 : 5000);
        if (refused) this.log.error({ err: e.message, code: e.code, failures, retryInMs: delay }, 'etcd refused the snapshot');
        else this.log.warn({ err: e.message, code: e.code, failures, retryInMs: delay }, 'snapshot failed, retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** The snapshot at `revision` and a watch from the next one; false when etcd has compacted it. */
  private async resumeAt(revision: number): Promise<boolean> {
    let failures = 0;
    while (!this.isStopped) {
      try {
        let events: DirectoryEvent[] = [];
        await scanPrefix(this.opts.client, this.opts.keys.root, this.opts.pageSize ?? SNAPSHOT_PAGE,
          (key, value, modRevision) => this.decodeInto(events, key, value, modRevision), revision);
        this.opts.sink.clear();
        this.opts.sink.apply(events, revision);
        events = [];
        this.revision = revision;
        this.log.info({ revision }, 'snapshot loaded at the resume revision');
        await this.watchFrom(revision + 1);
        this.emit('resynced', revision);
        this.release();
        return true;
      } catch (err) {
        const e = wrapEtcdError(err, 'mirror snapshot at revision');
        if (e.code === 'PVS_ETCD_COMPACTED' || /future revision/.test(e.message)) {
          this.log.warn({ revision }, 'resume revision compacted, loading the current snapshot');
          return false;
        }
        failures++;
        const delay = backoffMs(failures, 250, isEtcdRefusal(e) ? 30_000 : 5000);
        this.log.warn({ err: e.message, code: e.code, failures, retryInMs: delay }, 'snapshot at revision failed, retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    return true;
  }

  private async watchFrom(startRevision: number): Promise<void> {
    const watcher = await this.opts.client.watch().prefix(this.opts.keys.root)
      .startRevision(String(startRevision)).create();
    if (this.isStopped) {
      await watcher.cancel();
      return;
    }
    this.watcher = watcher;
    this.connected = true;
    watcher.on('data', (res: IWatchResponse) => {
      if (this.watcher === watcher) this.onData(res);
    });
    watcher.on('connected', () => {
      if (!this.connected) this.log.info({ revision: this.revision }, 'watch resumed');
      this.connected = true;
    });
    watcher.on('disconnected', (err: Error) => {
      this.connected = false;
      // etcd3 would resume from the header revision of the last response, which can lie beyond events not yet
      // delivered during a catch-up; resume from what was really applied instead.
      watcher.request.start_revision = String(this.revision + 1);
      this.log.warn({ err: err.message, revision: this.revision }, 'watch disconnected, resuming');
    });
    watcher.on('error', (err: Error) => {
      // Cancelled by the server: in etcd 3.4 the usual cause is compaction of the revision we need.
      this.log.warn({ err: err.message, revision: this.revision }, 'watch cancelled, re-listing');
      this.connected = false;
      if (this.watcher === watcher) this.watcher = null;
      void watcher.cancel().catch(() => undefined);
      if (!this.isStopped) {
        this.relists++;
        void this.resync();
      }
    });
  }

  private onData(res: IWatchResponse): void {
    let batch: DirectoryEvent[] = [];
    let batchRev = 0;
    const flush = (): void => {
      if (batchRev === 0) return;
      this.opts.sink.apply(batch, batchRev);
      this.revision = batchRev;
      this.emit('applied', batchRev);
      batch = [];
      batchRev = 0;
    };
    for (const ev of res.events as IEvent[]) {
      const rev = Number(ev.kv.mod_revision);
      if (rev <= this.revision) continue; // already applied (snapshot or an earlier stream)
      if (rev !== batchRev) {
        flush();
        batchRev = rev;
      }
      this.decodeInto(batch, ev.kv.key.toString(), ev.type === 'Delete' ? null : ev.kv.value.toString(), rev);
    }
    flush();
    this.release();
  }

  private decodeInto(out: DirectoryEvent[], key: string, value: string | null, modRevision: number): void {
    const r = this.opts.decode === undefined ? decodeChange(this.opts.keys, key, value, modRevision) : this.opts.decode(key, value, modRevision);
    if (r.ok) out.push(r.event);
    else if (!r.ignored) {
      this.rejected++;
      this.log.warn({ key: r.key, reason: r.message }, 'invalid value ignored');
    }
  }

  private release(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (this.revision >= w.revision) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }
}
