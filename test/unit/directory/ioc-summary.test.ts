// The IOC list and IOC pages of the console API, from the real derivation.
import { describe, expect, it } from 'vitest';
import { Directory } from '../../../src/core/directory/directory.js';
import { iocDetail, iocSummaries } from '../../../src/core/directory/ioc-summary.js';

const info = (iocId: string, extra: Record<string, unknown> = {}) => ({
  schema: 1 as const, iocId, iocName: iocId.split('@')[0]!, hostName: iocId.split('@')[1]!, env: { A: '1' },
  uploadId: 'u', state: 'complete' as const, records: 3, updatedAt: '2026-01-01T00:00:00Z', writer: 'w', ...extra,
});
const rec = (name: string, gone = false) => ({ name, type: 'ai', infos: {}, aliases: [], file: '/x.db', line: 3, ...(gone ? { gone: true as const } : {}) });

describe('IOC summaries', () => {
  const d = new Directory();
  d.apply([
    { kind: 'iocInfo', iocId: 'evr@h1', value: info('evr@h1', { errors: [{ code: 'PVS_DB_FILE', message: 'gone', file: 'st.cmd', line: 2 }] }) },
    { kind: 'alive', iocId: 'evr@h1', value: { uploadId: 'u', since: 's', writer: 'w' } },
    { kind: 'iocInfo', iocId: 'evr@h2', value: info('evr@h2') },
    { kind: 'iocInfo', iocId: 'bpm@h1', value: info('bpm@h1') },
    { kind: 'alive', iocId: 'bpm@h1', value: { uploadId: 'u', since: 's', writer: 'w' } },
    ...['B:1', 'B:3', 'B:2'].map((n) => ({ kind: 'record' as const, iocId: 'bpm@h1', name: n, value: rec(n, n === 'B:3') })),
  ], 5);

  it('lists every IOC with status, counts, errors and shared names', () => {
    const s = iocSummaries(d.derivation.iocs);
    expect(s.map((i) => [i.iocId, i.status, i.records, i.goneRecords, i.errors, i.duplicateName])).toEqual([
      ['bpm@h1', 'Active', 3, 1, 0, false],
      ['evr@h1', 'Active', 0, 0, 1, true],
      ['evr@h2', 'Inactive', 0, 0, 0, true],
    ]);
  });

  it('pages an IOC\'s records by name', () => {
    const p1 = iocDetail(d.derivation.iocs, 'bpm@h1', null, 2);
    expect(p1?.recordPage.map((r) => r.name)).toEqual(['B:1', 'B:2']);
    expect(p1?.nextAfter).toBe('B:2');
    expect(p1?.environment).toEqual({ A: '1' });
    const p2 = iocDetail(d.derivation.iocs, 'bpm@h1', 'B:2', 2);
    expect(p2?.recordPage.map((r) => [r.name, r.gone, r.file, r.line])).toEqual([['B:3', true, '/x.db', 3]]);
    expect(p2?.nextAfter).toBeNull();
    expect(iocDetail(d.derivation.iocs, 'nope@h', null, 2)).toBeUndefined();
  });
});
