import { describe, expect, it } from 'vitest';
import {
  decodeTypeInfo, decodeUserParams, encodeTypeInfo, encodeUserParams, type TypeInfo,
} from '../../../src/core/archiver/appliance-rows.js';

const info: TypeInfo = {
  pvName: 'LI:BPM1:X', samplingMethod: 'SCAN', samplingPeriod: 0.5, policyName: 'default', applianceIdentity: 'komac',
  paused: false, DBRType: 'DBR_SCALAR_DOUBLE', dataStores: ['pb://localhost?name=STS'],
  creationTime: '2026-12-01T10:00:00.000Z', modificationTime: '2026-12-01T10:00:00.000Z',
};

describe('appliance rows', () => {
  it('typeInfoJSON holds only strings (and lists), with the appliance key names', () => {
    const o = JSON.parse(encodeTypeInfo(info)) as Record<string, unknown>;
    for (const [k, v] of Object.entries(o)) expect(typeof v === 'string' || Array.isArray(v), k).toBe(true);
    expect(o).toMatchObject({ pvName: 'LI:BPM1:X', samplingMethod: 'SCAN', samplingPeriod: '0.5', paused: 'false', applianceIdentity: 'komac' });
    expect(decodeTypeInfo(encodeTypeInfo(info))).toEqual(info);
  });

  it('drops a PV whose JSON has a raw number or boolean, as the appliance does at load', () => {
    const o = JSON.parse(encodeTypeInfo(info)) as Record<string, unknown>;
    expect(decodeTypeInfo(JSON.stringify({ ...o, samplingPeriod: 0.5 }))).toBeNull();
    expect(decodeTypeInfo(JSON.stringify({ ...o, paused: false }))).toBeNull();
    expect(decodeTypeInfo(JSON.stringify({ ...o, samplingMethod: 'POLL' }))).toBeNull();
    expect(decodeTypeInfo('{not json')).toBeNull();
    expect(decodeTypeInfo('[]')).toBeNull();
  });

  it('userParams uses the appliance spellings (sic) and strings only', () => {
    const j = encodeUserParams({ samplingMethod: 'MONITOR', samplingPeriod: 1, policyName: 'fast' });
    const o = JSON.parse(j) as Record<string, unknown>;
    expect(o.userSpecifedsamplingMethod).toBe('MONITOR');
    expect(o.userSpecifedSamplingPeriod).toBe('1.0');
    expect(o.policyName).toBe('fast');
    expect(o.userOverrideParams).toBe('true');
    for (const v of Object.values(o)) expect(typeof v === 'string' || Array.isArray(v)).toBe(true);
    expect(decodeUserParams(j)).toEqual({ samplingMethod: 'MONITOR', samplingPeriod: 1, policyName: 'fast' });
    expect(decodeUserParams(encodeUserParams({}))).toEqual({});
    expect(decodeUserParams('{"userSpecifedSamplingPeriod":1}')).toBeNull();
  });
});
