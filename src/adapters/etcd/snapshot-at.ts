/**
 * The keyspace as it was at a past etcd revision, loaded into a sink (a fresh directory): what history queries are
 * answered from. etcd keeps old revisions until compaction (auto-compaction keeps the last 10 000 revisions in the
 * local cluster); an older one fails with PVS_ETCD_COMPACTED.
 */
import type { Etcd3 } from 'etcd3';
import { decodeChange, type ChangeDecoder } from '../../core/directory/decode.js';
import type { DirectoryEvent } from '../../core/directory/events.js';
import type { Keyspace } from '../../core/keyspace.js';
import { scanPrefix } from './kv.js';
import type { MirrorSink } from './mirror.js';

/**
 * Read every key of the layout as of `revision` and apply them to `sink` as one snapshot. `decode` is the mirror's
 * (an installation holding replicas decodes them too); decodeChange over `keys` without.
 */
export async function loadSnapshotAt(client: Etcd3, keys: Keyspace, revision: number, sink: MirrorSink, decode?: ChangeDecoder): Promise<void> {
  const events: DirectoryEvent[] = [];
  await scanPrefix(client, keys.root, 30_000, (key, value, modRevision) => {
    const r = decode === undefined ? decodeChange(keys, key, value, modRevision) : decode(key, value, modRevision);
    if (r.ok) events.push(r.event);
  }, revision);
  sink.clear();
  sink.apply(events, revision);
}
