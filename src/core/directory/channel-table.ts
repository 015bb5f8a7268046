/**
 * The channel slots by name and in name order, with the candidate bookkeeping that keeps each slot's winner
 * (winner.ts) as records come and go. Slots whose winner may have changed wait in a dirty set until `settle()`.
 */
import { ChannelSlot, type RecordNode } from './nodes.js';
import { SortedIndex } from './sorted-index.js';
import { pickWinner } from './winner.js';

/** Every channel slot of a directory. Single-threaded; `onDrop` is told of every slot that leaves. */
export class ChannelTable {
  /** The slots by exact name. */
  readonly byName = new Map<string, ChannelSlot>();
  /** The slots in name order. */
  readonly index = new SortedIndex();
  /** Slots with two or more candidates (names that may be in conflict). */
  readonly multi = new Set<ChannelSlot>();
  /** Slots written through the API that no IOC serves. */
  readonly apiOnly = new Set<ChannelSlot>();
  private readonly dirty = new Set<ChannelSlot>();

  constructor(private readonly onDrop: (slot: ChannelSlot) => void) {}

  /** Number of slots. */
  get size(): number {
    return this.byName.size;
  }

  /** The slot named `name`, or undefined. */
  get(name: string): ChannelSlot | undefined {
    return this.byName.get(name);
  }

  /** The winner of `name` must be chosen again (an IOC's liveness or upload time changed). */
  recheck(name: string): void {
    const slot = this.byName.get(name);
    if (slot !== undefined && Array.isArray(slot.cands)) this.dirty.add(slot);
  }

  /** Choose the winner of every slot whose candidates changed since the last settle. */
  settle(): void {
    for (const slot of this.dirty) {
      if (Array.isArray(slot.cands)) slot.win = pickWinner(slot.name, slot.cands);
    }
    this.dirty.clear();
  }

  /** The slot of `name` for an API write: the existing one, else a new slot no IOC serves. */
  apiSlot(name: string): ChannelSlot {
    let slot = this.byName.get(name);
    if (slot === undefined) {
      slot = new ChannelSlot(name, null);
      this.byName.set(slot.name, slot);
      this.index.add(slot);
      this.apiOnly.add(slot);
    }
    return slot;
  }

  /** Drop `slot` when nothing serves it any more (no candidate, no API node). */
  dropIfEmpty(slot: ChannelSlot): void {
    if (slot.cands === null && slot.api === null) this.drop(slot);
  }

  /** Record `rec` as a candidate of channel `name`. */
  addCandidate(name: string, rec: RecordNode): void {
    const slot = this.byName.get(name);
    if (slot === undefined) {
      const fresh = new ChannelSlot(name, rec);
      this.byName.set(name, fresh);
      this.index.add(fresh);
      return;
    }
    if (slot.cands === null) {
      slot.cands = rec;
      slot.win = rec;
      this.apiOnly.delete(slot);
      return;
    }
    if (Array.isArray(slot.cands)) slot.cands.push(rec);
    else {
      slot.cands = [slot.cands, rec];
      this.multi.add(slot);
    }
    this.dirty.add(slot);
  }

  /** `rec` no longer serves channel `name`. */
  removeCandidate(name: string, rec: RecordNode): void {
    const slot = this.byName.get(name);
    if (slot === undefined) return;
    if (slot.cands === null) return;
    if (!Array.isArray(slot.cands)) {
      if (slot.cands !== rec) return;
      this.dirty.delete(slot);
      if (slot.api !== null) {
        // Written through the API too: the channel stays, as written.
        slot.cands = null;
        slot.win = null;
        this.apiOnly.add(slot);
        return;
      }
      this.drop(slot);
      return;
    }
    const rest = slot.cands.filter((c) => c !== rec);
    if (rest.length === 1) {
      const only = rest[0] as RecordNode;
      slot.cands = only;
      slot.win = only;
      this.multi.delete(slot);
      this.dirty.delete(slot);
    } else {
      slot.cands = rest;
      this.dirty.add(slot);
    }
  }

  /** `rec` replaces `old` (a new version of the same record) as a candidate of channel `name`. */
  replaceCandidate(name: string, old: RecordNode, rec: RecordNode): void {
    const slot = this.byName.get(name);
    if (slot === undefined || slot.cands === null) return;
    if (!Array.isArray(slot.cands)) {
      if (slot.cands === old) {
        slot.cands = rec;
        slot.win = rec;
      }
      return;
    }
    const i = slot.cands.indexOf(old);
    if (i >= 0) slot.cands[i] = rec;
    if (slot.win === old) slot.win = rec;
    this.dirty.add(slot); // `gone` may have changed
  }

  /** Forget every slot (without telling `onDrop`). */
  clear(): void {
    this.byName.clear();
    this.index.clear();
    this.multi.clear();
    this.apiOnly.clear();
    this.dirty.clear();
  }

  private drop(slot: ChannelSlot): void {
    this.byName.delete(slot.name);
    this.index.remove(slot);
    this.apiOnly.delete(slot);
    this.onDrop(slot);
  }
}
