/**
 * Notices a silent watch stream. A watch on a member cut off from the client (or stuck) delivers nothing, which
 * looks exactly like a quiet keyspace; so every round this reads the cluster's current revision R with a
 * linearizable call (through a member that has a leader), then opens a throw-away watch on the SAME stream (etcd3
 * multiplexes all watches of a client on one stream) and waits for its "created" answer, whose header carries the
 * serving member's revision. An answer with revision ≥ R proves the stream alive and current up to R. When nothing
 * proves it for `stallMs`, the client's streams are cancelled so that etcd3 re-establishes the watch on another
 * member (the mirror resumes from its own last revision).
 */
import type { Etcd3, IWatchResponse } from 'etcd3';
import type { Logger } from 'pino';
import { messageOf } from '../../core/errors.js';

/** How far behind the cluster a watch is, as of the last check. */
export interface WatchLag {
  /** Time since the stream was last proven current, in ms. */
  readonly ms: number;
  /** Revisions the cluster is ahead of what the stream has proven (0 when current). */
  readonly revisions: number;
  /** The cluster revision last read. */
  readonly clusterRevision: number;
  /** The cluster revision up to which the stream was last proven current. */
  readonly provenRevision: number;
}

/** Options of a progress check. */
export interface WatchProgressOptions {
  readonly client: Etcd3;
  /** A key nobody writes (read for the cluster revision and watched by the probe watch). */
  readonly probeKey: string;
  /** Cancels the client's streams (MemberGuards.cancelStreams); without it a stall is only reported. */
  readonly resetStreams?: () => number;
  /** Whether the watch being checked is up (a watch being re-created is not probed). */
  readonly watching: () => boolean;
  readonly log: Logger;
  /** Pause between rounds in ms (default 250). */
  readonly intervalMs?: number;
  /** Deadline of the probe watch's answer and of the revision read, in ms (default 1000). */
  readonly timeoutMs?: number;
  /** Time without proof after which the streams are moved, in ms (default 1500). */
  readonly stallMs?: number;
  readonly now?: () => number;
}

/** Runs rounds until stopped; `lag()` says how far behind the checked watch is. */
export class WatchProgress {
  private provenAt: number;
  private provenRevision = 0;
  private clusterRevision = 0;
  private lastReset = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly o: WatchProgressOptions) {
    this.now = o.now ?? Date.now;
    this.provenAt = this.now();
  }

  /** The watch was proven current up to `revision` by other means (a snapshot just loaded at it). */
  proven(revision: number): void {
    this.provenAt = this.now();
    if (revision > this.provenRevision) this.provenRevision = revision;
    if (revision > this.clusterRevision) this.clusterRevision = revision;
  }

  /** Start the rounds. */
  start(): void {
    if (this.timer !== null || this.stopped) return;
    this.timer = setTimeout(() => void this.round(), this.o.intervalMs ?? 250);
    this.timer.unref();
  }

  /** Stop the rounds. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** How far behind the watch is now. */
  lag(): WatchLag {
    return {
      ms: Math.max(0, this.now() - this.provenAt),
      revisions: Math.max(0, this.clusterRevision - this.provenRevision),
      clusterRevision: this.clusterRevision,
      provenRevision: this.provenRevision,
    };
  }

  private async round(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.check();
    } catch (err) {
      this.o.log.debug({ err: messageOf(err) }, 'watch progress check failed');
    }
    const stalled = this.now() - this.provenAt;
    const stallMs = this.o.stallMs ?? 1500;
    if (!this.stopped && stalled > stallMs && this.now() - this.lastReset > stallMs && this.o.resetStreams !== undefined) {
      this.lastReset = this.now();
      const n = this.o.resetStreams();
      this.o.log.warn({ stalledMs: stalled, lagRevisions: this.lag().revisions, streams: n }, 'watch stalled, moving it to another member');
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.round(), this.o.intervalMs ?? 250);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    const timeoutMs = this.o.timeoutMs ?? 1000;
    const startedAt = this.now();
    const res = await this.o.client.get(this.o.probeKey).options({ deadline: Date.now() + timeoutMs }).exec();
    const r = Number(res.header.revision);
    if (r > this.clusterRevision) this.clusterRevision = r;
    if (!this.o.watching()) return;
    const memberRevision = await this.probeWatch(timeoutMs);
    if (memberRevision !== null && memberRevision >= r) {
      if (startedAt > this.provenAt) this.provenAt = startedAt;
      if (r > this.provenRevision) this.provenRevision = r;
    }
  }

  /** Open a watch on the shared stream and wait for etcd's "created" answer; its header revision, or null. */
  private probeWatch(timeoutMs: number): Promise<number | null> {
    const w = this.o.client.watch().key(this.o.probeKey).watcher();
    return new Promise<number | null>((resolve) => {
      let settled = false;
      const done = (v: number | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(t);
        w.removeAllListeners('connected');
        // Cancelling waits for the stream's answer; on a silent stream that comes only once it is re-established.
        void w.cancel().catch(() => undefined);
        resolve(v);
      };
      const t = setTimeout(() => done(null), timeoutMs);
      w.on('error', () => done(null));
      w.once('connected', (res: IWatchResponse) => done(Number(res.header.revision)));
    });
  }
}
