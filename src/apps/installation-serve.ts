/**
 * What `pvsync serve --installations FILE --installation NAME` adds (docs/operations.md, "Several installations"):
 * the mirror decodes the replicas held here with the local data, channels carry their installation, the replicas'
 * checkpoints are polled for `/api/v1/installations` and `/healthz`, and writes of a replicated type go to its primary.
 */
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import { ReplicaStatus, replicaLagSeconds } from '../adapters/etcd/replica-status.js';
import type { InstallationDeps, InstallationsReport } from '../adapters/http/installation-routes.js';
import type { DecodeResult } from '../core/directory/decode.js';
import { foreignPrimary, installationOf, type Installation, type Installations } from '../core/installations/config.js';
import type { Keyspace } from '../core/keyspace.js';
import { replicaDecoder } from '../core/replication/decode-replica.js';
import { replicaState } from '../core/replication/staleness.js';

/** The parts of an installation-aware server. */
export interface InstallationServe {
  readonly decode: (key: string, value: string | null, modRevision: number) => DecodeResult;
  readonly routes: Omit<InstallationDeps, 'bodyLimit'>;
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
  const primary = foreignPrimary(cfg, 'api', self.name);
  const primaryUrls = primary === undefined || !forwardWrites ? [] : [...(installationOf(cfg, primary)?.api ?? [])];
  return {
    decode: replicaDecoder(keys, self.name),
    routes: { report, writes: { primary, primaryUrls } },
    status,
    health: held,
  };
}
