/**
 * The rows of the relational mirror (docs/archiver-sync.md), derived from the same Derivation the API answers from:
 * one `pv` row per channel (aliases included) whose columns are read from the channel's published properties, every
 * property and tag the API shows in `pv_property`/`pv_tag`, and one `ioc` row per IOC. Pure.
 */
import type { Derivation } from '../directory/derivation.js';
import type { DirectoryEvent } from '../directory/events.js';
import type { IocNode } from '../directory/nodes.js';
import type { CfChannel } from '../model.js';

/** Column limits of the schema (InnoDB keys are at most 3072 bytes: (500 + 200) utf8mb4 characters fit). */
export const LIMITS = { pvName: 500, propertyName: 200, tagName: 200, iocId: 255, short: 255, long: 1024 } as const;

// The columns are copies for convenience: an over-long value is cut there (pv_property keeps it whole).
function clip(s: string | undefined, n: number): string | null {
  return s === undefined ? null : s.length > n ? s.slice(0, n) : s;
}

/** One `pv` row with its properties and tags. */
export interface PvRow {
  readonly name: string;
  readonly iocId: string | null;
  readonly recordType: string | null;
  readonly description: string | null;
  readonly status: 'Active' | 'Inactive' | null;
  readonly aliasOf: string | null;
  readonly archive: string | null;
  readonly sourceFile: string | null;
  readonly sourceLine: number | null;
  /** [name, value] in the API's order. */
  readonly properties: readonly (readonly [string, string])[];
  readonly tags: readonly string[];
}

/** One `ioc` row. `lastUploadAt` is `YYYY-MM-DD HH:MM:SS.mmm` in UTC, or null. */
export interface IocRow {
  readonly id: string;
  readonly name: string;
  readonly host: string;
  readonly ip: string | null;
  readonly status: 'Active' | 'Inactive';
  readonly records: number;
  readonly lastUploadAt: string | null;
}

/** The row changes of one or more consecutive revisions: null = delete the row. */
export interface RowChanges {
  readonly pv: Map<string, PvRow | null>;
  readonly ioc: Map<string, IocRow | null>;
  /** Channels or properties left out because they exceed a column limit (named for the log). */
  readonly skipped: string[];
}

/** An empty set of changes. */
export function emptyChanges(): RowChanges {
  return { pv: new Map(), ioc: new Map(), skipped: [] };
}

/** The pv row of a channel as the API renders it, or null with the reason when its name does not fit the schema. */
export function pvRowOf(ch: CfChannel, skipped: string[]): PvRow | null {
  if (ch.name.length > LIMITS.pvName) {
    skipped.push(`channel ${ch.name.slice(0, 80)}…: name longer than ${LIMITS.pvName} characters`);
    return null;
  }
  const props = new Map<string, string>();
  for (const p of ch.properties) {
    if (p.value === null) continue;
    if (p.name.length > LIMITS.propertyName) {
      skipped.push(`property ${p.name.slice(0, 80)}… of ${ch.name}: name longer than ${LIMITS.propertyName} characters`);
      continue;
    }
    // A name shown twice would break the key: the first is what a reader of the channel sees first.
    if (!props.has(p.name)) props.set(p.name, p.value);
  }
  const tags: string[] = [];
  for (const t of ch.tags) {
    if (t.name.length > LIMITS.tagName) skipped.push(`tag ${t.name.slice(0, 80)}… of ${ch.name}: name longer than ${LIMITS.tagName} characters`);
    else if (!tags.includes(t.name)) tags.push(t.name);
  }
  const status = props.get('pvStatus');
  const line = props.get('recordLine');
  const lineNo = line === undefined || !/^[0-9]{1,9}$/.test(line) ? null : Number(line);
  return {
    name: ch.name,
    iocId: clip(props.get('iocid'), LIMITS.iocId),
    recordType: clip(props.get('recordType'), LIMITS.short),
    description: props.get('recordDesc') ?? null,
    status: status === 'Active' || status === 'Inactive' ? status : null,
    aliasOf: clip(props.get('alias'), LIMITS.pvName),
    archive: clip(props.get('archive'), LIMITS.long),
    sourceFile: clip(props.get('recordFile'), LIMITS.long),
    sourceLine: lineNo,
    properties: [...props],
    tags,
  };
}

/** The ioc row of an IOC the derivation knows. */
export function iocRowOf(node: IocNode): IocRow {
  const info = node.info;
  return {
    id: node.id,
    name: clip(info?.iocName, LIMITS.short) ?? '',
    host: clip(info?.hostName, LIMITS.short) ?? '',
    ip: clip(info?.iocIP, LIMITS.short),
    status: node.alive ? 'Active' : 'Inactive',
    records: info?.records ?? node.records.size,
    lastUploadAt: info === null ? null : sqlTime(info.updatedAt),
  };
}

/** An ISO-8601 time as MariaDB's `DATETIME(3)` text in UTC, or null when it is not a time. */
export function sqlTime(iso: string): string | null {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return null;
  const d = new Date(ms);
  if (d.getUTCFullYear() < 1000 || d.getUTCFullYear() > 9999) return null;
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

/** The IOC ids an etcd revision's events touch (their rows may change). */
export function iocIdsOf(events: readonly DirectoryEvent[], into: Set<string>): void {
  for (const ev of events) {
    if (ev.kind === 'iocInfo' || ev.kind === 'alive' || ev.kind === 'record') into.add(ev.iocId);
  }
}

/**
 * The row changes for channels `names` and IOCs `iocIds` as the derivation shows them now: a name the derivation
 * no longer has, or an IOC it forgot, is a delete.
 */
export function changesOf(d: Derivation, names: Iterable<string>, iocIds: Iterable<string>): RowChanges {
  const out = emptyChanges();
  for (const name of names) {
    const ch = d.get(name);
    out.pv.set(name, ch === undefined ? null : pvRowOf(ch, out.skipped));
  }
  for (const id of iocIds) {
    const node = d.iocs.get(id);
    if (id.length > LIMITS.iocId) out.skipped.push(`ioc ${id.slice(0, 80)}…: id longer than ${LIMITS.iocId} characters`);
    else out.ioc.set(id, node === undefined ? null : iocRowOf(node));
  }
  return out;
}
