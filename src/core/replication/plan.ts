/**
 * Planning the target transactions of one-way replication (docs/keyspace.md, "Replicas"). Source revisions are
 * packed whole into transactions that also write the checkpoint, within etcd's limits (128 operations, 1.5 MiB;
 * we keep to 127 + the checkpoint and 1 MiB). A revision too big for one transaction is split: every part but the
 * last marks the checkpoint `pending` with that revision while keeping the previous one as `revision`, so a crash
 * halfway leaves a checkpoint that does not claim it and the revision is applied again, whole (puts and deletes
 * are idempotent). Pure.
 */
import { z } from 'zod';
import { utf8Length } from '../utf8-length.js';

/** One change at the target: a put (`value`) or a delete (`value` null). */
export interface TargetChange {
  readonly key: string;
  readonly value: string | null;
}

/** The changes of one source revision (or of a re-list at that revision), already mapped to target keys. */
export interface SourceRevision {
  readonly revision: number;
  readonly changes: readonly TargetChange[];
}

/** The checkpoint of a flow: last source revision wholly applied, and a revision partly applied (split). */
export const CheckpointSchema = z.object({
  revision: z.number().int().nonnegative(),
  pending: z.number().int().positive().optional(),
  /** Source cluster's revision as last seen, and when the replicator last proved itself current (ISO time). */
  sourceHead: z.number().int().nonnegative().default(0),
  provenAt: z.string().optional(),
  /** Who wrote it (replicator id). */
  writer: z.string().optional(),
});

/** A parsed checkpoint. */
export type Checkpoint = z.output<typeof CheckpointSchema>;

/** One planned target transaction: its changes and the checkpoint fields it writes. */
export interface PlannedCommit {
  readonly changes: readonly TargetChange[];
  /** Checkpoint after this commit: `revision` advanced only by the last part of a revision. */
  readonly revision: number;
  readonly pending?: number;
  /** Source revisions this commit completes (for counting). */
  readonly completes: number;
}

/** Limits of one target transaction. */
export interface TxnLimits {
  readonly maxOps: number;
  readonly maxBytes: number;
}

/** etcd 3.4: 128 operations and 1.5 MiB per request; one op is the checkpoint, and we leave room for framing. */
export const DEFAULT_LIMITS: TxnLimits = { maxOps: 127, maxBytes: 1024 * 1024 };

// Framing of one op in the request (tags, lengths, the request union): generous.
const OP_OVERHEAD = 32;

/** Bytes one change adds to a transaction. */
export function changeBytes(c: TargetChange): number {
  return utf8Length(c.key) + (c.value === null ? 0 : utf8Length(c.value)) + OP_OVERHEAD;
}

/**
 * Plan commits for revisions in order, after checkpoint revision `base`. Whole revisions are packed together while
 * they fit; a revision that does not fit alone is split into parts marked pending.
 */
export function planCommits(revisions: readonly SourceRevision[], base: number, limits: TxnLimits = DEFAULT_LIMITS): PlannedCommit[] {
  const out: PlannedCommit[] = [];
  let cur: TargetChange[] = [];
  let curKeys = new Set<string>();
  let curBytes = 0;
  let curRev = 0;
  let curCount = 0;
  const flush = (): void => {
    if (curCount === 0) return;
    out.push({ changes: cur, revision: curRev, completes: curCount });
    cur = [];
    curKeys = new Set();
    curBytes = 0;
    curCount = 0;
  };
  for (const r of revisions) {
    const bytes = r.changes.reduce((n, c) => n + changeBytes(c), 0);
    // etcd refuses a key twice in one txn; and every revision's values must reach the target (its watchers see each).
    const clash = r.changes.some((c) => curKeys.has(c.key));
    if (!clash && cur.length + r.changes.length <= limits.maxOps && curBytes + bytes <= limits.maxBytes) {
      cur.push(...r.changes);
      for (const c of r.changes) curKeys.add(c.key);
      curBytes += bytes;
      curRev = r.revision;
      curCount++;
      continue;
    }
    flush();
    if (r.changes.length <= limits.maxOps && bytes <= limits.maxBytes) {
      cur = [...r.changes];
      curKeys = new Set(r.changes.map((c) => c.key));
      curBytes = bytes;
      curRev = r.revision;
      curCount = 1;
      continue;
    }
    out.push(...splitRevision(r, out.at(-1)?.revision ?? base, limits));
  }
  flush();
  return out;
}

/** The parts of one revision too big for a transaction: all but the last leave `revision` at `previous`, `pending` set. */
function splitRevision(r: SourceRevision, previous: number, limits: TxnLimits): PlannedCommit[] {
  const parts: TargetChange[][] = [];
  let part: TargetChange[] = [];
  let bytes = 0;
  for (const c of r.changes) {
    const b = changeBytes(c);
    if (part.length > 0 && (part.length + 1 > limits.maxOps || bytes + b > limits.maxBytes)) {
      parts.push(part);
      part = [];
      bytes = 0;
    }
    part.push(c);
    bytes += b;
  }
  if (part.length > 0) parts.push(part);
  return parts.map((changes, i) => (i === parts.length - 1
    ? { changes, revision: r.revision, completes: 1 }
    : { changes, revision: previous, pending: r.revision, completes: 0 }));
}

/**
 * The changes that make the target equal the source (a re-list): put what differs or is missing, delete target keys
 * the source no longer has. Both maps are by target key.
 */
export function convergeChanges(source: ReadonlyMap<string, string>, target: ReadonlyMap<string, string>): TargetChange[] {
  const out: TargetChange[] = [];
  for (const [key, value] of source) {
    const had = target.get(key);
    if (had !== value) out.push({ key, value });
  }
  for (const key of target.keys()) if (!source.has(key)) out.push({ key, value: null });
  return out;
}
