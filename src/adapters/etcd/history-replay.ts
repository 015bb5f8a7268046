/**
 * Replays the revisions (from, to] of the layout from etcd history into a sink, one apply per revision in order: the
 * keyspace as of `from`, then the events of a watch started at from + 1. The replay is exact or nothing: it ends once
 * the keys' revisions reached equal those of the keyspace at `to` (a watch alone cannot tell that it has delivered
 * everything up to a revision), else it fails at its deadline.
 */
import type { Etcd3, IEvent, IWatchResponse } from 'etcd3';
import { decodeChange, type ChangeDecoder } from '../../core/directory/decode.js';
import type { DirectoryEvent } from '../../core/directory/events.js';
import { PvsError } from '../../core/errors.js';
import type { Keyspace } from '../../core/keyspace.js';
import { wrapEtcdError } from './errors.js';
import { scanPrefix } from './kv.js';
import type { MirrorSink } from './mirror.js';

const PAGE = 30_000;

/**
 * The oldest revision in [lo, hi] that etcd still holds (compaction keeps its own revision and everything after it):
 * `lo` itself when it is readable, else found by bisection with count-only reads (about log2(hi − lo) of them).
 * `hi` must be readable.
 */
export async function oldestReadable(client: Etcd3, key: string, lo: number, hi: number): Promise<number> {
  const readable = async (revision: number): Promise<boolean> => {
    try {
      await client.kv.range({ key: Buffer.from(key), count_only: true, revision });
      return true;
    } catch (err) {
      const e = wrapEtcdError(err, 'history probe');
      if (e.code === 'PVS_ETCD_COMPACTED') return false;
      throw e;
    }
  };
  if (await readable(lo)) return lo;
  let bad = lo;
  let good = hi;
  while (good - bad > 1) {
    const mid = bad + Math.floor((good - bad) / 2);
    if (await readable(mid)) good = mid;
    else bad = mid;
  }
  return good;
}

/**
 * Apply the keyspace at `from`, then each revision up to `to`, to `sink`; PVS_ETCD_COMPACTED when `from` is gone.
 * `decode` is the mirror's (with the replicas held, if any); decodeChange over `keys` without.
 */
export async function replayRevisions(client: Etcd3, keys: Keyspace, from: number, to: number, sink: MirrorSink,
  deadlineMs = 10_000, decode: ChangeDecoder = (key, value, rev) => decodeChange(keys, key, value, rev)): Promise<void> {
  const reached = new Map<string, number>();
  const events: DirectoryEvent[] = [];
  await scanPrefix(client, keys.root, PAGE, (key, value, modRevision) => {
    reached.set(key, modRevision);
    const r = decode(key, value, modRevision);
    if (r.ok) events.push(r.event);
  }, from);
  const target = new Map<string, number>();
  await scanPrefix(client, keys.root, PAGE, (key, _value, modRevision) => target.set(key, modRevision), to);
  sink.clear();
  sink.apply(events, from);
  const complete = (): boolean => {
    if (reached.size !== target.size) return false;
    for (const [k, rev] of target) if (reached.get(k) !== rev) return false;
    return true;
  };
  if (complete()) return;

  const watcher = await client.watch().prefix(keys.root).startRevision(String(from + 1)).create();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new PvsError('PVS_ETCD_UNAVAILABLE',
        `history replay of revisions ${from + 1}–${to} did not complete within ${deadlineMs} ms`, { retryable: true })), deadlineMs);
      const finish = (err?: unknown): void => {
        clearTimeout(timer);
        if (err === undefined) resolve();
        else reject(err);
      };
      watcher.on('error', (err: Error) => finish(wrapEtcdError(err, 'history replay')));
      watcher.on('data', (res: IWatchResponse) => {
        let batch: DirectoryEvent[] = [];
        let batchRev = 0;
        const flush = (): void => {
          if (batchRev !== 0) sink.apply(batch, batchRev);
          batch = [];
          batchRev = 0;
        };
        for (const ev of res.events as IEvent[]) {
          const rev = Number(ev.kv.mod_revision);
          if (rev > to) break;
          if (rev !== batchRev) {
            flush();
            batchRev = rev;
          }
          const key = ev.kv.key.toString();
          if (ev.type === 'Delete') reached.delete(key);
          else reached.set(key, rev);
          const r = decode(key, ev.type === 'Delete' ? null : ev.kv.value.toString(), rev);
          if (r.ok) batch.push(r.event);
        }
        flush();
        if (complete()) finish();
      });
    });
  } finally {
    await watcher.cancel().catch(() => undefined);
  }
}
