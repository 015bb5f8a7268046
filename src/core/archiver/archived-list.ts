/**
 * The archived-PVs list of the operator console: the PVs the archive reconciler asks one appliance to archive (the
 * same `desiredOf` selection), a page of them joined with what the appliance reports (getPVStatus) and with what
 * the reconciler does next to that PV (the same planner). Pure: the caller reads the directory and the appliance.
 */
import { compareNames } from '../directory/name-order.js';
import type { CfChannel } from '../model.js';
import { formatArchiveSpec, type SamplingMethod } from './archive-spec.js';
import {
  desiredOf, isSpecProblem, planArchiving, reportedOf, type ApplianceSelector, type DesiredPv, type SpecProblem,
} from './plan.js';

/** A channel the reconciler serves: what it wants of the appliance, or why its archive spec is refused. */
export interface ArchivedEntry {
  readonly name: string;
  readonly want: DesiredPv | SpecProblem;
}

/**
 * What the reconciler does next to a PV, given what the appliance reports: nothing (`none`: in step), one of its
 * actions, `wait` while the appliance's workflow has the PV, `refused` for an unreadable archive spec.
 */
export type NextAction = 'none' | 'archive' | 'pause' | 'resume' | 'change' | 'wait' | 'refused';

/** What the appliance reports of one PV (its own words, with method and period when it gives them). */
export interface ApplianceView {
  readonly status: string;
  readonly method?: SamplingMethod;
  readonly period?: number;
  readonly lastEvent?: string;
  readonly connected?: boolean;
}

/** One row of the list. `appliance` and `next` are null when no appliance could be asked. */
export interface ArchivedRow {
  readonly name: string;
  /** The `archive` property as published, e.g. `monitor 1.0`. */
  readonly archive: string;
  /** Its canonical form (`monitor@1.0`), or null when it is refused. */
  readonly spec: string | null;
  readonly problem: string | null;
  readonly iocStatus: 'Active' | 'Inactive';
  readonly iocId: string | null;
  readonly appliance: ApplianceView | null;
  readonly next: NextAction | null;
}

/** The channels of `channels` (any order) that `sel` serves, sorted by name as the directory orders them. */
export function selectArchived(channels: Iterable<CfChannel>, sel: ApplianceSelector): ArchivedEntry[] {
  const out: ArchivedEntry[] = [];
  for (const ch of channels) {
    const want = desiredOf(ch, sel);
    if (want !== null) out.push({ name: ch.name, want });
  }
  return out.sort((a, b) => compareNames(a.name, b.name));
}

/** The `size` entries after the name `after` (null: from the first) and the cursor of the next page, or null. */
export function pageArchived(entries: readonly ArchivedEntry[], after: string | null, size: number): { page: ArchivedEntry[]; nextAfter: string | null } {
  let lo = 0;
  if (after !== null) {
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareNames((entries[mid] as ArchivedEntry).name, after) <= 0) lo = mid + 1;
      else hi = mid;
    }
  }
  const page = entries.slice(lo, lo + size);
  return { page, nextAfter: lo + size < entries.length ? (page.at(-1)?.name ?? null) : null };
}

function prop(ch: CfChannel | undefined, name: string): string | null {
  return ch?.properties.find((p) => p.name === name)?.value ?? null;
}

/** The next action of the reconciler for a PV it wants, against the appliance's entry. */
export function nextAction(want: DesiredPv, entry: Readonly<Record<string, unknown>> | undefined): NextAction {
  const reported = reportedOf(entry);
  if (reported.state === 'pending') return 'wait';
  const plan = planArchiving([want], [], () => reported);
  if (plan.pause.length > 0) return 'pause';
  if (plan.archive.length > 0) return 'archive';
  if (plan.resume.length > 0) return 'resume';
  if (plan.change.length > 0) return 'change';
  return 'none';
}

function applianceView(entry: Readonly<Record<string, unknown>> | undefined): ApplianceView {
  if (entry === undefined) return { status: 'Not being archived' };
  const r = reportedOf(entry);
  const str = (k: string): string | undefined => (typeof entry[k] === 'string' ? entry[k] : undefined);
  const lastEvent = str('lastEvent');
  const connected = str('connectionState');
  return {
    status: str('status') ?? 'no status',
    ...(r.method === undefined ? {} : { method: r.method }), ...(r.period === undefined ? {} : { period: r.period }),
    ...(lastEvent === undefined ? {} : { lastEvent }),
    ...(connected === 'true' || connected === 'false' ? { connected: connected === 'true' } : {}),
  };
}

/**
 * One row: the entry, its channel as the directory has it now (IOC and status), and the appliance's getPVStatus
 * entry of the name (undefined: it has none), or null when no appliance answered.
 */
export function archivedRow(e: ArchivedEntry, ch: CfChannel | undefined, entry: Readonly<Record<string, unknown>> | undefined | null): ArchivedRow {
  const problem = isSpecProblem(e.want) ? e.want : null;
  const desired = isSpecProblem(e.want) ? null : e.want;
  return {
    name: e.name,
    archive: problem?.value ?? prop(ch, 'archive') ?? '',
    spec: desired === null ? null : formatArchiveSpec(desired.spec),
    problem: problem?.error ?? null,
    iocStatus: (desired?.active ?? prop(ch, 'pvStatus') === 'Active') ? 'Active' : 'Inactive',
    iocId: prop(ch, 'iocid'),
    appliance: entry === null ? null : applianceView(entry),
    next: entry === null ? null : desired === null ? 'refused' : nextAction(desired, entry),
  };
}
