/**
 * Composition of one `pvsync archiver-sync` process: an archiver-election agent (src/apps/archiver-agent.ts, group
 * `archiver-sync` by default) whose in-process service is the relational mirror's writer (sync-writer.ts). Any number
 * run; the one holding the election key writes, with the key's create revision as its fencing token; the others wait
 * as standbys. Health and Prometheus metrics (role, revision, lag) for `--port`.
 */
import { hostname } from 'node:os';
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import { Gauge, Registry } from 'prom-client';
import type { StoreOptions } from '../adapters/mariadb/relational-store.js';
import type { DerivationOptions } from '../core/directory/derivation.js';
import { defaultMarginMs } from '../core/election/lease-clock.js';
import { DEFAULT_HEALTH_POLICY } from '../core/election/health.js';
import type { Keyspace } from '../core/keyspace.js';
import { redactedUrl } from '../core/relational/db-url.js';
import { ArchiverAgent } from './archiver-agent.js';
import { SyncWriter, type SyncFollower } from './sync-writer.js';

/** Default election group of the sync writers. */
export const SYNC_GROUP = 'archiver-sync';

/** Settings of one sync process. */
export interface ArchiverSyncOptions {
  readonly client: Etcd3;
  readonly keys: Keyspace;
  readonly store: Omit<StoreOptions, 'log'>;
  readonly log: Logger;
  readonly node?: string;
  readonly group?: string;
  readonly ttlS?: number;
  readonly derivation?: Omit<DerivationOptions, 'onApplied' | 'onSlotDropped'>;
  /** Work that runs in the elected writer beside the relational mirror (issue 10 part B: the appliance reconciler). */
  readonly followers?: () => readonly SyncFollower[];
  /** `/healthz` answers 503 while the writer's oldest uncommitted revision is older than this (default 30 s). */
  readonly maxLagMs?: number;
}

/** A sync process: run it, shut it down, and read its state. */
export interface ArchiverSync {
  readonly agent: ArchiverAgent;
  readonly registry: Registry;
  /** The writer of the current term, while this process leads. */
  readonly writer: SyncWriter | null;
  health(): { ok: boolean } & Record<string, unknown>;
  /** Start (once; later calls return the same promise), resolving once shut down (writer stopped, lease revoked). */
  run(): Promise<void>;
  shutdown(): void;
}

/** Build a sync process. */
export function createArchiverSync(o: ArchiverSyncOptions): ArchiverSync {
  const node = o.node ?? `${hostname()}:${process.pid}`;
  const ttlS = o.ttlS ?? 5;
  const maxLagMs = o.maxLagMs ?? 30_000;
  let writer: SyncWriter | null = null;
  let terms = 0;
  let running: Promise<void> | null = null;
  const services = {
    start: async (token: string): Promise<boolean> => {
      terms++;
      const w = new SyncWriter({
        client: o.client, keys: o.keys, store: o.store, log: o.log, identity: { token: Number(token), writer: node },
        ...(o.derivation === undefined ? {} : { derivation: o.derivation }),
        ...(o.followers === undefined ? {} : { followers: o.followers() }),
      });
      writer = w;
      w.start();
      return true;
    },
    stop: async (): Promise<void> => {
      const w = writer;
      writer = null;
      await w?.stop();
    },
  };
  const agent = new ArchiverAgent({
    node, group: o.group ?? SYNC_GROUP, root: o.keys.root, ttlS, marginMs: defaultMarginMs(ttlS * 1000), start: [], stop: [],
    hookTimeoutMs: 10_000, healthIntervalMs: 2000, healthPolicy: { ...DEFAULT_HEALTH_POLICY, graceMs: 0 }, published: {},
    watchdogFile: null, switchoverHoldBackMs: 1500,
  }, { client: o.client, log: o.log, checks: [], baseEnv: {}, services });

  const registry = new Registry();
  const state = (): { role: string; revision: number; lagRevisions: number; lagMs: number; fenced: boolean } => {
    const w = writer;
    const b = w?.backlog(Date.now()) ?? { revisions: 0, ms: 0 };
    return { role: w === null ? 'standby' : 'writer', revision: w?.committed ?? 0, lagRevisions: b.revisions, lagMs: b.ms, fenced: w?.fenced ?? false };
  };
  new Gauge({ name: 'pvsync_sync_writer', help: '1 while this process is the elected writer of the relational mirror', registers: [registry],
    collect() { this.set(state().role === 'writer' ? 1 : 0); } });
  new Gauge({ name: 'pvsync_sync_revision', help: 'etcd revision last committed to MariaDB by this writer (sync_state.revision)', registers: [registry],
    collect() { this.set(state().revision); } });
  new Gauge({ name: 'pvsync_sync_lag_revisions', help: 'etcd revisions received and not yet committed to MariaDB', registers: [registry],
    collect() { this.set(state().lagRevisions); } });
  new Gauge({ name: 'pvsync_sync_lag_seconds', help: 'age of the oldest etcd revision not yet committed to MariaDB', registers: [registry],
    collect() { this.set(state().lagMs / 1000); } });
  new Gauge({ name: 'pvsync_sync_terms', help: 'times this process became the writer', registers: [registry], collect() { this.set(terms); } });
  new Gauge({ name: 'pvsync_sync_transactions', help: 'transactions committed in the current term', labelNames: ['kind'], registers: [registry],
    collect() {
      const c = writer?.counts;
      this.set({ kind: 'committed' }, c?.transactions ?? 0);
      this.set({ kind: 'failed' }, c?.failures ?? 0);
      this.set({ kind: 'full' }, c?.replaced ?? 0);
    } });

  return {
    agent, registry,
    get writer() {
      return writer;
    },
    health: () => {
      const s = state();
      const ok = s.role === 'standby' || (!s.fenced && s.lagMs <= maxLagMs && s.revision > 0);
      return {
        ok, node, role: agent.currentRole, writer: s.role === 'writer', revision: s.revision, lagRevisions: s.lagRevisions,
        lagSeconds: s.lagMs / 1000, fenced: s.fenced, db: redactedUrl(o.store.target), terms,
      };
    },
    run: () => (running ??= agent.run()),
    shutdown: () => agent.shutdown(),
  };
}
