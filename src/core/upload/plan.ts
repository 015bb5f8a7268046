/**
 * Planning an upload: which record keys must be written so that etcd holds exactly the IOC's current records
 * (records that vanished are kept, marked `gone`), and how to cut those writes into transactions etcd accepts.
 */
import type { Keyspace } from '../keyspace.js';
import { utf8Length } from '../utf8-length.js';
import type { WriteOp } from '../write-op.js';
import { StoredRecordSchema, type IocError, type IocRecord, type StoredRecord, type UnreadableFile } from '../model.js';


/** The planner's name for WriteOp (bench/upload.ts uses it): the same type, not a second one. */
export type PlannedOp = WriteOp;

/** The stored form of a parsed record: type, DESC, info tags, aliases, and where it is defined. */
export function toStoredRecord(rec: IocRecord): StoredRecord {
  const desc = rec.fields['DESC'];
  return {
    name: rec.name,
    type: rec.type,
    ...(desc !== undefined && desc !== '' ? { desc } : {}),
    infos: rec.infos,
    aliases: [...rec.aliases],
    ...(rec.file !== undefined ? { file: rec.file } : {}),
    ...(rec.line !== undefined ? { line: rec.line } : {}),
    ...(rec.via !== undefined && rec.via.length > 0 ? { via: [...rec.via] } : {}),
  };
}

/** Canonical JSON of a stored record (sorted info keys), so that unchanged records compare equal byte for byte. */
export function encodeStoredRecord(rec: StoredRecord): string {
  // Built by assignment in the canonical key order (one call per record: no spread objects to collect).
  const names = Object.keys(rec.infos);
  let infos = rec.infos;
  if (names.length > 1) {
    names.sort();
    infos = {};
    for (const k of names) infos[k] = rec.infos[k]!;
  }
  const out: Record<string, unknown> = { name: rec.name, type: rec.type };
  if (rec.desc !== undefined) out['desc'] = rec.desc;
  out['infos'] = infos;
  out['aliases'] = rec.aliases;
  if (rec.file !== undefined) out['file'] = rec.file;
  if (rec.line !== undefined) out['line'] = rec.line;
  if (rec.via !== undefined) out['via'] = rec.via;
  if (rec.gone === true) out['gone'] = true;
  return JSON.stringify(out);
}

/** What an upload must write, and what it found already in place. */
export interface RecordPlan {
  readonly ops: WriteOp[];
  readonly unchanged: number;
  readonly added: number;
  readonly changed: number;
  readonly markedGone: number;
  /** Stored records left as last published because a file they come from could not be read. */
  readonly kept: number;
  /** Records the IOC has after the upload (not gone): unchanged + added + changed + kept. */
  readonly live: number;
}

/**
 * Compare the IOC's records with what etcd holds (`existing`: key → stored value) and return the writes needed:
 * a put for every new or changed record, and for every stored record the IOC no longer has, a put marking it `gone`
 * (never a delete: its channel must stay, Inactive).
 *
 * When files of the configuration could not be read (`unreadable`), a stored record defined in one of them or
 * reached through one (its `file` or `via`) is left exactly as it is, whether or not the parse still has a record of
 * that name: the IOC that booted from those files still serves it. So is a stored record without a place (written
 * before records carried one) that the parse lacks, since nothing tells where it came from.
 */
export function planRecordWrites(
  keys: Keyspace, iocId: string, records: readonly IocRecord[], existing: ReadonlyMap<string, string>,
  unreadable: readonly UnreadableFile[] = [],
): RecordPlan {
  const ops: WriteOp[] = [];
  const seen = new Set<string>();
  const lost = new Set(unreadable.flatMap((u) => u.paths));
  const fromLost = (r: StoredRecord): boolean =>
    r.gone !== true && r.file !== undefined && (lost.has(r.file) || (r.via?.some((f) => lost.has(f)) ?? false));
  let unchanged = 0, added = 0, changed = 0, markedGone = 0, kept = 0;
  for (const rec of records) {
    const key = keys.iocRecord(iocId, rec.name);
    if (seen.has(key)) continue; // the parser merges repeated records; keep the first if it did not
    seen.add(key);
    const value = encodeStoredRecord(toStoredRecord(rec));
    const old = existing.get(key);
    if (old === value) unchanged++;
    else if (old !== undefined && lost.size > 0 && isKept(safeParseRecord(old), fromLost)) kept++;
    else {
      if (old === undefined) added++;
      else changed++;
      ops.push({ type: 'put', key, value });
    }
  }
  for (const [key, old] of existing) {
    if (seen.has(key)) continue;
    const parsed = safeParseRecord(old);
    if (parsed?.gone) continue;
    if (parsed === null) {
      ops.push({ type: 'delete', key }); // unreadable garbage under our prefix: nothing to keep
      continue;
    }
    if (lost.size > 0 && (parsed.file === undefined || fromLost(parsed))) {
      kept++;
      continue;
    }
    ops.push({ type: 'put', key, value: encodeStoredRecord({ ...parsed, gone: true }) });
    markedGone++;
  }
  return { ops, unchanged, added, changed, markedGone, kept, live: unchanged + added + changed + kept };
}

function isKept(r: StoredRecord | null, fromLost: (r: StoredRecord) => boolean): boolean {
  return r !== null && fromLost(r);
}

/** The errors to publish in the IOC's info for files that could not be read (PVS_DB_FILE), at most `max`. */
export function unreadableErrors(unreadable: readonly UnreadableFile[], max = 100): IocError[] {
  return unreadable.slice(0, max).map((u) => ({
    code: 'PVS_DB_FILE',
    message: u.reason === undefined ? u.message : `${u.message}: ${u.reason}`,
    file: u.at.file, line: u.at.line, col: u.at.col,
    unreadable: u.paths.length === 1 ? (u.paths[0] as string) : u.name,
  }));
}

function safeParseRecord(raw: string): StoredRecord | null {
  try {
    const r = StoredRecordSchema.safeParse(JSON.parse(raw));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

/** Limits of one etcd transaction. */
export interface TxnLimits {
  readonly maxOps: number;
  readonly maxBytes: number;
}

/** etcd 3.4: at most 128 operations per transaction and 1.5 MiB per request; keep a margin on the bytes. */
export const ETCD_TXN_LIMITS: TxnLimits = { maxOps: 128, maxBytes: 1024 * 1024 };

// Per-op framing in the protobuf request (tags, lengths, lease): a generous upper bound.
const OP_OVERHEAD = 32;

/** Bytes an op takes in a transaction request (upper bound). */
export function opBytes(op: WriteOp): number {
  return utf8Length(op.key) + (op.type === 'put' ? utf8Length(op.value) : 0) + OP_OVERHEAD;
}

/** Cut ops into transactions within the limits; an op larger than maxBytes by itself goes alone. */
export function batchOps<T extends WriteOp>(ops: readonly T[], limits: TxnLimits = ETCD_TXN_LIMITS): T[][] {
  return batchBySize(ops, opBytes, limits);
}

/** Cut items into consecutive batches of at most `maxOps` items and `maxBytes` (by `sizeOf`); order is kept. */
export function batchBySize<T>(items: readonly T[], sizeOf: (item: T) => number, limits: TxnLimits = ETCD_TXN_LIMITS): T[][] {
  const batches: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const op of items) {
    const size = sizeOf(op);
    if (cur.length > 0 && (cur.length >= limits.maxOps || bytes + size > limits.maxBytes)) {
      batches.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(op);
    bytes += size;
  }
  if (cur.length > 0) batches.push(cur);
  return batches;
}
