/**
 * The IOCs of the directory as the console lists them: one summary per IOC (status, host, record count, last upload,
 * configuration errors), names used by two or more IOCs marked, and one IOC's records a page at a time.
 */
import type { IocError } from '../model.js';
import { compareNames } from './name-order.js';
import type { IocNode } from './nodes.js';

/** One IOC in the list. */
export interface IocSummary {
  readonly iocId: string;
  /** From the info; the part of iocId before '@' until the info has arrived. */
  readonly iocName: string;
  readonly hostName: string;
  readonly iocIP: string | null;
  /** `Active` while the IOC's alive key exists, else `Inactive` (as its channels' pvStatus). */
  readonly status: 'Active' | 'Inactive';
  /** Upload state from the info (`uploading`, `complete`, `stopped`); null before the info has arrived. */
  readonly state: string | null;
  /** Records stored for the IOC, and how many of them have vanished from it (`gone`). */
  readonly records: number;
  readonly goneRecords: number;
  /** The info's `updatedAt` (the last upload), null before the info has arrived. */
  readonly updatedAt: string | null;
  readonly writer: string | null;
  /** Configuration errors of the last upload. */
  readonly errors: number;
  /** True when another IOC (another host) has the same iocName. */
  readonly duplicateName: boolean;
}

/** One record of an IOC page. */
export interface IocRecordRow {
  readonly name: string;
  readonly type: string;
  readonly desc: string;
  readonly aliases: readonly string[];
  readonly file: string | null;
  readonly line: number | null;
  readonly gone: boolean;
}

/** An IOC with its environment, errors and one page of its records (by name, after `after`). */
export interface IocDetail extends IocSummary {
  readonly environment: Readonly<Record<string, string>>;
  readonly errorList: readonly IocError[];
  readonly recordPage: readonly IocRecordRow[];
  /** Name of the page's last record when more follow (pass it as `after`), else null. */
  readonly nextAfter: string | null;
}

function nameOf(ioc: IocNode): string {
  return ioc.info?.iocName ?? ioc.id.split('@')[0] ?? ioc.id;
}

function summary(ioc: IocNode, duplicate: boolean): IocSummary {
  const info = ioc.info;
  let gone = 0;
  for (const r of ioc.records.values()) if (r.gone) gone++;
  return {
    iocId: ioc.id, iocName: nameOf(ioc), hostName: info?.hostName ?? ioc.id.split('@').slice(1).join('@'),
    iocIP: info?.iocIP ?? null, status: ioc.alive ? 'Active' : 'Inactive', state: info?.state ?? null,
    records: ioc.records.size, goneRecords: gone, updatedAt: info?.updatedAt ?? null, writer: info?.writer ?? null,
    errors: info?.errors?.length ?? 0, duplicateName: duplicate,
  };
}

/** Every IOC, sorted by iocId; names shared by several IOCs marked. */
export function iocSummaries(iocs: ReadonlyMap<string, IocNode>): IocSummary[] {
  const byName = new Map<string, number>();
  for (const ioc of iocs.values()) byName.set(nameOf(ioc), (byName.get(nameOf(ioc)) ?? 0) + 1);
  return [...iocs.values()]
    .sort((a, b) => compareNames(a.id, b.id))
    .map((ioc) => summary(ioc, (byName.get(nameOf(ioc)) ?? 0) > 1));
}

/** The names of an IOC's records, sorted (what iocDetail pages through; callers may keep it while nothing changes). */
export function sortedRecordNames(ioc: IocNode): string[] {
  return [...ioc.records.keys()].sort(compareNames);
}

/**
 * One IOC with up to `size` of its records after the name `after` (null: from the first), or undefined. `sorted`
 * gives the IOC's sorted record names (default: sortedRecordNames).
 */
export function iocDetail(iocs: ReadonlyMap<string, IocNode>, iocId: string, after: string | null, size: number,
  sorted: (ioc: IocNode) => readonly string[] = sortedRecordNames): IocDetail | undefined {
  const ioc = iocs.get(iocId);
  if (ioc === undefined) return undefined;
  const name = nameOf(ioc);
  let sameName = 0;
  for (const other of iocs.values()) if (nameOf(other) === name) sameName++;
  const names = sorted(ioc);
  let start = 0;
  if (after !== null) {
    // First name sorting after `after` (binary search: the names are sorted).
    let lo = 0;
    let hi = names.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareNames(names[mid] as string, after) <= 0) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  const page = names.slice(start, start + size);
  const recordPage = page.map((n): IocRecordRow => {
    const r = ioc.records.get(n);
    if (r === undefined) throw new Error('record vanished while paging');
    return { name: r.name, type: r.type, desc: r.desc, aliases: r.aliases, file: r.file === '' ? null : r.file,
      line: r.line === 0 ? null : r.line, gone: r.gone };
  });
  return {
    ...summary(ioc, sameName > 1),
    environment: ioc.info?.env ?? {}, errorList: ioc.info?.errors ?? [], recordPage,
    nextAfter: start + size < names.length ? (page.at(-1) ?? null) : null,
  };
}
