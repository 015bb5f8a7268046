import { describe, expect, it } from 'vitest';
import { SimAppliance } from '../../../src/core/archiver/sim-appliance.js';
import type { TypeInfo } from '../../../src/core/archiver/appliance-rows.js';

const t0 = 1_000_000;
function row(pvName: string, applianceIdentity: string, paused = false): TypeInfo {
  return {
    pvName, applianceIdentity, paused, samplingMethod: 'MONITOR', samplingPeriod: 1, policyName: 'default',
    DBRType: 'DBR_SCALAR_DOUBLE', dataStores: [], creationTime: '', modificationTime: '',
  };
}

describe('stand-in appliance rules', () => {
  it('loads only its own identity, and pending requests re-enter the workflow', () => {
    const s = new SimAppliance('komac', [row('A', 'komac'), row('B', 'other')], new Map([['ALIAS', 'A'], ['X', 'B']]),
      new Map([['R', { samplingMethod: 'SCAN', samplingPeriod: 2 }], ['A', {}]]), t0, 100);
    expect([...s.pvs.keys()]).toEqual(['A']);
    expect(s.status('ALIAS')).toMatchObject({ status: 'Being archived', pvNameOnly: 'A' });
    expect(s.status('X')).toMatchObject({ status: 'Not being archived' });
    expect(s.status('R')).toMatchObject({ status: 'Initial sampling' });
    const e = s.tick(t0 + 100);
    expect(e.map((x) => x.kind)).toEqual(['putTypeInfo', 'deleteRequest']);
    expect(s.status('R')).toMatchObject({ status: 'Being archived', samplingPeriod: '2.0', isMonitored: 'false' });
  });

  it('archivePV: request row while in workflow, "Already submitted" for a repeat, type info when done', () => {
    const s = new SimAppliance('k', [], new Map(), new Map(), t0, 100);
    const r1 = s.archive([{ pv: 'P', samplingmethod: 'SCAN', samplingperiod: '0.5' }, { pv: 'Q', policy: 'nope' }], t0);
    expect(r1.results).toEqual([{ pvName: 'P', status: 'Archive request submitted' }, { pvName: 'Q', validation: 'Policy nope does not exist' }]);
    expect(r1.effects).toEqual([{ kind: 'putRequest', pvName: 'P', params: { samplingMethod: 'SCAN', samplingPeriod: 0.5 } }]);
    expect(s.archive([{ pv: 'P' }], t0 + 1).results[0]?.status).toBe('Already submitted');
    expect(s.tick(t0 + 50)).toEqual([]);
    s.tick(t0 + 100);
    expect(s.archive([{ pv: 'P' }], t0 + 101).results[0]?.status).toBe('Already submitted');
    expect(s.pvs.get('P')).toMatchObject({ samplingMethod: 'SCAN', samplingPeriod: 0.5, applianceIdentity: 'k', paused: false });
  });

  it('pause/resume answer like BulkPauseResumeUtils; delete and rename need a paused PV', () => {
    const s = new SimAppliance('k', [row('A', 'k')], new Map(), new Map(), t0);
    expect(s.setPaused(['A'], false, t0).results).toEqual([{ pvName: 'A', validation: 'PV A is not paused' }]);
    expect(s.delete('A').result.validation).toMatch(/paused first/);
    expect(s.rename('A', 'B', t0).result.validation).toMatch(/paused first/);
    expect(s.setPaused(['A', 'NONE'], true, t0).results).toEqual([
      { pvName: 'A', status: 'ok' }, { pvName: 'NONE', validation: 'PV NONE is not archived on this appliance' },
    ]);
    expect(s.status('A').status).toBe('Paused');
    expect(s.sampled()).toEqual([]);
    expect(s.rename('A', 'B', t0).result.status).toBe('ok');
    expect(s.delete('B').effects).toEqual([{ kind: 'deleteTypeInfo', pvName: 'B' }]);
    expect(s.pvs.size).toBe(0);
  });

  it('changeArchivalParameters applies the new period and method', () => {
    const s = new SimAppliance('k', [row('A', 'k')], new Map(), new Map(), t0);
    expect(s.change('A', 5, 'SCAN', t0).result.status).toBe('ok');
    expect(s.status('A')).toMatchObject({ samplingPeriod: '5.0', isMonitored: 'false' });
    expect(s.change('NONE', 5, undefined, t0).result.validation).toMatch(/Unable/);
  });

  it('getAllPVs returns 500 names unless limit=-1', () => {
    const rows = Array.from({ length: 700 }, (_, i) => row(`PV:${String(i).padStart(4, '0')}`, 'k'));
    const s = new SimAppliance('k', rows, new Map(), new Map(), t0);
    expect(s.allPvs(undefined, undefined)).toHaveLength(500);
    expect(s.allPvs(undefined, -1)).toHaveLength(700);
    expect(s.allPvs('PV:00?1', -1)).toEqual(['PV:0001', 'PV:0011', 'PV:0021', 'PV:0031', 'PV:0041', 'PV:0051', 'PV:0061', 'PV:0071', 'PV:0081', 'PV:0091']);
  });
});
