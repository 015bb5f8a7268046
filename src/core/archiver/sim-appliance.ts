/**
 * The stand-in appliance's state and rules (pvsync archiver-sim): what the management BPLs do to the PVs, as pure
 * transitions with `now` passed in. Each call returns the rows to write through to the appliance's MariaDB
 * tables, in order; the caller writes them before it answers, as the real appliance persists every change.
 */
import { formatPeriod, type SamplingMethod } from './archive-spec.js';
import type { TypeInfo, UserParams } from './appliance-rows.js';
import type { ArchiveRequest } from './plan.js';

/** The appliance's start-up sequence (ConfigService.STARTUP_SEQUENCE); BPLs answer 500 until STARTUP_COMPLETE. */
export type StartupState = 'ZEROTH_STATE' | 'READY_TO_JOIN_APPLIANCE' | 'POST_STARTUP_RUNNING' | 'STARTUP_COMPLETE';

/** A row change to write through. */
export type RowEffect =
  | { readonly kind: 'putTypeInfo'; readonly info: TypeInfo }
  | { readonly kind: 'deleteTypeInfo'; readonly pvName: string }
  | { readonly kind: 'putRequest'; readonly pvName: string; readonly params: UserParams }
  | { readonly kind: 'deleteRequest'; readonly pvName: string }
  | { readonly kind: 'putAlias'; readonly alias: string; readonly realName: string }
  | { readonly kind: 'deleteAlias'; readonly alias: string };

/** A JSON object of strings, as the BPLs answer. */
export type StatusEntry = Record<string, string>;

/** The policies the stand-in knows (getPolicyList): name → sampling. */
export const SIM_POLICIES: Readonly<Record<string, { method: SamplingMethod; period: number; desc: string }>> = {
  default: { method: 'MONITOR', period: 1, desc: 'Monitor at 1 s, into the short- and long-term stores' },
  fast: { method: 'MONITOR', period: 0.1, desc: 'Monitor at 0.1 s' },
  slow: { method: 'SCAN', period: 60, desc: 'Scan once a minute' },
};

interface Pending {
  readonly params: UserParams;
  readonly since: number;
}

const DATA_STORES = ['pb://localhost?name=STS&rootFolder=${ARCHAPPL_SHORT_TERM_FOLDER}&partitionGranularity=PARTITION_HOUR'];

/** The PVs of one appliance identity and their archive requests in workflow. */
export class SimAppliance {
  readonly pvs = new Map<string, TypeInfo>();
  readonly aliases = new Map<string, string>();
  private readonly pending = new Map<string, Pending>();

  /**
   * Load as the appliance does at start: type infos of this identity only, aliases, and the pending requests
   * (which re-enter the workflow at `now`).
   */
  constructor(
    readonly identity: string, loaded: readonly TypeInfo[], aliases: ReadonlyMap<string, string>,
    requests: ReadonlyMap<string, UserParams>, now: number, private readonly workflowMs = 300,
  ) {
    for (const t of loaded) if (t.applianceIdentity === identity) this.pvs.set(t.pvName, t);
    for (const [a, r] of aliases) if (this.pvs.has(r)) this.aliases.set(a, r);
    for (const [pv, params] of requests) if (!this.pvs.has(pv)) this.pending.set(pv, { params, since: now });
  }

  private real(name: string): string {
    return this.aliases.get(name) ?? name;
  }

  /** Names with an archive request still in workflow. */
  get pendingNames(): string[] {
    return [...this.pending.keys()];
  }

  /** archivePV: submit requests; an archived or pending PV answers "Already submitted". */
  archive(reqs: readonly ArchiveRequest[], now: number): { results: StatusEntry[]; effects: RowEffect[] } {
    const results: StatusEntry[] = [];
    const effects: RowEffect[] = [];
    for (const r of reqs) {
      const pv = this.real(r.pv);
      if (this.pvs.has(pv) || this.pending.has(pv)) {
        results.push({ pvName: r.pv, status: 'Already submitted' });
        continue;
      }
      if (r.policy !== undefined && SIM_POLICIES[r.policy] === undefined) {
        results.push({ pvName: r.pv, validation: `Policy ${r.policy} does not exist` });
        continue;
      }
      const period = r.samplingperiod === undefined ? undefined : Number(r.samplingperiod);
      if (period !== undefined && !(period > 0)) {
        results.push({ pvName: r.pv, validation: `Invalid sampling period ${r.samplingperiod ?? ''}` });
        continue;
      }
      const params: UserParams = {
        ...(r.samplingmethod === undefined ? {} : { samplingMethod: r.samplingmethod }),
        ...(period === undefined ? {} : { samplingPeriod: period }),
        ...(r.policy === undefined ? {} : { policyName: r.policy }),
      };
      this.pending.set(pv, { params, since: now });
      effects.push({ kind: 'putRequest', pvName: pv, params });
      results.push({ pvName: r.pv, status: 'Archive request submitted' });
    }
    return { results, effects };
  }

  /** Finish the workflow of requests older than the workflow time: type info written, request row deleted. */
  tick(now: number): RowEffect[] {
    const effects: RowEffect[] = [];
    for (const [pv, p] of this.pending) {
      if (now - p.since < this.workflowMs) continue;
      this.pending.delete(pv);
      const pol = SIM_POLICIES[p.params.policyName ?? 'default'] ?? SIM_POLICIES.default;
      const iso = new Date(now).toISOString();
      const info: TypeInfo = {
        pvName: pv, samplingMethod: p.params.samplingMethod ?? pol?.method ?? 'MONITOR',
        samplingPeriod: p.params.samplingPeriod ?? pol?.period ?? 1, policyName: p.params.policyName ?? 'default',
        applianceIdentity: this.identity, paused: false, DBRType: 'DBR_SCALAR_DOUBLE', dataStores: DATA_STORES,
        creationTime: iso, modificationTime: iso,
      };
      this.pvs.set(pv, info);
      effects.push({ kind: 'putTypeInfo', info }, { kind: 'deleteRequest', pvName: pv });
    }
    return effects;
  }

  /** pauseArchivingPV / resumeArchivingPV for a list of names (BulkPauseResumeUtils' answers). */
  setPaused(names: readonly string[], paused: boolean, now: number): { results: StatusEntry[]; effects: RowEffect[] } {
    const results: StatusEntry[] = [];
    const effects: RowEffect[] = [];
    for (const name of names) {
      const pv = this.real(name);
      const t = this.pvs.get(pv);
      if (t === undefined) {
        results.push({ pvName: pv, validation: `PV ${pv} is not archived on this appliance` });
      } else if (t.paused === paused) {
        results.push({ pvName: pv, validation: paused ? `PV ${pv} is already paused` : `PV ${pv} is not paused` });
      } else {
        const info = { ...t, paused, modificationTime: new Date(now).toISOString() };
        this.pvs.set(pv, info);
        effects.push({ kind: 'putTypeInfo', info });
        results.push({ pvName: pv, status: 'ok' });
      }
    }
    return { results, effects };
  }

  /** changeArchivalParameters: the period (and method when given) of an archived PV. */
  change(name: string, period: number, method: SamplingMethod | undefined, now: number):
  { result: StatusEntry; effects: RowEffect[] } {
    const pv = this.real(name);
    const t = this.pvs.get(pv);
    if (t === undefined) return { result: { validation: `Unable to change the archival parameters for ${pv}` }, effects: [] };
    const info = { ...t, samplingPeriod: period, samplingMethod: method ?? t.samplingMethod, modificationTime: new Date(now).toISOString() };
    this.pvs.set(pv, info);
    return {
      result: { status: 'ok', desc: `Successfully changed the archival parameters for ${pv}` },
      effects: [{ kind: 'putTypeInfo', info }],
    };
  }

  /**
   * getPVStatus entry of one name, as the appliance words it; `lastSampleAt(pv)` is when the PV's last sample was
   * taken (ms; undefined: none yet), reported as `lastEvent` of an archived PV.
   */
  status(name: string, lastSampleAt: (pv: string) => number | undefined = () => undefined): StatusEntry {
    const pv = this.real(name);
    const t = this.pvs.get(pv);
    if (t === undefined) {
      return { pvName: name, status: this.pending.has(pv) ? 'Initial sampling' : 'Not being archived' };
    }
    if (t.paused) return { pvName: name, pvNameOnly: pv, appliance: this.identity, status: 'Paused' };
    return {
      pvName: name, pvNameOnly: pv, appliance: this.identity, status: 'Being archived', connectionState: 'true',
      samplingPeriod: formatPeriod(t.samplingPeriod), isMonitored: String(t.samplingMethod === 'MONITOR'),
      lastEvent: applianceTime(lastSampleAt(pv)),
    };
  }

  /** deletePV: only a paused PV. */
  delete(name: string): { result: StatusEntry; effects: RowEffect[] } {
    const pv = this.real(name);
    const t = this.pvs.get(pv);
    if (t === undefined) return { result: { validation: `PV ${pv} is not archived` }, effects: [] };
    if (!t.paused) return { result: { validation: `Cannot delete PV ${pv}: it must be paused first` }, effects: [] };
    this.pvs.delete(pv);
    const effects: RowEffect[] = [{ kind: 'deleteTypeInfo', pvName: pv }];
    for (const [a, r] of this.aliases) {
      if (r === pv) {
        this.aliases.delete(a);
        effects.push({ kind: 'deleteAlias', alias: a });
      }
    }
    return { result: { pvName: pv, status: 'ok' }, effects };
  }

  /** renamePV: only a paused PV, to a name not archived yet; the renamed PV stays paused. */
  rename(name: string, to: string, now: number): { result: StatusEntry; effects: RowEffect[] } {
    const pv = this.real(name);
    const t = this.pvs.get(pv);
    if (t === undefined) return { result: { validation: `PV ${pv} is not archived` }, effects: [] };
    if (!t.paused) return { result: { validation: `Cannot rename PV ${pv}: it must be paused first` }, effects: [] };
    if (this.pvs.has(to) || this.pending.has(to)) return { result: { validation: `PV ${to} is already archived` }, effects: [] };
    this.pvs.delete(pv);
    const info = { ...t, pvName: to, modificationTime: new Date(now).toISOString() };
    this.pvs.set(to, info);
    return { result: { status: 'ok', desc: `Successfully renamed PV ${pv} to ${to}` },
      effects: [{ kind: 'deleteTypeInfo', pvName: pv }, { kind: 'putTypeInfo', info }] };
  }

  /** getAllPVs: names matching the glob (`*`, `?`), sorted; at most 500 unless limit is -1. */
  allPvs(pattern: string | undefined, limit: number | undefined): string[] {
    const re = pattern === undefined ? null : globRegex(pattern);
    const names = [...this.pvs.keys()].filter((n) => re === null || re.test(n)).sort();
    const max = limit === undefined ? 500 : limit < 0 ? Infinity : limit;
    return names.slice(0, max);
  }

  /** The PVs that are sampled now (archived, not paused). */
  sampled(): TypeInfo[] {
    return [...this.pvs.values()].filter((t) => !t.paused);
  }
}

function globRegex(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A time as the appliance writes it for people (its TimeUtils.convertToHumanReadableString, pattern
 * `MMM/dd/yyyy HH:mm:ss z`), in UTC: `Mar/04/2024 10:15:31 UTC`; `Never` for no time.
 */
export function applianceTime(ms: number | undefined): string {
  if (ms === undefined || ms === 0) return 'Never';
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()] ?? ''}/${p(d.getUTCDate())}/${d.getUTCFullYear()} `
    + `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC`;
}
