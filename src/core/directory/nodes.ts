/**
 * The directory's internal graph: one IocNode per IOC, one RecordNode per stored record, one ChannelSlot per
 * channel name with its candidates (the records serving that name, as record or alias) and the winner.
 */
import type { IocInfo } from '../model.js';

/**
 * What is known about one IOC: its info (null until it arrives), whether its alive key exists, its records.
 * `stamp` changes with every change of info or liveness (caches of rendered channels compare it).
 */
export class IocNode {
  private infoValue: IocInfo | null = null;
  private aliveValue = false;
  /** info.updatedAt in ms since the epoch; -Infinity when unknown or unparsable. */
  updatedMs = -Infinity;
  /** Bumped by every setInfo and every write of `alive`. */
  stamp = 0;
  readonly records = new Map<string, RecordNode>();

  constructor(readonly id: string) {}

  /** The IOC's info, or null. */
  get info(): IocInfo | null {
    return this.infoValue;
  }

  /** True while the IOC's alive key exists. */
  get alive(): boolean {
    return this.aliveValue;
  }

  set alive(value: boolean) {
    this.aliveValue = value;
    this.stamp++;
  }

  /** Replace the info (null: deleted) and the upload time derived from it. */
  setInfo(info: IocInfo | null): void {
    this.infoValue = info;
    const ms = info === null ? NaN : Date.parse(info.updatedAt);
    this.updatedMs = Number.isNaN(ms) ? -Infinity : ms;
    this.stamp++;
  }
}

/** One record of one IOC, reduced to what channels need. `infos` holds whitelisted info tags as [k, v, k, v…]. */
export class RecordNode {
  constructor(
    readonly ioc: IocNode,
    readonly name: string,
    readonly type: string,
    readonly desc: string,
    readonly infos: readonly string[],
    readonly aliases: readonly string[],
    readonly gone: boolean,
    /** Where the record is defined ('' and 0 when the uploader did not say). */
    readonly file: string = '',
    readonly line: number = 0,
  ) {}

  /** Active iff the IOC is alive and the record has not vanished from it. */
  get active(): boolean {
    return this.ioc.alive && !this.gone;
  }

  /** The channel names this record serves: its own name, then its aliases (without repeats). */
  channelNames(): readonly string[] {
    if (this.aliases.length === 0) return [this.name];
    return [...new Set([this.name, ...this.aliases])];
  }
}

/** Not yet merged into the sorted array. */
export const SLOT_PENDING = 0;
/** In the sorted array. */
export const SLOT_INDEXED = 1;
/** Removed from the directory. */
export const SLOT_DEAD = 2;

/**
 * A channel written through the API (`channels/<name>`): as written, for a name no IOC serves; for an IOC channel,
 * the user additions. `props` holds [name, value, name, value…] in written order.
 */
export class ApiNode {
  constructor(
    readonly owner: string,
    readonly props: readonly string[],
    readonly tags: readonly string[],
    readonly modRevision: number,
  ) {}

  /** The value of property `name`, or undefined. */
  prop(name: string): string | undefined {
    const p = this.props;
    for (let i = 0; i < p.length; i += 2) if (p[i] === name) return p[i + 1];
    return undefined;
  }
}

/**
 * One channel name: its candidates (one RecordNode, or several when IOCs or aliases collide) and the winner, and
 * what was written through the API. A slot lives while it has a candidate or an API node; `win` is null without IOC.
 */
export class ChannelSlot {
  cands: RecordNode | RecordNode[] | null;
  win: RecordNode | null;
  api: ApiNode | null = null;
  /** SLOT_PENDING, SLOT_INDEXED or SLOT_DEAD: maintained by the sorted index. */
  state: number = SLOT_PENDING;
  /** Row of this channel in the JSON fragment cache, or -1: maintained by the cache (a map would churn). */
  jsonRow = -1;

  constructor(readonly name: string, first: RecordNode | null) {
    this.cands = first;
    this.win = first;
  }

  /** True when the winner serves this name as an alias (its record has another name). */
  get isAlias(): boolean {
    return this.win !== null && this.win.name !== this.name;
  }
}
