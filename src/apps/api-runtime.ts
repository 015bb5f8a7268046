/**
 * Composition of one API replica: a directory fed by a mirror of etcd, its change journal and listeners (for the
 * watch stream), guarded writes through etcd with read-your-writes, and authentication. `pvsync serve` and the
 * integration tests (two replicas in one process) build replicas the same way.
 */
import type { Etcd3 } from 'etcd3';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Authenticator, type PasswordCheckGate } from '../adapters/auth/authenticator.js';
import { memberGuardsOf } from '../adapters/etcd/client.js';
import { commitGuarded } from '../adapters/etcd/guarded-commit.js';
import { Mirror, type MirrorOptions } from '../adapters/etcd/mirror.js';
import { oldestReadable, replayRevisions } from '../adapters/etcd/history-replay.js';
import { etcdRevision } from '../adapters/etcd/kv.js';
import { loadSnapshotAt } from '../adapters/etcd/snapshot-at.js';
import type { LoginLimit } from '../adapters/http/auth-guard.js';
import { RevisionWaiters } from '../adapters/http/revision-waiters.js';
import type { HistoryDeps } from '../adapters/http/history-routes.js';
import { PvsError, messageOf } from '../core/errors.js';
import { buildApp, type AppDeps } from '../adapters/http/app.js';
import { installMirrorMetrics } from '../adapters/http/http-metrics.js';
import type { HealthReport, ServiceInfo } from '../adapters/http/service-routes.js';
import type { ChangeListener } from '../adapters/http/watch-route.js';
import type { AuthFile, Principal } from '../core/auth/principal.js';
import { Directory } from '../core/directory/directory.js';
import type { Keyspace } from '../core/keyspace.js';
import type { QueryLimits } from '../core/query/parse-query.js';
import { ChangeJournal, type JournalEntry, type JournalLimits } from '../core/watch/journal.js';

/** Everything a replica is made of. */
export interface ApiRuntimeOptions {
  readonly client: Etcd3;
  readonly keys: Keyspace;
  readonly log: Logger;
  readonly registry: Registry;
  readonly serviceInfo: (mirror: Mirror) => ServiceInfo;
  readonly health: (mirror: Mirror, directory: Directory) => HealthReport;
  /** Users allowed to write; writes are refused (401) without. */
  readonly auth?: AuthFile;
  readonly owner?: string;
  readonly infoWhitelist?: readonly string[];
  /** IOC environment variables published as properties (variable → property name). */
  readonly envProperties?: Readonly<Record<string, string>>;
  readonly limits?: QueryLimits;
  readonly journal?: JournalLimits;
  readonly heartbeatMs?: number;
  /** Largest request body in bytes (buildApp's default without). */
  readonly bodyLimit?: number;
  /** Longest a write waits for this replica to show it before 503 PVS_MIRROR_TIMEOUT (default 5 000 ms). */
  readonly writeWaitMs?: number;
  /** Password checks allowed per client address and window (default 10 a minute). */
  readonly loginLimit?: LoginLimit;
  /** How long a 429 provoked by a flood (password checks, watch streams) is held before it is sent (default 1 000 ms). */
  readonly refusalHoldMs?: number;
  /** Watch streams allowed in total and per client address (defaults 1 000 and 16). */
  readonly maxWatches?: number;
  readonly maxWatchesPerClient?: number;
  /** The archiver election's routes, switchovers guarded like writes (none by default). */
  readonly archiver?: AppDeps['archiver'];
  /** Directory of the built operator console, served at `/console/` (none by default). */
  readonly consoleRoot?: string;
  /** Log HTTP requests with this logger (none by default). */
  readonly httpLogger?: Logger;
  /**
   * After a start, the watch journal is extended back this many revisions from etcd history (default 1 000), so that
   * a client resuming with a `Last-Event-ID` from before a restart gets what it missed instead of a reset; 0: off.
   * Skipped above historyMaxChannels.
   */
  readonly journalBackfillRevisions?: number;
  /**
   * History queries load a whole directory per revision asked for: refuse them above this many channels
   * (default 250 000) so that an anonymous GET cannot double the server's memory.
   */
  readonly historyMaxChannels?: number;
  /** Requests served at once past which new ones get 503 with Retry-After (unbounded by default). */
  readonly maxInFlight?: number;
  /** Several installations: the mirror's decoder (local data and replicas) and the installation routes; none by default. */
  readonly installations?: { readonly decode: MirrorOptions['decode']; readonly routes: AppDeps['installations'] };
}

// Past revisions kept loaded for history queries (each is a whole directory).
const HISTORY_KEPT = 2;

/** A built replica: start() loads the snapshot and watches; the app is ready to listen or inject. */
export interface ApiRuntime {
  readonly directory: Directory;
  readonly mirror: Mirror;
  readonly journal: ChangeJournal;
  readonly app: FastifyInstance;
  /** Settles once the watch journal has been extended back after start() (or that failed, logged). */
  readonly backfilled: Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Default bound on the mirror's lag past which `/healthz` answers 503 (`pvsync serve --max-lag`). */
export const DEFAULT_MAX_LAG_MS = 5000;

/**
 * The mirror part of a health report: healthy while the mirror runs, has its watch up, and its watch was proven
 * current with etcd within `maxLagMs`; the detail has the lag and the etcd members this replica avoids.
 */
export function mirrorHealth(mirror: Mirror, client: Etcd3, maxLagMs = DEFAULT_MAX_LAG_MS): { ok: boolean; mirror: Record<string, unknown> } {
  const lag = mirror.lag();
  const ok = mirror.ready && !mirror.stopped && lag.ms <= maxLagMs;
  return {
    ok,
    mirror: {
      ready: mirror.ready, stopped: mirror.stopped, revision: mirror.revision,
      lagSeconds: lag.ms / 1000, lagRevisions: lag.revisions, maxLagSeconds: maxLagMs / 1000,
      clusterRevision: lag.clusterRevision, avoidedMembers: (memberGuardsOf(client)?.view() ?? []).filter((m) => m.isolated),
    },
  };
}

/** Build one replica. */
export function createApiRuntime(o: ApiRuntimeOptions): ApiRuntime {
  const journal = new ChangeJournal(o.journal);
  const listeners = new Set<ChangeListener>();
  const directoryOptions = {
    ...(o.owner === undefined ? {} : { owner: o.owner }),
    ...(o.infoWhitelist === undefined ? {} : { infoWhitelist: o.infoWhitelist }),
    ...(o.envProperties === undefined ? {} : { envProperties: o.envProperties }),
  };
  // Created before the directory, whose first apply already calls back; it reads the directory only later.
  const waiters: RevisionWaiters = new RevisionWaiters(() => directory.revision);
  const directory: Directory = new Directory({
    ...directoryOptions,
    onApplied: (revision, names) => {
      journal.record(revision, names);
      for (const l of listeners) l(revision, names);
      waiters.applied(revision);
    },
  });
  const decode = o.installations?.decode;
  const mirror = new Mirror({ client: o.client, keys: o.keys, sink: directory, log: o.log, ...(decode === undefined ? {} : { decode }) });
  const authenticator = o.auth === undefined ? null : new Authenticator(o.auth);
  const waitFor = (revision: number, timeoutMs: number): Promise<boolean> => waiters.wait(revision, timeoutMs);
  const historic = new Map<number, Promise<Directory>>();
  const history: HistoryDeps = {
    currentRevision: () => mirror.revision,
    at: (revision) => {
      const kept = historic.get(revision);
      if (kept !== undefined) return kept;
      const max = o.historyMaxChannels ?? 250_000;
      if (directory.size > max) {
        return Promise.reject(new PvsError('PVS_BAD_REQUEST',
          `history queries are limited to installations of ${max} channels (this one has ${directory.size})`));
      }
      const loading = (async () => {
        const d = new Directory({ ...directoryOptions, jsonCacheBytes: 0 });
        await loadSnapshotAt(o.client, o.keys, revision, d, decode);
        return d;
      })();
      historic.set(revision, loading);
      loading.catch(() => historic.delete(revision));
      while (historic.size > HISTORY_KEPT) historic.delete(historic.keys().next().value as number);
      return loading;
    },
  };
  let backfilled: Promise<void> = Promise.resolve();
  const authenticate = async (header: string | undefined, gate?: PasswordCheckGate): Promise<Principal | null> => {
    if (authenticator !== null) return authenticator.authenticate(header, gate);
    // No users: every write is refused, but a wrong password still counts as one (and costs no scrypt).
    if (header !== undefined && header.trim() !== '') {
      await gate?.();
      throw new PvsError('PVS_AUTH', 'bad credentials (this server has no users)');
    }
    return null;
  };
  const app = buildApp({
    directory, registry: o.registry, serviceInfo: o.serviceInfo(mirror), health: () => o.health(mirror, directory),
    ...(o.httpLogger === undefined ? {} : { logger: o.httpLogger }),
    ...(o.limits === undefined ? {} : { limits: o.limits }),
    ...(o.bodyLimit === undefined ? {} : { bodyLimit: o.bodyLimit }),
    writes: {
      keys: o.keys, waitFor,
      commit: (ops) => commitGuarded(o.client, ops),
      authenticate,
      ...(o.writeWaitMs === undefined ? {} : { waitMs: o.writeWaitMs }),
      ...(o.loginLimit === undefined ? {} : { loginLimit: o.loginLimit }),
    },
    history,
    ...(o.archiver === undefined ? {} : { archiver: o.archiver }),
    ...(o.installations?.routes === undefined ? {} : { installations: o.installations.routes }),
    ...(o.maxInFlight === undefined ? {} : { maxInFlight: o.maxInFlight }),
    ...(o.refusalHoldMs === undefined ? {} : { refusalHold: { holdMs: o.refusalHoldMs } }),
    ...(o.consoleRoot === undefined ? {} : { consoleRoot: o.consoleRoot }),
    watch: {
      journal, waitFor,
      subscribe: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      etcdRevision: () => etcdRevision(o.client, o.keys.root),
      journalReady: () => backfilled,
      ...(o.heartbeatMs === undefined ? {} : { heartbeatMs: o.heartbeatMs }),
      ...(o.maxWatches === undefined ? {} : { maxStreams: o.maxWatches }),
      ...(o.maxWatchesPerClient === undefined ? {} : { maxStreamsPerClient: o.maxWatchesPerClient }),
    },
  });
  installMirrorMetrics(o.registry, { lag: () => mirror.lag(), members: () => memberGuardsOf(o.client)?.view() ?? [] });
  // The journal starts at the snapshot: replay the revisions just before it from etcd into a scratch directory, which
  // names what each changed, as the live one would have.
  const backfill = async (): Promise<void> => {
    const upTo = journal.floor;
    const want = Math.max(1, upTo - (o.journalBackfillRevisions ?? 1000));
    if (want >= upTo || directory.size > (o.historyMaxChannels ?? 250_000)) return;
    let from: number;
    try {
      // etcd compacts on its own (and operators by hand): start at the oldest revision it still holds, not at none.
      from = await oldestReadable(o.client, o.keys.root, want, upTo);
    } catch (err) {
      o.log.warn({ err: messageOf(err), from: want, to: upTo }, 'watch journal not extended back (a resume from before the start gets a reset)');
      return;
    }
    if (from >= upTo) return;
    let older: JournalEntry[] = [];
    let floor = from;
    const scratch = new Directory({
      ...directoryOptions, jsonCacheBytes: 0,
      onApplied: (revision, names) => {
        if (names !== null) {
          older.push({ revision, names });
          return;
        }
        // The snapshot at `from`, or a change that restyles everything: a resume from before it must re-list.
        older = [];
        floor = revision;
      },
    });
    try {
      await replayRevisions(o.client, o.keys, from, upTo, scratch, undefined, decode);
      if (journal.backfill(floor, older, upTo)) o.log.info({ from: floor, to: upTo, revisions: older.length }, 'watch journal extended back');
    } catch (err) {
      o.log.warn({ err: messageOf(err), from, to: upTo }, 'watch journal not extended back (a resume from before the start gets a reset)');
    }
  };
  return {
    directory, mirror, journal, app,
    get backfilled() {
      return backfilled;
    },
    start: async () => {
      await mirror.start();
      backfilled = backfill();
    },
    close: async () => {
      // Ends every watch stream, refuses new requests (503) and waits for those in flight; their waits are bounded.
      await app.close();
      waiters.cancelAll();
      await mirror.stop();
    },
  };
}
