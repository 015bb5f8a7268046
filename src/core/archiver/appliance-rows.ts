/**
 * The Archiver Appliance's rows in its `archappl` database (domain.md §6), encoded and decoded. Every scalar in
 * `PVTypeInfo.typeInfoJSON` and `ArchivePVRequests.userParams` is a JSON STRING: the appliance drops a PV whose
 * JSON holds a raw number or boolean when it loads. Key spellings are the appliance's own, typos included.
 */
import type { SamplingMethod } from './archive-spec.js';
import { formatPeriod } from './archive-spec.js';

/** A PV's archiving configuration as the appliance keeps it (the part of PVTypeInfo this project uses). */
export interface TypeInfo {
  readonly pvName: string;
  readonly samplingMethod: SamplingMethod;
  readonly samplingPeriod: number;
  readonly policyName: string;
  readonly applianceIdentity: string;
  readonly paused: boolean;
  readonly DBRType: string;
  readonly dataStores: readonly string[];
  readonly creationTime: string;
  readonly modificationTime: string;
}

/** typeInfoJSON as the appliance writes it: all scalars strings, times ISO-8601 with milliseconds and Z. */
export function encodeTypeInfo(t: TypeInfo): string {
  return JSON.stringify({
    pvName: t.pvName, DBRType: t.DBRType, samplingMethod: t.samplingMethod,
    samplingPeriod: formatPeriod(t.samplingPeriod), policyName: t.policyName, applianceIdentity: t.applianceIdentity,
    paused: String(t.paused), dataStores: [...t.dataStores], creationTime: t.creationTime,
    modificationTime: t.modificationTime, archiveFields: [], hasReducedDataSet: 'false', usePVAccess: 'false',
    useDBEProperties: 'false', elementCount: '1', scalar: 'true',
  });
}

/**
 * The appliance's reading of its JSON columns: an object whose scalars are all strings, else null (a raw number or
 * boolean anywhere at the top level makes it drop the row).
 */
function allStringObject(json: string): Record<string, unknown> | null {
  let o: unknown;
  try {
    o = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return null;
  const r = o as Record<string, unknown>;
  for (const v of Object.values(r)) if (typeof v === 'number' || typeof v === 'boolean') return null;
  return r;
}

/**
 * Decode typeInfoJSON the way the appliance loads it: null (the PV is dropped) when it is not an object, a scalar
 * is a raw number or boolean, or a required key is missing or malformed.
 */
export function decodeTypeInfo(json: string): TypeInfo | null {
  const r = allStringObject(json);
  if (r === null) return null;
  const s = (k: string): string | null => (typeof r[k] === 'string' ? r[k] : null);
  const method = s('samplingMethod');
  const period = Number(s('samplingPeriod') ?? Number.NaN);
  const paused = s('paused');
  const [pvName, ident] = [s('pvName'), s('applianceIdentity')];
  if (pvName === null || ident === null || (method !== 'MONITOR' && method !== 'SCAN')) return null;
  if (!(period > 0) || (paused !== 'true' && paused !== 'false')) return null;
  const stores = Array.isArray(r.dataStores) ? r.dataStores.filter((x): x is string => typeof x === 'string') : [];
  return {
    pvName, samplingMethod: method, samplingPeriod: period, policyName: s('policyName') ?? 'default',
    applianceIdentity: ident, paused: paused === 'true', DBRType: s('DBRType') ?? 'DBR_SCALAR_DOUBLE',
    dataStores: stores, creationTime: s('creationTime') ?? '', modificationTime: s('modificationTime') ?? '',
  };
}

/** An archive request as kept in ArchivePVRequests (UserSpecifiedSamplingParams). */
export interface UserParams {
  readonly samplingMethod?: SamplingMethod;
  readonly samplingPeriod?: number;
  readonly policyName?: string;
}

/** userParams JSON with the appliance's spellings (`userSpecifedsamplingMethod`, `userSpecifedSamplingPeriod`). */
export function encodeUserParams(p: UserParams): string {
  const o: Record<string, string | string[]> = {
    userOverrideParams: String(p.samplingPeriod !== undefined), archiveFields: [], aliases: [],
    skipAliasCheck: 'false', usePVAccess: 'false', skipCapacityPlanning: 'false',
  };
  if (p.samplingMethod !== undefined) o.userSpecifedsamplingMethod = p.samplingMethod;
  if (p.samplingPeriod !== undefined) o.userSpecifedSamplingPeriod = formatPeriod(p.samplingPeriod);
  if (p.policyName !== undefined) o.policyName = p.policyName;
  return JSON.stringify(o);
}

/** Decode userParams; null when it is not all-string JSON of the expected shape. */
export function decodeUserParams(json: string): UserParams | null {
  const r = allStringObject(json);
  if (r === null) return null;
  const m = r.userSpecifedsamplingMethod;
  const per = typeof r.userSpecifedSamplingPeriod === 'string' ? Number(r.userSpecifedSamplingPeriod) : undefined;
  if (m !== undefined && m !== 'MONITOR' && m !== 'SCAN') return null;
  if (per !== undefined && !(per > 0)) return null;
  return {
    ...(m === undefined ? {} : { samplingMethod: m }),
    ...(per === undefined ? {} : { samplingPeriod: per }),
    ...(typeof r.policyName === 'string' ? { policyName: r.policyName } : {}),
  };
}
