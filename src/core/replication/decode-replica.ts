/**
 * Decoding an installation's own keys and its replicas together (docs/keyspace.md, "Replicas"): a key under
 * `<root>replicas/<source>/` is read in the source's layout, and every IOC's info and every API-written channel is
 * marked with the installation it comes from (the channel property `installation`). Pure.
 */
import { decodeChange, type DecodeResult } from '../directory/decode.js';
import type { DirectoryEvent } from '../directory/events.js';
import { Keyspace } from '../keyspace.js';
import { replicaOf } from './keys.js';

/** A decoder over `keys` and every replica below it; `local` names this installation (untagged when undefined). */
export function replicaDecoder(keys: Keyspace, local: string | undefined): (key: string, value: string | null, modRevision: number) => DecodeResult {
  const layouts = new Map<string, Keyspace>();
  return (key, value, modRevision) => {
    const rep = replicaOf(keys.root, key);
    let r: DecodeResult;
    if (rep === null) r = decodeChange(keys, key, value, modRevision);
    else {
      let ks = layouts.get(rep.root);
      if (ks === undefined) {
        ks = new Keyspace(rep.root);
        layouts.set(rep.root, ks);
      }
      r = decodeChange(ks, key, value, modRevision);
    }
    const origin = rep?.source ?? local;
    return !r.ok || origin === undefined ? r : { ok: true, event: withOrigin(r.event, origin) };
  };
}

/** The event with its installation: on the IOC's info, or as a property of a channel written through the API. */
export function withOrigin(ev: DirectoryEvent, installation: string): DirectoryEvent {
  if (ev.kind === 'iocInfo' && ev.value !== null) return { ...ev, value: { ...ev.value, installation } };
  if (ev.kind === 'channel' && ev.value !== null) {
    const properties = [...ev.value.properties.filter((p) => p.name !== 'installation'), { name: 'installation', value: installation }];
    return { ...ev, value: { ...ev.value, properties } };
  }
  return ev;
}
