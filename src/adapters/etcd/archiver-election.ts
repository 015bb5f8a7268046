/**
 * The etcd side of the archiver election, written on etcd primitives rather than etcd3's Election helper (which
 * does not watch its own key after winning): a lease kept by a LeaseKeeper whose acknowledgements we time, a campaign that
 * is one "create if absent" transaction bound to the lease, a guarded resignation, and one prefix watch per group.
 */
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { pino, type Logger } from 'pino';
import { backoffMs } from '../../core/backoff.js';
import { ArchiverKeys } from '../../core/election/keys.js';
import {
  ActiveValueSchema, LeaderValueSchema, NodeStatusSchema, SwitchoverRequestSchema,
  type ActiveValue, type GroupStatus, type LeaderValue, type NodeStatus, type SwitchoverRequest,
} from '../../core/election/records.js';
import { PvsError } from '../../core/errors.js';
import { wrapEtcdError } from './errors.js';
import { LeaseKeeper, etcdLeaseTransport } from './lease-keeper.js';

/** A lease granted to an agent: its id (decimal string), the TTL etcd granted, and the keeper sending its keep-alives. */
export interface AgentLease {
  readonly id: string;
  readonly ttlS: number;
  readonly keeper: LeaseKeeper;
}

/** Result of a campaign: won with a fencing token, or lost to the current holder (null if it vanished meanwhile). */
export type CampaignResult =
  | { readonly won: true; readonly token: string }
  | { readonly won: false; readonly holder: (LeaderValue & { readonly token: string }) | null };

/**
 * Grant a lease kept alive by a LeaseKeeper (not etcd3's keep-alive loop, whose `lost` event may come only after
 * ~2×TTL): the agent times its self-stop from the keeper's `ack` events. The keeper is not started on failure.
 */
export async function grantLease(
  client: Etcd3, ttlS: number, timeoutMs: number, log: Logger = pino({ level: 'silent' }), now: () => number = Date.now,
): Promise<AgentLease> {
  const keeper = new LeaseKeeper(etcdLeaseTransport(client), { ttlS, callTimeoutMs: timeoutMs, log, now });
  try {
    const id = await keeper.grant();
    return { id, ttlS: keeper.ttlS, keeper };
  } catch (err) {
    keeper.release();
    throw wrapEtcdError(err, 'lease grant');
  }
}

/** Revoke a lease (deleting every key bound to it); errors are reported, never thrown. */
export async function revokeLease(lease: AgentLease, timeoutMs: number): Promise<Error | null> {
  return lease.keeper.revoke(timeoutMs);
}

function parseJson(kv: IKeyValue): unknown {
  try {
    return JSON.parse(kv.value.toString('utf8'));
  } catch (err) {
    throw new PvsError('PVS_ETCD_DATA', `not JSON at ${kv.key.toString()}`, { cause: err });
  }
}

/** Read and validate the holder of the election key from its key-value. */
export function leaderOf(kv: IKeyValue): LeaderValue & { token: string } {
  const v = LeaderValueSchema.safeParse(parseJson(kv));
  if (!v.success) throw new PvsError('PVS_ETCD_DATA', `bad leader value at ${kv.key.toString()}`, { cause: v.error });
  return { ...v.data, token: kv.create_revision };
}

/** Operations of one archiver group in etcd. */
export class ArchiverGroupStore {
  readonly keys: ArchiverKeys;

  constructor(private readonly client: Etcd3, group: string, root?: string) {
    this.keys = root === undefined ? new ArchiverKeys(group) : new ArchiverKeys(group, root);
  }

  /** Campaign: create the election key bound to the lease if it is absent; its create revision is the token. */
  async campaign(lease: AgentLease, value: LeaderValue): Promise<CampaignResult> {
    const k = this.keys.leader;
    try {
      const res = await this.client.if(k, 'Create', '==', 0)
        .then(this.client.put(k).value(JSON.stringify(value)).lease(lease.id))
        .else(this.client.get(k))
        .commit();
      if (res.succeeded) return { won: true, token: res.header.revision };
      const kv = res.responses[0]?.response_range?.kvs[0];
      return { won: false, holder: kv === undefined ? null : leaderOf(kv) };
    } catch (err) {
      throw wrapEtcdError(err, 'campaign');
    }
  }

  /** Resign: delete the election key only if it is still the one created at `token`. True if it was deleted. */
  async resign(token: string): Promise<boolean> {
    const k = this.keys.leader;
    try {
      const res = await this.client.if(k, 'Create', '==', token).then(this.client.delete().key(k)).commit();
      return res.succeeded;
    } catch (err) {
      throw wrapEtcdError(err, 'resign');
    }
  }

  /** Announce the active node (after its start hooks), guarded by its token and bound to its lease. */
  async announce(lease: AgentLease, value: ActiveValue): Promise<void> {
    const ok = await this.guardedPut(value.token, this.keys.active, JSON.stringify(value), lease.id);
    if (!ok) throw new PvsError('PVS_ETCD_CONFLICT', `lost the election key before announcing ${value.node} active`);
  }

  /** Withdraw the active announcement if it is still this token's. */
  async withdraw(token: string): Promise<void> {
    const k = this.keys.active;
    try {
      const cur = await this.client.get(k).exec();
      const kv = cur.kvs[0];
      if (kv === undefined) return;
      const v = ActiveValueSchema.safeParse(parseJson(kv));
      if (!v.success || v.data.token !== token) return;
      await this.client.if(k, 'Mod', '==', kv.mod_revision).then(this.client.delete().key(k)).commit();
    } catch (err) {
      throw wrapEtcdError(err, 'withdraw active');
    }
  }

  /**
   * Write `key` only while the election key still carries `token` (a fencing-guarded put); false when the token is
   * stale. Every etcd writer acting for the active archiver should write this way.
   */
  async guardedPut(token: string, key: string, value: string, leaseId?: string): Promise<boolean> {
    try {
      const put = this.client.put(key).value(value);
      if (leaseId !== undefined) put.lease(leaseId);
      const res = await this.client.if(this.keys.leader, 'Create', '==', token).then(put).commit();
      return res.succeeded;
    } catch (err) {
      throw wrapEtcdError(err, 'guarded put');
    }
  }

  /** Publish one node's status, bound to its lease. */
  async publishStatus(lease: AgentLease, status: NodeStatus): Promise<void> {
    try {
      await this.client.put(this.keys.node(status.node)).value(JSON.stringify(status)).lease(lease.id).exec();
    } catch (err) {
      throw wrapEtcdError(err, 'publish status');
    }
  }

  /** Ask for a graceful handover (the key lives on a short lease of its own so a stale request disappears). */
  async requestSwitchover(req: SwitchoverRequest, ttlS: number): Promise<void> {
    const lease = this.client.lease(ttlS, { autoKeepAlive: false });
    lease.on('lost', () => undefined);
    try {
      await lease.put(this.keys.switchover).value(JSON.stringify(req)).exec();
    } catch (err) {
      throw wrapEtcdError(err, 'request switchover');
    } finally {
      lease.release(); // stop etcd3's bookkeeping; the lease expires on its own in etcd
    }
  }

  /** Clear a switchover request, if it is still the one with this id. */
  async clearSwitchover(id: string): Promise<void> {
    try {
      const cur = await this.client.get(this.keys.switchover).exec();
      const kv = cur.kvs[0];
      if (kv === undefined) return;
      const v = SwitchoverRequestSchema.safeParse(parseJson(kv));
      if (v.success && v.data.id !== id) return;
      await this.client.if(this.keys.switchover, 'Mod', '==', kv.mod_revision)
        .then(this.client.delete().key(this.keys.switchover)).commit();
    } catch (err) {
      throw wrapEtcdError(err, 'clear switchover');
    }
  }

  /** Read the whole group at one revision. Malformed values are skipped (reported through `onBad`). */
  async read(onBad: (key: string, err: unknown) => void = () => undefined): Promise<GroupStatus> {
    try {
      const res = await this.client.getAll().prefix(this.keys.prefix).exec();
      return this.fold(res.kvs, res.header.revision, onBad);
    } catch (err) {
      throw wrapEtcdError(err, 'read archiver group');
    }
  }

  /** Build a GroupStatus from the group's key-values. */
  fold(kvs: readonly IKeyValue[], revision: string, onBad: (key: string, err: unknown) => void): GroupStatus {
    let leader: GroupStatus['leader'] = null;
    let active: ActiveValue | null = null;
    let switchover: SwitchoverRequest | null = null;
    let switchoverRevision: string | null = null;
    const nodes: NodeStatus[] = [];
    for (const kv of kvs) {
      const key = kv.key.toString('utf8');
      const parsed = this.keys.parse(key);
      try {
        if (parsed?.kind === 'leader') leader = leaderOf(kv);
        else if (parsed?.kind === 'active') active = ActiveValueSchema.parse(parseJson(kv));
        else if (parsed?.kind === 'switchover') {
          switchover = SwitchoverRequestSchema.parse(parseJson(kv));
          switchoverRevision = kv.mod_revision;
        }
        else if (parsed?.kind === 'node') nodes.push(NodeStatusSchema.parse(parseJson(kv)));
      } catch (err) {
        onBad(key, err);
      }
    }
    nodes.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
    return { group: this.keys.group, leader, active, nodes, switchover, switchoverRevision, revision };
  }

  /**
   * Watch the group: `onChange` gets the full state after every change (read again at the event's revision order).
   * The watch is a latency aid only; callers poll `read()` as a backstop. Returns a function that stops watching.
   */
  watch(onChange: () => void, onError: (err: unknown) => void): () => Promise<void> {
    let watcher: Watcher | null = null;
    let stopped = false;
    // Consecutive failures since the watch last connected: re-creating backs off (core/backoff.ts) up to 5 s.
    let failures = 0;
    const start = (): void => {
      this.client.watch().prefix(this.keys.prefix).create().then((w) => {
        if (stopped) { void w.cancel(); return; }
        watcher = w;
        w.on('data', () => onChange());
        w.on('connected', () => { failures = 0; onChange(); });
        w.on('error', (err) => {
          onError(err);
          // etcd3: a watcher that errored (e.g. compaction) must be re-created.
          void w.cancel().catch(() => undefined);
          if (!stopped) setTimeout(start, backoffMs(++failures, 200, 5000));
        });
      }, (err: unknown) => {
        onError(err);
        if (!stopped) setTimeout(start, backoffMs(++failures, 500, 5000));
      });
    };
    start();
    return async () => {
      stopped = true;
      if (watcher !== null) await watcher.cancel().catch(() => undefined);
    };
  }
}
