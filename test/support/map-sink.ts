/**
 * A MirrorSink for tests: keeps the decoded state as a plain map (kind/iocId/name → value) so that what a mirror
 * built can be compared with what etcd holds.
 */
import type { Etcd3 } from 'etcd3';
import { decodeChange } from '../../src/core/directory/decode.js';
import type { DirectoryEvent } from '../../src/core/directory/events.js';
import type { Keyspace } from '../../src/core/keyspace.js';
import { rangePrefix } from '../../src/adapters/etcd/kv.js';
import type { MirrorSink } from '../../src/adapters/etcd/mirror.js';

/** The identity of an event's key, as a string. */
export function eventKey(e: DirectoryEvent): string {
  if (e.kind === 'record') return `record/${e.iocId}/${e.name}`;
  if (e.kind === 'iocInfo' || e.kind === 'alive') return `${e.kind}/${e.iocId}`;
  return `${e.kind}/${e.name}`;
}

/** A sink that keeps the state and every revision it was given. */
export class MapSink implements MirrorSink {
  readonly state = new Map<string, unknown>();
  readonly revisions: number[] = [];
  clears = 0;

  clear(): void {
    this.state.clear();
    this.clears++;
  }

  apply(events: readonly DirectoryEvent[], revision: number): void {
    this.revisions.push(revision);
    for (const e of events) {
      if (e.value === null) this.state.delete(eventKey(e));
      else this.state.set(eventKey(e), e.value);
    }
  }
}

/** What etcd holds under the keyspace right now, decoded the same way. */
export async function etcdState(client: Etcd3, keys: Keyspace): Promise<Map<string, unknown>> {
  const snap = await rangePrefix(client, keys.root);
  const out = new Map<string, unknown>();
  for (const kv of snap.kvs) {
    const r = decodeChange(keys, kv.key, kv.value.toString());
    if (r.ok && r.event.value !== null) out.set(eventKey(r.event), r.event.value);
  }
  return out;
}
