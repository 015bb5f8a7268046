/**
 * The desired-state planner: what the directory wants archived (from each channel's `archive`, `archiver` and
 * `pvStatus` properties) against what the appliance reports, turned into batched management actions. Pure.
 */
import type { CfChannel } from '../model.js';
import {
  formatPeriod, parseArchiverList, samePeriod, tryArchiveSpec, type ArchiveSpec, type SamplingMethod,
} from './archive-spec.js';

/** One PV the directory wants on the appliance; `active` = its IOC is alive (pvStatus Active). */
export interface DesiredPv {
  readonly name: string;
  readonly spec: ArchiveSpec;
  readonly active: boolean;
}

/** What the appliance says of a PV, reduced to what the plan needs. */
export type ReportedState = 'archived' | 'paused' | 'pending' | 'absent';

/** A PV as the appliance reports it; method and period when it tells them (archived PVs). */
export interface ReportedPv {
  readonly state: ReportedState;
  readonly method?: SamplingMethod;
  readonly period?: number;
}

/** One element of archivePV's POST list: `samplingperiod` a string, as the appliance requires. */
export interface ArchiveRequest {
  readonly pv: string;
  readonly samplingmethod?: SamplingMethod;
  readonly samplingperiod?: string;
  readonly policy?: string;
}

/** A changeArchivalParameters call. */
export interface ParameterChange {
  readonly pv: string;
  readonly samplingmethod: SamplingMethod;
  readonly samplingperiod: string;
}

/** The actions that bring the appliance to the desired state. */
export interface ArchivePlan {
  readonly archive: ArchiveRequest[];
  readonly resume: string[];
  readonly pause: string[];
  readonly change: ParameterChange[];
}

/** What to do with a PV whose `archive` property went away: pause it (default) or leave it archived. */
export type RemovedPolicy = 'pause' | 'leave';

/** Which channels one reconciler serves: those whose `archiver` names one of `names`, and untargeted ones if set. */
export interface ApplianceSelector {
  readonly names: readonly string[];
  readonly untargeted: boolean;
}

/** A channel's archive property could not be read (reported per channel; the others go on). */
export interface SpecProblem {
  readonly name: string;
  readonly value: string;
  readonly error: string;
}

function prop(ch: CfChannel, name: string): string | null {
  for (const p of ch.properties) if (p.name === name) return p.value;
  return null;
}

/** What one channel asks of the selected appliance: a DesiredPv, a problem, or null (not archived here). */
export function desiredOf(ch: CfChannel, sel: ApplianceSelector): DesiredPv | SpecProblem | null {
  const value = prop(ch, 'archive');
  if (value === null) return null;
  const targets = parseArchiverList(prop(ch, 'archiver'));
  if (targets.length === 0 ? !sel.untargeted : !targets.some((t) => sel.names.includes(t))) return null;
  const r = tryArchiveSpec(value);
  if ('error' in r) return { name: ch.name, value, error: r.error };
  return { name: ch.name, spec: r.spec, active: prop(ch, 'pvStatus') === 'Active' };
}

/** True for the problem branch of desiredOf. */
export function isSpecProblem(x: DesiredPv | SpecProblem): x is SpecProblem {
  return 'error' in x;
}

function request(d: DesiredPv): ArchiveRequest {
  const s = d.spec;
  if (s.kind === 'default') return { pv: d.name };
  if (s.kind === 'policy') return { pv: d.name, policy: s.policy };
  return { pv: d.name, samplingmethod: s.method, samplingperiod: formatPeriod(s.period) };
}

function wantsChange(spec: ArchiveSpec, r: ReportedPv): ParameterChange | null {
  if (spec.kind !== 'sampling' || r.period === undefined) return null;
  if (samePeriod(spec.period, r.period) && (r.method === undefined || r.method === spec.method)) return null;
  return { pv: '', samplingmethod: spec.method, samplingperiod: formatPeriod(spec.period) };
}

/**
 * Plan one reconcile. `desired` by name; `removed` = PVs this reconciler archived whose archive tag has gone;
 * `reported(name)` the appliance's view (absent when it does not know the PV). Inactive PVs are paused, never
 * archived anew; pending requests (the appliance's workflow) are left alone.
 */
export function planArchiving(
  desired: Iterable<DesiredPv>, removed: Iterable<string>, reported: (name: string) => ReportedPv,
  onRemoved: RemovedPolicy = 'pause',
): ArchivePlan {
  const plan: ArchivePlan = { archive: [], resume: [], pause: [], change: [] };
  for (const d of desired) {
    const r = reported(d.name);
    if (!d.active) {
      if (r.state === 'archived') plan.pause.push(d.name);
      continue;
    }
    if (r.state === 'absent') plan.archive.push(request(d));
    else if (r.state === 'paused') plan.resume.push(d.name);
    if (r.state === 'archived' || r.state === 'paused') {
      const c = wantsChange(d.spec, r);
      if (c !== null) plan.change.push({ ...c, pv: d.name });
    }
  }
  if (onRemoved === 'pause') {
    for (const name of removed) if (reported(name).state === 'archived') plan.pause.push(name);
  }
  return plan;
}

/** Number of actions in a plan. */
export function planSize(p: ArchivePlan): number {
  return p.archive.length + p.resume.length + p.pause.length + p.change.length;
}

/** Split a list into batches of at most `size` (the appliance's GET takes ~100 names; POST lists stay bounded). */
export function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Reduce one getPVStatus entry to a ReportedPv. Status strings as the appliance writes them: `Being archived`,
 * `Paused`, `Initial sampling`/`Appliance assigned` (workflow under way), `Not being archived`. `isMonitored` and
 * `samplingPeriod` are strings in its JSON.
 */
export function reportedOf(entry: Readonly<Record<string, unknown>> | undefined): ReportedPv {
  if (entry === undefined) return { state: 'absent' };
  const status = typeof entry.status === 'string' ? entry.status : '';
  const period = typeof entry.samplingPeriod === 'string' ? Number(entry.samplingPeriod) : Number.NaN;
  const method: SamplingMethod | undefined = entry.isMonitored === 'true' ? 'MONITOR'
    : entry.isMonitored === 'false' ? 'SCAN' : undefined;
  const extra = { ...(Number.isFinite(period) ? { period } : {}), ...(method === undefined ? {} : { method }) };
  switch (status) {
    case 'Being archived': return { state: 'archived', ...extra };
    case 'Paused': return { state: 'paused', ...extra };
    case 'Initial sampling': case 'Appliance assigned': return { state: 'pending' };
    default: return { state: 'absent' };
  }
}
