/**
 * The pending changes of one write request, on top of what the directory shows: channels (their API-written part)
 * and definitions to put or delete. Turned into guarded etcd operations: each compares the key's mod revision with
 * the one the directory saw, so two replicas writing the same key at once cannot lose an update.
 */
import type { DefinitionEntry, StoredEntry } from '../directory/directory.js';
import type { Keyspace } from '../keyspace.js';
import type { CfChannel, Definition, StoredChannel, StoredProperty } from '../model.js';

/** What the write rules read: the directory (core Directory implements it). */
export interface WriteView {
  readonly owner: string;
  get(name: string): CfChannel | undefined;
  stored(name: string): StoredEntry | undefined;
  servedByIoc(name: string): boolean;
  isManagedProperty(name: string): boolean;
  propertyDefinition(name: string): DefinitionEntry | undefined;
  tagDefinition(name: string): DefinitionEntry | undefined;
  channelsWithProperty(name: string): string[];
  channelsWithTag(name: string): string[];
}

/** A put (`value`) or delete (`value` null) of `key`, valid only if the key's mod revision is still `expect` (0 = absent). */
export interface GuardedOp {
  readonly key: string;
  readonly value: string | null;
  readonly expect: number;
}

type Kind = 'property' | 'tag';

/** Pending changes, read back consistently by the write rules. */
export class Changeset {
  private readonly chans = new Map<string, StoredChannel | null>();
  private readonly defs: Record<Kind, Map<string, Definition | null>> = { property: new Map(), tag: new Map() };

  constructor(readonly view: WriteView, private readonly keys: Keyspace) {}

  /** The API-written part of a channel after the pending changes, or null. */
  stored(name: string): StoredChannel | null {
    const p = this.chans.get(name);
    if (p !== undefined) return p;
    return this.view.stored(name)?.channel ?? null;
  }

  /** True when the channel exists after the pending changes (IOC channels always do). */
  exists(name: string): boolean {
    return this.stored(name) !== null || this.view.servedByIoc(name);
  }

  /** The owner of an existing channel after the pending changes, or undefined. */
  ownerOf(name: string): string | undefined {
    const s = this.stored(name);
    if (s !== null) return s.owner;
    return this.view.servedByIoc(name) ? this.view.owner : undefined;
  }

  /** The API-written part to edit: the stored one, a fresh one for an IOC channel, or null for no channel. */
  editable(name: string): StoredChannel | null {
    const s = this.stored(name);
    if (s !== null) return { ...s, properties: [...s.properties], tags: [...s.tags] };
    return this.view.servedByIoc(name) ? { name, owner: this.view.owner, properties: [], tags: [] } : null;
  }

  /** Put a channel: properties de-duplicated (the last value wins), managed ones dropped on IOC channels. */
  putChannel(ch: StoredChannel): void {
    const ioc = this.view.servedByIoc(ch.name);
    const byName = new Map<string, StoredProperty>();
    for (const p of ch.properties) {
      if (ioc && this.view.isManagedProperty(p.name)) continue; // the system owns these on IOC channels
      byName.delete(p.name);
      byName.set(p.name, { name: p.name, value: p.value });
    }
    this.chans.set(ch.name, { name: ch.name, owner: ch.owner, properties: [...byName.values()], tags: [...new Set(ch.tags)] });
  }

  /** Delete what was written through the API for a channel (an IOC channel stays, without user additions). */
  deleteChannel(name: string): void {
    this.chans.set(name, null);
  }

  /** The definition after the pending changes (managed properties are always defined). */
  definition(kind: Kind, name: string): Definition | undefined {
    const p = this.defs[kind].get(name);
    if (p !== undefined) return p ?? this.implicit(kind, name);
    const d = kind === 'property' ? this.view.propertyDefinition(name) : this.view.tagDefinition(name);
    return d === undefined ? undefined : { name: d.name, owner: d.owner };
  }

  /** Put or delete a definition. */
  putDefinition(kind: Kind, name: string, def: Definition | null): void {
    this.defs[kind].set(name, def);
  }

  /** Channels whose API-written part carries the property or tag after the pending changes, sorted. */
  channelsWith(kind: Kind, name: string): string[] {
    const base = kind === 'property' ? this.view.channelsWithProperty(name) : this.view.channelsWithTag(name);
    const out = new Set(base);
    for (const [n, ch] of this.chans) {
      const has = ch !== null && (kind === 'property' ? ch.properties.some((p) => p.name === name) : ch.tags.includes(name));
      if (has) out.add(n);
      else out.delete(n);
    }
    return [...out].sort();
  }

  /** Names of the channels put (not deleted), in the order first touched. */
  putNames(): string[] {
    return [...this.chans].filter(([, v]) => v !== null).map(([k]) => k);
  }

  /** The guarded operations, definitions first (values appear only once defined), no-ops left out. */
  ops(): GuardedOp[] {
    const out: GuardedOp[] = [];
    for (const kind of ['property', 'tag'] as const) {
      for (const [name, def] of this.defs[kind]) {
        const cur = kind === 'property' ? this.view.propertyDefinition(name) : this.view.tagDefinition(name);
        const expect = cur === undefined || cur.implicit ? 0 : cur.modRevision;
        const key = kind === 'property' ? this.keys.propertyDef(name) : this.keys.tagDef(name);
        if (def === null) {
          if (expect !== 0) out.push({ key, value: null, expect });
        } else if (expect === 0 || cur?.owner !== def.owner || cur.name !== def.name) {
          out.push({ key, value: JSON.stringify({ name: def.name, owner: def.owner }), expect });
        }
      }
    }
    for (const [name, ch] of this.chans) {
      const cur = this.view.stored(name);
      const key = this.keys.channel(name);
      if (ch === null) {
        if (cur !== undefined) out.push({ key, value: null, expect: cur.modRevision });
        continue;
      }
      const value = encodeStoredChannel(ch);
      if (cur === undefined || encodeStoredChannel(cur.channel) !== value) out.push({ key, value, expect: cur?.modRevision ?? 0 });
    }
    return out;
  }

  private implicit(kind: Kind, name: string): Definition | undefined {
    return kind === 'property' && this.view.isManagedProperty(name) ? { name, owner: this.view.owner } : undefined;
  }
}

/** Canonical JSON of a stored channel. */
export function encodeStoredChannel(ch: StoredChannel): string {
  return JSON.stringify({
    name: ch.name, owner: ch.owner, properties: ch.properties.map((p) => ({ name: p.name, value: p.value })), tags: ch.tags,
  });
}
