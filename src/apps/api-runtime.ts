/**
 * Composition of one API replica: a directory fed by a mirror of etcd, its change journal and listeners (for the
 * watch stream), guarded writes through etcd with read-your-writes, and authentication. `pvsync serve` and the
 * integration tests (two replicas in one process) build replicas the same way.
 */
import type { Etcd3 } from 'etcd3';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Authenticator } from '../adapters/auth/authenticator.js';
import { memberGuardsOf } from '../adapters/etcd/client.js';
import { commitGuarded } from '../adapters/etcd/guarded-commit.js';
import { Mirror } from '../adapters/etcd/mirror.js';
import { loadSnapshotAt } from '../adapters/etcd/snapshot-at.js';
import type { HistoryDeps } from '../adapters/http/history-routes.js';
import { PvsError } from '../core/errors.js';
import { buildApp } from '../adapters/http/app.js';
import { installMirrorMetrics } from '../adapters/http/http-metrics.js';
import type { HealthReport, ServiceInfo } from '../adapters/http/service-routes.js';
import type { ChangeListener } from '../adapters/http/watch-route.js';
import type { AuthFile, Principal } from '../core/auth/principal.js';
import { Directory } from '../core/directory/directory.js';
import type { Keyspace } from '../core/keyspace.js';
import type { QueryLimits } from '../core/query/parse-query.js';
import { ChangeJournal, type JournalLimits } from '../core/watch/journal.js';

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
  readonly limits?: QueryLimits;
  readonly journal?: JournalLimits;
  readonly heartbeatMs?: number;
  /** Log HTTP requests with this logger (none by default). */
  readonly httpLogger?: Logger;
  /**
   * History queries load a whole directory per revision asked for: refuse them above this many channels
   * (default 250 000) so that an anonymous GET cannot double the server's memory.
   */
  readonly historyMaxChannels?: number;
}

// Past revisions kept loaded for history queries (each is a whole directory).
const HISTORY_KEPT = 2;

/** A built replica: start() loads the snapshot and watches; the app is ready to listen or inject. */
export interface ApiRuntime {
  readonly directory: Directory;
  readonly mirror: Mirror;
  readonly journal: ChangeJournal;
  readonly app: FastifyInstance;
  /** The user an `Authorization` header names (null without one; PVS_AUTH for bad credentials). */
  authenticate(authorization: string | undefined): Promise<Principal | null>;
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
  };
  const directory = new Directory({
    ...directoryOptions,
    onApplied: (revision, names) => {
      journal.record(revision, names);
      for (const l of listeners) l(revision, names);
    },
  });
  const mirror = new Mirror({ client: o.client, keys: o.keys, sink: directory, log: o.log });
  const authenticator = o.auth === undefined ? null : new Authenticator(o.auth);
  const waitFor = (revision: number): Promise<void> => mirror.waitFor(revision);
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
        await loadSnapshotAt(o.client, o.keys, revision, d);
        return d;
      })();
      historic.set(revision, loading);
      loading.catch(() => historic.delete(revision));
      while (historic.size > HISTORY_KEPT) historic.delete(historic.keys().next().value as number);
      return loading;
    },
  };
  const authenticate = async (header: string | undefined): Promise<Principal | null> =>
    (authenticator === null ? null : authenticator.authenticate(header));
  const app = buildApp({
    directory, registry: o.registry, serviceInfo: o.serviceInfo(mirror), health: () => o.health(mirror, directory),
    ...(o.httpLogger === undefined ? {} : { logger: o.httpLogger }),
    ...(o.limits === undefined ? {} : { limits: o.limits }),
    writes: {
      keys: o.keys, waitFor,
      commit: (ops) => commitGuarded(o.client, ops),
      authenticate,
    },
    history,
    watch: {
      journal, waitFor,
      subscribe: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      ...(o.heartbeatMs === undefined ? {} : { heartbeatMs: o.heartbeatMs }),
    },
  });
  installMirrorMetrics(o.registry, { lag: () => mirror.lag(), members: () => memberGuardsOf(o.client)?.view() ?? [] });
  return {
    directory, mirror, journal, app, authenticate,
    start: () => mirror.start(),
    close: async () => {
      await app.close();
      await mirror.stop();
    },
  };
}
