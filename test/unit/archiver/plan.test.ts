import { describe, expect, it } from 'vitest';
import {
  batches, desiredOf, planArchiving, reportedOf, type DesiredPv, type ReportedPv,
} from '../../../src/core/archiver/plan.js';
import type { CfChannel } from '../../../src/core/model.js';

function ch(name: string, props: Record<string, string>): CfChannel {
  return {
    name, owner: 'pvsync', tags: [],
    properties: Object.entries(props).map(([n, value]) => ({ name: n, owner: 'pvsync', value, channels: [] })),
  };
}
const sel = { names: ['linac'], untargeted: true };
const mon1 = (name: string, active = true): DesiredPv => ({ name, active, spec: { kind: 'sampling', method: 'MONITOR', period: 1 } });
const view = (m: Record<string, ReportedPv>) => (n: string): ReportedPv => m[n] ?? { state: 'absent' };

describe('desiredOf', () => {
  it('reads archive, archiver and pvStatus', () => {
    expect(desiredOf(ch('A', { pvStatus: 'Active', archive: 'monitor 1.0' }), sel)).toEqual(mon1('A'));
    expect(desiredOf(ch('A', { pvStatus: 'Inactive', archive: 'monitor@1' }), sel)).toEqual(mon1('A', false));
    expect(desiredOf(ch('A', { pvStatus: 'Active' }), sel)).toBeNull();
    expect(desiredOf(ch('A', { pvStatus: 'Active', archive: 'default', archiver: 'ring' }), sel)).toBeNull();
    expect(desiredOf(ch('A', { pvStatus: 'Active', archive: 'default', archiver: 'ring,linac' }), sel))
      .toEqual({ name: 'A', active: true, spec: { kind: 'default' } });
    expect(desiredOf(ch('A', { pvStatus: 'Active', archive: 'default' }), { names: ['linac'], untargeted: false })).toBeNull();
  });

  it('reports a bad spec per channel', () => {
    const d = desiredOf(ch('BAD:1', { pvStatus: 'Active', archive: 'monitor@soon' }), sel);
    expect(d).toMatchObject({ name: 'BAD:1', value: 'monitor@soon', error: expect.stringMatching(/not a number/) as string });
  });
});

describe('planArchiving', () => {
  it('archives active PVs the appliance does not know, with the spec as the appliance wants it', () => {
    const p = planArchiving([
      mon1('A'), { name: 'B', active: true, spec: { kind: 'policy', policy: 'fast' } },
      { name: 'C', active: true, spec: { kind: 'default' } }, { name: 'D', active: true, spec: { kind: 'sampling', method: 'SCAN', period: 0.5 } },
    ], [], view({}));
    expect(p.archive).toEqual([
      { pv: 'A', samplingmethod: 'MONITOR', samplingperiod: '1.0' }, { pv: 'B', policy: 'fast' }, { pv: 'C' },
      { pv: 'D', samplingmethod: 'SCAN', samplingperiod: '0.5' },
    ]);
    expect(p.pause).toEqual([]);
  });

  it('pauses inactive, resumes active paused, leaves pending and matching ones alone', () => {
    const p = planArchiving([mon1('DEAD', false), mon1('BACK'), mon1('WAIT'), mon1('OK'), mon1('NEVER', false)], [], view({
      DEAD: { state: 'archived', method: 'MONITOR', period: 1 }, BACK: { state: 'paused' }, WAIT: { state: 'pending' },
      OK: { state: 'archived', method: 'MONITOR', period: 1 },
    }));
    expect(p).toEqual({ archive: [], resume: ['BACK'], pause: ['DEAD'], change: [] });
  });

  it('changes a period or method that differs (upstream ignores such changes)', () => {
    const p = planArchiving([mon1('P'), mon1('M'), { name: 'POL', active: true, spec: { kind: 'policy', policy: 'slow' } }], [], view({
      P: { state: 'archived', method: 'MONITOR', period: 2 }, M: { state: 'archived', method: 'SCAN', period: 1 },
      POL: { state: 'archived', method: 'MONITOR', period: 5 },
    }));
    expect(p.change).toEqual([
      { pv: 'P', samplingmethod: 'MONITOR', samplingperiod: '1.0' }, { pv: 'M', samplingmethod: 'MONITOR', samplingperiod: '1.0' },
    ]);
  });

  it('pauses PVs whose archive tag went away, unless told to leave them', () => {
    const r = view({ GONE: { state: 'archived' }, GONE2: { state: 'paused' } });
    expect(planArchiving([], ['GONE', 'GONE2', 'NEVER'], r).pause).toEqual(['GONE']);
    expect(planArchiving([], ['GONE'], r, 'leave').pause).toEqual([]);
  });

  it('reads the status strings of getPVStatus', () => {
    expect(reportedOf(undefined)).toEqual({ state: 'absent' });
    expect(reportedOf({ status: 'Being archived', samplingPeriod: '0.5', isMonitored: 'false' }))
      .toEqual({ state: 'archived', period: 0.5, method: 'SCAN' });
    expect(reportedOf({ status: 'Paused' })).toEqual({ state: 'paused' });
    expect(reportedOf({ status: 'Initial sampling' })).toEqual({ state: 'pending' });
    expect(reportedOf({ status: 'Appliance assigned' })).toEqual({ state: 'pending' });
    expect(reportedOf({ status: 'Not being archived' })).toEqual({ state: 'absent' });
  });

  it('batches', () => {
    expect(batches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(batches([], 100)).toEqual([]);
  });
});
