/**
 * What `pvsync serve --installations FILE --installation NAME` adds (docs/operations.md, "Several installations"):
 * the mirror decodes the replicas held here with the local data, channels carry their installation, the replicas'
 * checkpoints are polled for `/api/v1/installations` and `/healthz`, writes of a replicated type go to its primary,
 * and the archiver routes read the replica of the archiver groups when another installation is their primary.
 */
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import { ReplicaStatus, replicaLagSeconds } from '../adapters/etcd/replica-status.js';
import type { InstallationDeps, InstallationsReport, WriteRouting } from '../adapters/http/installation-routes.js';
import type { ChangeDecoder } from '../core/directory/decode.js';
import { foreignPrimary, installationOf, type DataType, type Installation, type Installations } from '../core/installations/config.js';
import type { Keyspace } from '../core/keyspace.js';
import { replicaDecoder } from '../core/replication/decode-replica.js';
import { replicaRoot } from '../core/replication/keys.js';
import { replicaState } from '../core/replication/staleness.js';

const WRITE_METHODS = new Set(['PUT', 'POST', 'DELETE']);

/** The parts of an installation-aware server. */
export interface InstallationServe {
  readonly decode: ChangeDecoder;
  readonly routes: Omit<InstallationDeps, 'bodyLimit'>;
  /** Where the archiver groups served here are read: this installation's root, or its replica of their primary's. */
  readonly archiverRoot: string;
  readonly status: ReplicaStatus;
  /** The replicas held here with their lag, for /healthz. */
  health(): Record<string, unknown>[];
}

/** Default of installationServe's `staleAfterSeconds` (`pvsync serve --replica-max-lag`), as replicate's `--max-lag`. */
export const DEFAULT_REPLICA_MAX_LAG_S = 30;

/**
 * Compose them for installation `self` of `cfg`; `forwardWrites` false refuses writes at a secondary instead; a
 * replica held here not proven current for over `staleAfterSeconds` is reported `stale`.
 */
export function installationServe(
  cfg: Installations, self: Installation, client: Etcd3, keys: Keyspace, log: Logger, forwardWrites: boolean,
  staleAfterSeconds = DEFAULT_REPLICA_MAX_LAG_S,
): InstallationServe {
  const status = new ReplicaStatus(client, keys.root, log.child({ component: 'replica-status' }));
  const held = (): Record<string, unknown>[] => {
    const now = Date.now();
    return status.replicas.map((ck) => ({
      source: ck.source, type: ck.type, revision: ck.revision, provenAt: ck.provenAt ?? null,
      lagSeconds: replicaLagSeconds(ck, now), ...(ck.pending === undefined ? {} : { pending: ck.pending }),
    }));
  };
  const report = (): InstallationsReport => {
    const now = Date.now();
    return {
      installation: self.name,
      staleAfterSeconds,
      installations: cfg.installations.map((i) => ({ name: i.name, api: i.api, networks: i.networks })),
      data: cfg.flows.map((f) => ({
        type: f.type, primary: f.primary,
        replicas: f.replicas.map((r) => {
          // Only the replicas held here have their checkpoint in this installation's etcd.
          const ck = r === self.name ? status.replicas.find((c) => c.source === f.primary && c.type === f.type) : undefined;
          const lagSeconds = ck === undefined ? null : replicaLagSeconds(ck, now);
          return {
            installation: r, lagSeconds, revision: ck?.revision ?? null, provenAt: ck?.provenAt ?? null,
            state: replicaState(r === self.name, lagSeconds, staleAfterSeconds),
          };
        }),
      })),
    };
  };
  // Each replicated type written here goes to its own primary (they may differ).
  const writes: WriteRouting[] = [];
  const route = (type: DataType, what: string, matches: WriteRouting['matches']): void => {
    const primary = foreignPrimary(cfg, type, self.name);
    if (primary === undefined) return;
    writes.push({ what, matches, primary, primaryUrls: forwardWrites ? [...(installationOf(cfg, primary)?.api ?? [])] : [] });
  };
  route('api', 'channels, tags and properties', (method, path) => WRITE_METHODS.has(method) && path.startsWith('/ChannelFinder/resources/'));
  route('archiver', 'the archiver groups (their election and active node)', (method, path) => method === 'POST' && path === '/api/v1/archiver/switchover');
  const archiverPrimary = foreignPrimary(cfg, 'archiver', self.name);
  return {
    decode: replicaDecoder(keys, self.name),
    routes: { report, writes },
    archiverRoot: archiverPrimary === undefined ? keys.root : replicaRoot(keys.root, archiverPrimary),
    status,
    health: held,
  };
}
