/**
 * How current a replica is, as `GET /api/v1/installations` and the console say it: a replica held by this
 * installation is `current` while its replicator proved it current within the bound, `stale` past it, `unproven`
 * while it was never proven (no checkpoint yet: no replicator ran, or it has not caught up once); a replica held by
 * another installation is `elsewhere` (its checkpoint, and so its lag, is in that installation's etcd). Pure.
 */

/** One replica's state. */
export type ReplicaState = 'current' | 'stale' | 'unproven' | 'elsewhere';

/** The state of a replica with lag `lagSeconds` (null: never proven) against the bound `staleAfterSeconds`. */
export function replicaState(heldHere: boolean, lagSeconds: number | null, staleAfterSeconds: number): ReplicaState {
  if (!heldHere) return 'elsewhere';
  if (lagSeconds === null) return 'unproven';
  return lagSeconds > staleAfterSeconds ? 'stale' : 'current';
}
