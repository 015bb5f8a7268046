/**
 * The archiver election as an operations service on etcd (`pvsync archiver status|switchover` and the HTTP routes).
 * A switchover writes a request key that the leader watches; the leader stops, resigns, and the target (or any
 * healthy standby) takes over while the others hold back.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Etcd3 } from 'etcd3';
import type { GroupStatus } from '../../core/election/records.js';
import type { ArchiverService, SwitchoverOutcome } from '../../core/election/service.js';
import { PvsError } from '../../core/errors.js';
import { ArchiverGroupStore } from './archiver-election.js';

/** ArchiverService over etcd; `root` is the keyspace root (tests give their own). */
export class EtcdArchiverService implements ArchiverService {
  constructor(private readonly client: Etcd3, private readonly root?: string, private readonly pollMs = 20) {}

  private store(group: string): ArchiverGroupStore {
    return new ArchiverGroupStore(this.client, group, this.root);
  }

  /** Read one group's status. */
  status(group: string): Promise<GroupStatus> {
    return this.store(group).read();
  }

  /** Request a switchover and wait until another node (the target, if given) is announced active. */
  async switchover(group: string, to: string | undefined, timeoutMs: number): Promise<SwitchoverOutcome> {
    const store = this.store(group);
    const g = await store.read();
    const from = g.active?.node ?? g.leader?.node;
    if (from === undefined) throw new PvsError('PVS_ARCHIVER_NO_ACTIVE', `no archiver node is active in group ${group}`, { retryable: true });
    const standbys = g.nodes.filter((n) => n.role === 'standby' && n.healthy && n.node !== from);
    if (to !== undefined) {
      if (to === from) throw new PvsError('PVS_ARCHIVER_SWITCHOVER', `${to} is already the active node of ${group}`);
      if (!standbys.some((n) => n.node === to)) {
        const known = g.nodes.find((n) => n.node === to);
        throw new PvsError('PVS_ARCHIVER_SWITCHOVER', known === undefined
          ? `no agent named ${to} in group ${group}`
          : `${to} cannot take over: role ${known.role}, ${known.healthy ? 'healthy' : 'unhealthy'}`);
      }
    } else if (standbys.length === 0) {
      throw new PvsError('PVS_ARCHIVER_SWITCHOVER', `no healthy standby in group ${group} to hand over to`, { retryable: true });
    }
    const id = randomUUID();
    const started = Date.now();
    await store.requestSwitchover({ id, ...(to === undefined ? {} : { to }), requestedAt: started },
      Math.max(5, Math.ceil(timeoutMs / 1000) + 2));
    try {
      while (Date.now() - started < timeoutMs) {
        const now = await store.read().catch(() => null);
        const a = now?.active;
        if (a != null && a.node !== from && (to === undefined || a.node === to)) {
          return { group, from, to: a.node, token: a.token, elapsedMs: Date.now() - started };
        }
        await sleep(this.pollMs);
      }
      throw new PvsError('PVS_ARCHIVER_SWITCHOVER', `no new active node in group ${group} within ${timeoutMs} ms`, { retryable: true });
    } finally {
      await store.clearSwitchover(id).catch(() => undefined);
    }
  }
}
