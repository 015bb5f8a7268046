/**
 * The archive reconciler composed on its own: a mirror of the keyspace into a derivation whose follower is the
 * reconciler, and the archiver group's active node read from etcd. `pvsync archive-reconcile` runs this; a process
 * that already follows the derivation (the archiver-sync writer) plugs `reconciler.channelsChanged` into its own.
 */
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import { EtcdArchiverService } from '../adapters/etcd/archiver-ops.js';
import { Mirror } from '../adapters/etcd/mirror.js';
import type { ArchapplStore } from '../adapters/mariadb/archappl.js';
import { Derivation } from '../core/directory/derivation.js';
import type { Keyspace } from '../core/keyspace.js';
import { ArchiveReconciler, type ReconcilerSettings } from './archive-reconciler.js';

/** A running follower. */
export interface ArchiveFollower {
  readonly reconciler: ArchiveReconciler;
  readonly derivation: Derivation;
  readonly mirror: Mirror;
  /** Resolves when the reconcile loop ends (after stop()). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

/** What a follower needs. */
export interface ArchiveFollowerOptions {
  readonly client: Etcd3;
  readonly keys: Keyspace;
  readonly group: string;
  readonly store?: ArchapplStore;
  readonly log: Logger;
  readonly settings: ReconcilerSettings;
  readonly infoWhitelist?: readonly string[];
}

/** Start mirroring and reconciling; the reconciler starts once the first snapshot is applied. */
export async function startArchiveFollower(o: ArchiveFollowerOptions): Promise<ArchiveFollower> {
  const log = o.log.child({ component: 'archive-reconciler' });
  const service = new EtcdArchiverService(o.client, o.keys.root);
  const reconciler = new ArchiveReconciler(o.settings, {
    active: async () => (await service.status(o.group)).active, ...(o.store === undefined ? {} : { store: o.store }), log,
  });
  // The callback runs only on apply, after construction.
  const derivation: Derivation = new Derivation({
    ...(o.infoWhitelist === undefined ? {} : { infoWhitelist: o.infoWhitelist }),
    onApplied: (_rev, changed) => reconciler.channelsChanged((n) => derivation.get(n), changed, () => derivation.names()),
  });
  const mirror = new Mirror({ client: o.client, keys: o.keys, sink: derivation, log: o.log });
  await mirror.start();
  const done = reconciler.run();
  return {
    reconciler, derivation, mirror, done,
    stop: async () => {
      reconciler.stop();
      await done;
      await mirror.stop();
    },
  };
}

/** What a follower of the archiver-sync writer is handed (structurally the writer's FollowerContext). */
export interface DerivationView {
  readonly derivation: Derivation;
}

/**
 * The reconciler as a follower of the elected archiver-sync writer: `takeover` loads the whole desired state and
 * starts the reconcile loop, `applied` passes on the changed names, `stop` ends the loop (the writer was demoted).
 * Synchronous and never throwing, as the writer requires; the HTTP work runs in the loop.
 */
export function reconcilerFollower(reconciler: ArchiveReconciler): {
  takeover(ctx: DerivationView): void;
  applied(ctx: DerivationView & { readonly changed: readonly string[] | null }): void;
  stop(): Promise<void>;
} {
  let running: Promise<void> | null = null;
  const feed = (d: Derivation, changed: readonly string[] | null): void => {
    reconciler.channelsChanged((n) => d.get(n), changed, () => d.names());
  };
  return {
    takeover: (ctx) => {
      feed(ctx.derivation, null);
      running ??= reconciler.run();
    },
    applied: (ctx) => { feed(ctx.derivation, ctx.changed); },
    stop: async () => {
      reconciler.stop();
      await running;
      running = null;
    },
  };
}
