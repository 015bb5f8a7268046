/**
 * The replicas an installation holds, as their replicators' checkpoints at `<root>replication/<source>/<type>/`
 * say (docs/keyspace.md, "Replicas"): read every few seconds from the installation's own etcd, so a secondary
 * knows how stale each replica is even while the primary's link is down.
 */
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import { messageOf } from '../../core/errors.js';
import { unescapeSegment } from '../../core/keyspace.js';
import { replicationPrefix } from '../../core/replication/keys.js';
import { CheckpointSchema, type Checkpoint } from '../../core/replication/plan.js';
import { rangePrefix } from './kv.js';

/** One replica's checkpoint. */
export interface ReplicaCheckpoint extends Checkpoint {
  readonly source: string;
  readonly type: string;
}

/** Polls the checkpoints of the replicas held under `root`. */
export class ReplicaStatus {
  private list: ReplicaCheckpoint[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** When the checkpoints were last read (ms since the epoch; 0 never). */
  readAt = 0;

  constructor(private readonly client: Etcd3, private readonly root: string, private readonly log: Logger, private readonly intervalMs = 2000) {}

  /** The checkpoints as last read. */
  get replicas(): readonly ReplicaCheckpoint[] {
    return this.list;
  }

  /** Read once now, then every interval until stop(). */
  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private async poll(): Promise<void> {
    const prefix = replicationPrefix(this.root);
    try {
      const snap = await rangePrefix(this.client, prefix);
      const out: ReplicaCheckpoint[] = [];
      for (const kv of snap.kvs) {
        const parts = kv.key.slice(prefix.length).split('/');
        if (parts.length !== 3 || parts[2] !== 'checkpoint') continue;
        let json: unknown;
        try {
          json = JSON.parse(kv.value.toString());
        } catch {
          continue;
        }
        const ck = CheckpointSchema.safeParse(json);
        if (ck.success) out.push({ ...ck.data, source: unescapeSegment(parts[0]!), type: parts[1]! });
      }
      this.list = out;
      this.readAt = Date.now();
    } catch (err) {
      this.log.warn({ err: messageOf(err) }, 'replica checkpoints not read');
    }
  }
}

/** Seconds since a replica was last proven current with its primary (null when never). */
export function replicaLagSeconds(ck: Checkpoint, now: number): number | null {
  if (ck.provenAt === undefined) return null;
  const t = Date.parse(ck.provenAt);
  return Number.isNaN(t) ? null : Math.max(0, (now - t) / 1000);
}
