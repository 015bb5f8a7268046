/**
 * The writer of the relational mirror (`pvsync archiver-sync` while it holds the election): follows etcd with one
 * prefix watch (the Mirror) into a queue, and one drain loop applies the queue to its own Derivation — the same one
 * the API derives channels with — turns each revision's effect into row changes and commits them to MariaDB in one
 * transaction with `sync_state.revision`, fenced by the election token (adapters/mariadb/relational-store.ts).
 *
 * - Resume: it starts the Mirror at `sync_state.revision` (snapshot at that revision, watch from the next one), so
 *   nothing is lost or applied twice after a crash, a restart or a takeover. When etcd has compacted that revision,
 *   the Mirror loads the current snapshot and the writer replaces the whole mirror in one transaction (converges).
 * - MariaDB down: the watch keeps filling the queue (nothing is derived ahead of the database); the pending
 *   transaction is retried with back-off, and once it commits the backlog goes in as one transaction per batch of
 *   consecutive revisions (each revision whole inside one transaction).
 * - Fenced (a newer writer's token in sync_state): it stops writing at once and reports it; the agent demotes.
 */
import { EventEmitter } from 'node:events';
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import { Mirror } from '../adapters/etcd/mirror.js';
import { RelationalStore, type StoreOptions, type WriterIdentity } from '../adapters/mariadb/relational-store.js';
import { backoffMs } from '../core/backoff.js';
import { Derivation, type DerivationOptions } from '../core/directory/derivation.js';
import type { DirectoryEvent } from '../core/directory/events.js';
import { isPvsError, messageOf } from '../core/errors.js';
import type { Keyspace } from '../core/keyspace.js';
import { changesOf, iocIdsOf, type RowChanges } from '../core/relational/rows.js';

/**
 * What a follower of the writer sees: the derivation (valid only during the call: it moves on afterwards, so read
 * what you need synchronously), the revision it shows, and the writer's election token.
 */
export interface FollowerContext {
  readonly derivation: Derivation;
  readonly revision: number;
  /** The election key's create revision: fence your own writes with it (e.g. the appliance requests). */
  readonly token: number;
}

/**
 * The composition point for other work of the elected writer (the appliance reconciler of issue 10 part B):
 * `takeover` once this writer's mirror is consistent with etcd (rows committed at `revision`), `applied` after each
 * committed transaction with the channels that may have changed (null: anything, e.g. after a re-list), and `stop`
 * when the writer stops (demoted, fenced or shut down). Calls are synchronous and in revision order; do slow work
 * (HTTP, retries) asynchronously and never throw.
 */
export interface SyncFollower {
  takeover?(ctx: FollowerContext): void;
  applied?(ctx: FollowerContext & { readonly changed: readonly string[] | null }): void;
  stop?(): Promise<void>;
}

/** Everything the writer is made of. */
export interface SyncWriterOptions {
  readonly client: Etcd3;
  readonly keys: Keyspace;
  readonly store: Omit<StoreOptions, 'log'>;
  readonly identity: WriterIdentity;
  readonly derivation?: Omit<DerivationOptions, 'onApplied' | 'onSlotDropped'>;
  readonly followers?: readonly SyncFollower[];
  readonly log: Logger;
  /** Most revisions per transaction when catching up on a backlog (default 1 000). */
  readonly maxRevisionsPerTransaction?: number;
  /** Channels per chunk of a full load (default 10 000). */
  readonly loadChunk?: number;
}

type Entry = { readonly kind: 'clear' } | { readonly kind: 'apply'; readonly events: readonly DirectoryEvent[]; readonly revision: number; readonly at: number };

/** Pending work that failed and is retried as it was computed. */
type Pending =
  | { readonly kind: 'apply'; readonly changes: RowChanges; readonly base: number; readonly revision: number; readonly changed: readonly string[] | null }
  | { readonly kind: 'replace'; readonly revision: number };

/**
 * One term of the writer (one election token). Events: `committed` (revision) after every commit, `fenced` when a
 * newer writer owns the mirror, `failed` (error) on every failed transaction.
 */
export class SyncWriter extends EventEmitter {
  /** `sync_state.revision` as last committed or read by this writer (0 before). */
  committed = 0;
  /** Transactions committed, failed attempts, and items the schema could not hold. */
  readonly counts = { transactions: 0, failures: 0, skipped: 0, replaced: 0 };
  private readonly log: Logger;
  private readonly store: RelationalStore;
  private readonly derivation: Derivation;
  private mirror: Mirror | null = null;
  private readonly queue: Entry[] = [];
  private pending: Pending | null = null;
  private running = false;
  private isFenced = false;
  private wake: (() => void) | null = null;
  private retryWake: (() => void) | null = null;
  private loop: Promise<void> = Promise.resolve();
  private lastChanged: string[] | null = [];
  private started = false;

  constructor(private readonly o: SyncWriterOptions) {
    super();
    this.log = o.log.child({ component: 'archiver-sync', token: o.identity.token });
    this.store = new RelationalStore({ ...o.store, log: this.log });
    this.derivation = new Derivation({
      ...o.derivation,
      onApplied: (_rev, names) => {
        if (names === null) this.lastChanged = null;
        else if (this.lastChanged !== null) for (const n of names) this.lastChanged.push(n);
      },
    });
  }

  /** True once a newer writer's token was found in sync_state. */
  get fenced(): boolean {
    return this.isFenced;
  }

  /** Revisions received from etcd and not yet committed, and the age in ms of the oldest of them (0 when none). */
  backlog(now: number): { revisions: number; ms: number } {
    const first = this.queue.find((e) => e.kind === 'apply');
    const mirrorRev = this.mirror?.revision ?? this.committed;
    return { revisions: Math.max(0, mirrorRev - this.committed), ms: first !== undefined && first.kind === 'apply' ? now - first.at : 0 };
  }

  /** The Mirror while running (for its watch lag). */
  get watch(): Mirror | null {
    return this.mirror;
  }

  /** Start: connect, migrate, claim sync_state with the token (retrying while MariaDB is down), then follow etcd. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run().catch((err: unknown) => {
      this.log.error({ err: messageOf(err) }, 'archiver-sync writer failed');
    });
  }

  /** Stop following and writing; an open transaction is abandoned (the server rolls it back). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    this.retryWake?.();
    await this.mirror?.stop();
    this.store.destroy();
    await this.loop;
    for (const f of this.o.followers ?? []) await f.stop?.().catch(() => undefined);
  }

  private async run(): Promise<void> {
    const st = await this.retry('claim', () => this.store.open().then(() => this.store.claim(this.o.identity)));
    if (st === undefined) return;
    this.committed = st.revision;
    this.log.info({ revision: st.revision, previousWriter: st.writer, previousToken: st.fencingToken }, 'took over the relational mirror');
    await this.follow(st.revision);
    while (this.running) {
      const entry = this.queue[0];
      // A re-list is a clear followed by its snapshot: wait for both.
      const ready = entry !== undefined && (entry.kind === 'apply' || this.queue.length >= 2);
      if (!ready && this.pending === null) {
        await new Promise<void>((r) => { this.wake = r; });
        this.wake = null;
        continue;
      }
      if (this.pending === null) this.prepare();
      const p = this.pending;
      if (p === null) continue;
      const done = await this.retry(p.kind, () => this.write(p));
      if (done === undefined) return;
      this.pending = null;
      if (done === 'diverged') {
        const now = await this.retry('read', () => this.store.readState());
        if (now === undefined) return;
        this.log.warn({ expected: p.kind === 'apply' ? p.base : 0, found: now.revision }, 'sync_state moved under this writer; resuming from it');
        this.committed = now.revision;
        await this.mirror?.stop();
        this.queue.length = 0;
        await this.follow(now.revision);
      }
    }
  }

  /** Start the Mirror at `revision` (0: the current snapshot) feeding the queue. */
  private async follow(revision: number): Promise<void> {
    const mirror = new Mirror({
      client: this.o.client, keys: this.o.keys, log: this.log,
      sink: {
        clear: () => this.enqueue({ kind: 'clear' }),
        apply: (events, rev) => this.enqueue({ kind: 'apply', events, revision: rev, at: Date.now() }),
      },
    });
    this.mirror = mirror;
    await mirror.start(revision);
    if (!this.running) await mirror.stop();
  }

  private enqueue(e: Entry): void {
    this.queue.push(e);
    this.wake?.();
  }

  /** Take queued revisions into the derivation and compute the next transaction. Synchronous. */
  private prepare(): void {
    const first = this.queue[0];
    if (first === undefined) return;
    if (first.kind === 'clear') {
      // A snapshot follows (at the resume revision, or the current one after a compaction or cancellation).
      const snap = this.queue[1];
      if (snap === undefined) return;
      this.queue.splice(0, 2);
      this.derivation.clear();
      if (snap.kind !== 'apply') return;
      this.derivation.apply(snap.events, snap.revision);
      if (snap.revision === this.committed && this.started) {
        this.notify(snap.revision, null);
        return;
      }
      if (snap.revision === this.committed) {
        // The database already holds exactly this revision: nothing to write.
        this.started = true;
        this.takeover(snap.revision);
        return;
      }
      this.pending = { kind: 'replace', revision: snap.revision };
      return;
    }
    const max = this.o.maxRevisionsPerTransaction ?? 1000;
    const base = this.committed;
    const iocIds = new Set<string>();
    this.lastChanged = [];
    let revision = base;
    let taken = 0;
    while (taken < max) {
      const e = this.queue[0];
      if (e === undefined || e.kind !== 'apply') break;
      this.queue.shift();
      taken++;
      if (e.revision <= revision) continue; // already in (the Mirror never repeats one; a guard only)
      iocIdsOf(e.events, iocIds);
      this.derivation.apply(e.events, e.revision);
      revision = e.revision;
    }
    if (revision === base) return;
    const changed = this.lastChanged;
    if (changed === null) {
      // A change that may restyle every channel: rewrite the whole mirror.
      this.pending = { kind: 'replace', revision };
      return;
    }
    const changes = changesOf(this.derivation, new Set(changed), iocIds);
    this.pending = { kind: 'apply', changes, base, revision, changed: [...new Set(changed)] };
  }

  private async write(p: Pending): Promise<'applied' | 'already' | 'diverged'> {
    const id = this.o.identity;
    if (p.kind === 'replace') {
      const started = Date.now();
      const chunk = this.o.loadChunk ?? 10_000;
      const d = this.derivation;
      const skipped: string[] = [];
      const res = await this.store.replaceAll(function* chunks() {
        const names = d.names();
        for (let i = 0; i < names.length; i += chunk) {
          const c = changesOf(d, names.slice(i, i + chunk), i === 0 ? [...d.iocs.keys()] : []);
          skipped.push(...c.skipped);
          yield c;
        }
        if (names.length === 0) yield changesOf(d, [], [...d.iocs.keys()]);
      }, p.revision, id);
      this.committedAt(p.revision, skipped);
      this.counts.replaced++;
      this.log.info({ revision: p.revision, channels: res.channels, rows: res.rows, ms: Date.now() - started }, 'relational mirror loaded');
      if (!this.started) {
        this.started = true;
        this.takeover(p.revision);
      } else {
        this.notify(p.revision, null);
      }
      return 'applied';
    }
    const out = await this.store.apply(p.changes, p.base, p.revision, id);
    if (out === 'diverged') return out;
    this.committedAt(p.revision, p.changes.skipped);
    if (!this.started) {
      this.started = true;
      this.takeover(p.revision);
    } else {
      this.notify(p.revision, p.changed);
    }
    return out;
  }

  private committedAt(revision: number, skipped: readonly string[]): void {
    this.committed = revision;
    this.counts.transactions++;
    if (skipped.length > 0) {
      this.counts.skipped += skipped.length;
      this.log.warn({ revision, skipped: skipped.slice(0, 10), count: skipped.length }, 'left out of the relational mirror (too long for its columns)');
    }
    this.emit('committed', revision);
  }

  private takeover(revision: number): void {
    for (const f of this.o.followers ?? []) {
      try {
        f.takeover?.({ derivation: this.derivation, revision, token: this.o.identity.token });
      } catch (err) {
        this.log.error({ err: messageOf(err) }, 'follower failed at takeover');
      }
    }
  }

  private notify(revision: number, changed: readonly string[] | null): void {
    for (const f of this.o.followers ?? []) {
      try {
        f.applied?.({ derivation: this.derivation, revision, token: this.o.identity.token, changed });
      } catch (err) {
        this.log.error({ err: messageOf(err) }, 'follower failed');
      }
    }
  }

  /** Run `fn` until it succeeds, backing off on retryable failures; undefined when stopped or fenced. */
  private async retry<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    let failures = 0;
    while (this.running) {
      try {
        return await fn();
      } catch (err) {
        if (isPvsError(err, 'PVS_SYNC_FENCED')) {
          this.isFenced = true;
          this.running = false;
          this.log.warn({ err: err.message }, 'fenced: a newer writer owns the relational mirror; writing nothing more');
          this.emit('fenced', err);
          return undefined;
        }
        if (!this.running) return undefined;
        failures++;
        this.counts.failures++;
        const delay = backoffMs(failures, 200, 5000);
        this.log.warn({ step: what, err: messageOf(err), failures, retryInMs: delay }, 'relational mirror write failed, retrying');
        this.emit('failed', err);
        await new Promise<void>((r) => {
          const t = setTimeout(r, delay);
          this.retryWake = () => { clearTimeout(t); r(); };
        });
        this.retryWake = null;
      }
    }
    return undefined;
  }
}
