/**
 * The derivation: follows the mirror's events (IOC info, alive keys, records, API writes, definitions) and derives
 * one channel per record name and alias by the recceiver conventions (docs/api.md), the winner rule deciding names
 * served twice. `apply` costs O(names touched). No queries or paging here: any consumer of channels can use it.
 */
import type { CfChannel, Definition, StoredChannel, StoredRecord } from '../model.js';
import { ChannelTable } from './channel-table.js';
import { DefinitionSet, linkApi, type DefEntry } from './definitions.js';
import type { DirectoryEvent } from './events.js';
import { Interner } from './intern.js';
import { compareNames } from './name-order.js';
import { ApiNode, type ChannelSlot, IocNode, RecordNode } from './nodes.js';
import { propertyCatalogue, userProperty, type PropertySource } from './properties.js';
import { toCfChannel, type RenderContext } from './to-cf.js';

/** Configuration of a derivation. */
export interface DerivationOptions {
  /** Owner of every channel and nested property (default "pvsync"). */
  readonly owner?: string;
  /** Info tags published as properties of the same name (default ["archive"]). */
  readonly infoWhitelist?: readonly string[];
  /** IOC environment variables published as properties: variable → property name (default none). */
  readonly envProperties?: Readonly<Record<string, string>>;
  /**
   * Called after every apply with the names of the channels that may have changed in that revision, or with
   * null after a snapshot (the first apply, or the first after clear()): then anything may have changed.
   */
  readonly onApplied?: (revision: number, changed: readonly string[] | null) => void;
  /** Told of every channel slot that leaves the derivation (caches keyed by slot forget it). */
  readonly onSlotDropped?: (slot: ChannelSlot) => void;
}

/** A channel as stored through the API, with the revision that wrote it (the guard of the next write). */
export interface StoredEntry {
  readonly channel: StoredChannel;
  readonly modRevision: number;
}

/** A property or tag definition; `implicit` for managed properties nobody defined explicitly. */
export interface DefinitionEntry extends Definition {
  readonly modRevision: number;
  readonly implicit: boolean;
}

/** A name served by several live IOCs at once. `iocIds` sorted; the channel follows the latest upload. */
export interface Conflict {
  readonly name: string;
  readonly iocIds: string[];
}

const EMPTY: readonly string[] = [];

/** The derived channels and what they are derived from. Single-threaded; every method is synchronous. */
export class Derivation {
  /** Owner written on channels and properties. */
  readonly owner: string;
  /** The managed properties in channel order, whitelisted info tags last. */
  readonly catalogue: readonly PropertySource[];
  /** The channels, by name and in name order. */
  readonly table: ChannelTable;
  /** What rendering a channel needs (catalogue, owners, definitions). */
  readonly render: RenderContext;
  private readonly whitelist: ReadonlySet<string>;
  private readonly iocNodes = new Map<string, IocNode>();
  private readonly strings = new Interner();
  private readonly propDefs = new DefinitionSet();
  private readonly tagDefs = new DefinitionSet();
  private sourceCache: { version: number; list: readonly PropertySource[] } | null = null;
  private rev = 0;
  private snapshotNext = true;
  private applies = 0;
  private readonly onApplied: DerivationOptions['onApplied'];

  constructor(opts: DerivationOptions = {}) {
    this.owner = opts.owner ?? 'pvsync';
    this.catalogue = propertyCatalogue(opts.infoWhitelist ?? ['archive'], opts.envProperties);
    this.whitelist = new Set(this.catalogue.map((p) => p.name));
    this.onApplied = opts.onApplied;
    const dropped = opts.onSlotDropped;
    this.table = new ChannelTable(dropped ?? (() => undefined));
    const managed = this.whitelist;
    this.render = {
      catalogue: this.catalogue, owner: this.owner, managed,
      propertyOwner: (n) => this.propDefs.defs.get(n)?.owner ?? (managed.has(n) ? this.owner : undefined),
      tagOwner: (n) => this.tagDefs.defs.get(n)?.owner,
    };
  }

  /** The etcd revision of the last applied batch (0 when empty or just cleared). */
  get revision(): number {
    return this.rev;
  }

  /** Number of channels. */
  get size(): number {
    return this.table.size;
  }

  /** Counts apply() and clear() calls: caches of derived lists compare it (anything may change in between). */
  get generation(): number {
    return this.applies;
  }

  /** The IOCs known (info, alive key or records), by iocId. */
  get iocs(): ReadonlyMap<string, IocNode> {
    return this.iocNodes;
  }

  /** Changes whenever any property or tag definition is written or deleted (both stamps only grow). */
  defsStamp(): number {
    return this.propDefs.stamp + this.tagDefs.stamp;
  }

  /** Changes whenever a property is defined or undefined (the list of sources changes). */
  get propertyDefsVersion(): number {
    return this.propDefs.version;
  }

  /** Apply every event of one revision (or of a snapshot at that revision), in any key order. */
  apply(events: readonly DirectoryEvent[], revision: number): void {
    this.applies++;
    const touched = new Set<IocNode>();
    const shrunk = new Set<IocNode>();
    const snapshot = this.snapshotNext;
    this.snapshotNext = false;
    const changed = snapshot || this.onApplied === undefined ? null : new Set<string>();
    // A definition of a managed property (hostName, pvStatus, …) restyles every IOC channel: report "anything".
    let everything = false;
    const addNames = (names: readonly string[] | undefined): void => {
      if (changed !== null && names !== undefined) for (const n of names) changed.add(n);
    };
    const addUsers = (set: DefinitionSet, name: string): void => {
      if (changed !== null) for (const slot of set.usersOf(name)) changed.add(slot.name);
    };
    for (const ev of events) {
      switch (ev.kind) {
        case 'iocInfo': {
          const ioc = this.iocFor(ev.iocId);
          ioc.setInfo(ev.value);
          touched.add(ioc);
          break;
        }
        case 'alive': {
          const ioc = this.iocFor(ev.iocId);
          ioc.alive = ev.value !== null;
          touched.add(ioc);
          break;
        }
        case 'record': {
          const ioc = this.iocFor(ev.iocId);
          addNames(ioc.records.get(ev.name)?.channelNames());
          this.putRecord(ioc, ev.name, ev.value);
          addNames(ioc.records.get(ev.name)?.channelNames());
          if (ev.value === null) shrunk.add(ioc);
          break;
        }
        case 'channel':
          changed?.add(ev.name);
          this.putApi(ev.name, ev.value, ev.modRevision);
          break;
        case 'propertyDef':
          this.propDefs.put(ev.name, ev.value === null ? null : { owner: ev.value.owner, modRevision: ev.modRevision });
          addUsers(this.propDefs, ev.name);
          if (this.isManagedProperty(ev.name)) everything = true;
          break;
        case 'tagDef':
          this.tagDefs.put(ev.name, ev.value === null ? null : { owner: ev.value.owner, modRevision: ev.modRevision });
          addUsers(this.tagDefs, ev.name);
          break;
        default:
          ev satisfies never;
      }
    }
    // A changed IOC (liveness, upload time) may change the winner of every shared name it serves.
    for (const ioc of touched) {
      for (const rec of ioc.records.values()) {
        for (const name of rec.channelNames()) {
          changed?.add(name);
          this.table.recheck(name);
        }
      }
    }
    for (const ioc of [...touched, ...shrunk]) {
      if (ioc.info === null && !ioc.alive && ioc.records.size === 0) this.iocNodes.delete(ioc.id);
    }
    this.table.settle();
    this.rev = revision;
    this.onApplied?.(revision, changed === null || everything ? null : [...changed]);
  }

  /** Forget everything (the mirror re-lists next); the next apply is a snapshot again. */
  clear(): void {
    this.applies++;
    this.iocNodes.clear();
    this.table.clear();
    this.strings.clear();
    this.propDefs.clear();
    this.tagDefs.clear();
    this.rev = 0;
    this.snapshotNext = true;
  }

  /** The channel named exactly `name` (case-sensitive), or undefined. */
  get(name: string): CfChannel | undefined {
    const slot = this.table.get(name);
    return slot === undefined ? undefined : toCfChannel(slot, this.render);
  }

  /** Every channel name, in name order (code-point order). */
  names(): string[] {
    return this.table.index.view().map((s) => s.name);
  }

  /** Names served by two or more live IOCs, sorted by name. */
  conflicts(): Conflict[] {
    const index = this.table.index;
    const out: Conflict[] = [];
    for (const slot of this.table.multi) {
      const ids = new Set<string>();
      for (const c of slot.cands as RecordNode[]) if (c.active) ids.add(c.ioc.id);
      if (ids.size >= 2) out.push({ name: slot.name, iocIds: [...ids].sort(index.compare.bind(index)) });
    }
    return out.sort((a, b) => index.compare(a.name, b.name));
  }

  /** Names of every property: the managed ones (with whitelisted info tags), then the defined ones by name. */
  propertyNames(): string[] {
    const extra = [...this.propDefs.defs.keys()].filter((n) => !this.whitelist.has(n)).sort(compareNames);
    return [...this.catalogue.map((p) => p.name), ...extra];
  }

  /** Names of every defined tag, sorted. */
  tagNames(): string[] {
    return [...this.tagDefs.defs.keys()].sort(compareNames);
  }

  /** The definition of property `name` (managed properties are always defined), or undefined. */
  propertyDefinition(name: string): DefinitionEntry | undefined {
    return defEntry(name, this.propDefs.defs.get(name), this.whitelist.has(name) ? this.owner : undefined);
  }

  /** The definition of tag `name`, or undefined. */
  tagDefinition(name: string): DefinitionEntry | undefined {
    return defEntry(name, this.tagDefs.defs.get(name), undefined);
  }

  /** True for the properties the system manages on IOC channels. */
  isManagedProperty(name: string): boolean {
    return this.whitelist.has(name);
  }

  /** True when an IOC record (or alias) serves the channel `name`. */
  servedByIoc(name: string): boolean {
    const slot = this.table.get(name);
    return slot !== undefined && slot.win !== null;
  }

  /** What was written through the API for channel `name` (as stored), or undefined. */
  stored(name: string): StoredEntry | undefined {
    const api = this.table.get(name)?.api;
    if (api === undefined || api === null) return undefined;
    const properties: { name: string; value: string }[] = [];
    for (let i = 0; i < api.props.length; i += 2) properties.push({ name: api.props[i] as string, value: api.props[i + 1] as string });
    return { channel: { name, owner: api.owner, properties, tags: [...api.tags] }, modRevision: api.modRevision };
  }

  /** Names of the channels whose API-written part carries property `name` (defined or not), sorted. */
  channelsWithProperty(name: string): string[] {
    return [...this.propDefs.usersOf(name)].map((s) => s.name).sort(compareNames);
  }

  /** Names of the channels whose API-written part carries tag `name` (defined or not), sorted. */
  channelsWithTag(name: string): string[] {
    return [...this.tagDefs.usersOf(name)].map((s) => s.name).sort(compareNames);
  }

  /** The catalogue plus one source per defined property that is not managed; rebuilt when definitions change. */
  sources(): readonly PropertySource[] {
    const version = this.propDefs.version;
    if (this.sourceCache?.version !== version) {
      const extra = [...this.propDefs.defs.keys()].filter((n) => !this.whitelist.has(n)).map(userProperty);
      this.sourceCache = { version, list: [...this.catalogue, ...extra] };
    }
    return this.sourceCache.list;
  }

  /** The tags of a channel that are defined (the others are hidden). */
  visibleTags(slot: ChannelSlot): readonly string[] {
    const api = slot.api;
    if (api === null || api.tags.length === 0) return EMPTY;
    return api.tags.filter((t) => this.tagDefs.defs.has(t));
  }

  private putApi(name: string, value: StoredChannel | null, modRevision: number): void {
    const table = this.table;
    let slot = table.get(name);
    const old = slot?.api ?? null;
    if (slot !== undefined && old !== null) linkApi(this.propDefs, this.tagDefs, slot, old, false);
    if (value === null) {
      if (slot === undefined) return;
      slot.api = null;
      table.dropIfEmpty(slot);
      return;
    }
    const props: string[] = [];
    for (const p of value.properties) props.push(this.strings.intern(p.name), this.strings.intern(p.value));
    const tags = value.tags.length === 0 ? EMPTY : value.tags.map((t) => this.strings.intern(t));
    const node = new ApiNode(this.strings.intern(value.owner), props, tags, modRevision);
    slot ??= table.apiSlot(value.name);
    slot.api = node;
    linkApi(this.propDefs, this.tagDefs, slot, node, true);
  }

  private iocFor(id: string): IocNode {
    let ioc = this.iocNodes.get(id);
    if (ioc === undefined) {
      ioc = new IocNode(id);
      this.iocNodes.set(id, ioc);
    }
    return ioc;
  }

  private putRecord(ioc: IocNode, name: string, value: StoredRecord | null): void {
    const table = this.table;
    const old = ioc.records.get(name);
    if (value === null) {
      if (old === undefined) return;
      ioc.records.delete(name);
      for (const n of old.channelNames()) table.removeCandidate(n, old);
      return;
    }
    // The name parsed from JSON is a flat string; the one cut from the etcd key would keep the whole key alive.
    const rec = this.toNode(ioc, value.name === name ? value.name : name, value);
    ioc.records.set(rec.name, rec);
    if (old === undefined) {
      for (const n of rec.channelNames()) table.addCandidate(n, rec);
      return;
    }
    const before = old.channelNames();
    const after = rec.channelNames();
    const keep = new Set(after);
    for (const n of before) {
      if (keep.has(n)) table.replaceCandidate(n, old, rec);
      else table.removeCandidate(n, old);
    }
    const had = new Set(before);
    for (const n of after) if (!had.has(n)) table.addCandidate(n, rec);
  }

  private toNode(ioc: IocNode, name: string, r: StoredRecord): RecordNode {
    let infos = EMPTY;
    for (const key in r.infos) {
      if (!this.whitelist.has(key)) continue;
      const value = r.infos[key] as string;
      infos = infos === EMPTY ? [] : infos;
      (infos as string[]).push(this.strings.intern(key), this.strings.intern(value));
    }
    const aliases = r.aliases.length === 0 ? EMPTY : r.aliases.filter((a) => a !== name);
    return new RecordNode(ioc, name, this.strings.intern(r.type), r.desc ?? '', infos, aliases, r.gone === true,
      r.file === undefined ? '' : this.strings.intern(r.file), r.line ?? 0);
  }
}

function defEntry(name: string, def: DefEntry | undefined, implicitOwner: string | undefined): DefinitionEntry | undefined {
  if (def !== undefined) return { name, owner: def.owner, modRevision: def.modRevision, implicit: false };
  if (implicitOwner !== undefined) return { name, owner: implicitOwner, modRevision: 0, implicit: true };
  return undefined;
}
