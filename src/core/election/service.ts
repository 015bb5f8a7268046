/**
 * What operators and the HTTP routes need from the archiver election, independent of etcd: read a group's status,
 * and request a graceful switchover and wait for it.
 */
import type { GroupStatus } from './records.js';

/** How a completed switchover went. */
export interface SwitchoverOutcome {
  readonly group: string;
  readonly from: string;
  readonly to: string;
  readonly token: string;
  /** From writing the request to seeing the new node announced active. */
  readonly elapsedMs: number;
}

/** The archiver election as an operations service. */
export interface ArchiverService {
  /** Every node, the leader, the active node and its endpoints, at one revision. */
  status(group: string): Promise<GroupStatus>;
  /** Hand over to `to` (or any healthy standby); resolves once the new node is active, throws PVS_ARCHIVER_*. */
  switchover(group: string, to: string | undefined, timeoutMs: number): Promise<SwitchoverOutcome>;
}
