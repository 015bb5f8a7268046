/**
 * Property and tag definitions written through the API, and which API-written channels carry each name. Managed
 * properties (the catalogue) are defined implicitly; an explicit definition of one only sets its owner.
 */
import type { ApiNode, ChannelSlot } from './nodes.js';

/** One definition as stored: its owner and the etcd revision that last wrote it. */
export interface DefEntry {
  readonly owner: string;
  readonly modRevision: number;
}

/** Definitions of one kind (properties or tags) and the channels whose API node uses each name. */
export class DefinitionSet {
  readonly defs = new Map<string, DefEntry>();
  private readonly users = new Map<string, Set<ChannelSlot>>();
  /** Bumped whenever a name is defined or undefined (caches of derived lists compare it). */
  version = 0;
  /** Bumped by every put and clear, owner changes included (caches of rendered channels compare it). */
  stamp = 0;

  /** Set (entry) or remove (null) the definition `name`. */
  put(name: string, entry: DefEntry | null): void {
    const had = this.defs.has(name);
    if (entry === null) this.defs.delete(name);
    else this.defs.set(name, entry);
    if (had !== (entry !== null)) this.version++;
    this.stamp++;
  }

  /** Record that `slot` uses `name` (link) or no longer does (unlink). */
  link(name: string, slot: ChannelSlot): void {
    let set = this.users.get(name);
    if (set === undefined) {
      set = new Set();
      this.users.set(name, set);
    }
    set.add(slot);
  }

  /** Inverse of link. */
  unlink(name: string, slot: ChannelSlot): void {
    const set = this.users.get(name);
    if (set === undefined) return;
    set.delete(slot);
    if (set.size === 0) this.users.delete(name);
  }

  /** The slots whose API node uses `name` (defined or not). */
  usersOf(name: string): ReadonlySet<ChannelSlot> {
    return this.users.get(name) ?? NONE;
  }

  /** Forget everything. */
  clear(): void {
    this.defs.clear();
    this.users.clear();
    this.version++;
    this.stamp++;
  }
}

const NONE: ReadonlySet<ChannelSlot> = new Set();

/** Link (or unlink) every property and tag name of an API node. */
export function linkApi(props: DefinitionSet, tags: DefinitionSet, slot: ChannelSlot, api: ApiNode, add: boolean): void {
  for (let i = 0; i < api.props.length; i += 2) {
    const n = api.props[i] as string;
    if (add) props.link(n, slot);
    else props.unlink(n, slot);
  }
  for (const t of api.tags) {
    if (add) tags.link(t, slot);
    else tags.unlink(t, slot);
  }
}
