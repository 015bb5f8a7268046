import { describe, expect, it } from 'vitest';
import { Directory } from '../../../src/core/directory/directory.js';
import type { CfChannel } from '../../../src/core/model.js';
import { parseChannelQuery } from '../../../src/core/query/parse-query.js';
import { alive, info, noInfo, noRec, rec } from './build-events.js';

const A = 'IOCA@host-a';
const B = 'IOCB@host-b';

function props(ch: CfChannel | undefined): Record<string, string | null> {
  if (ch === undefined) throw new Error('no such channel');
  return Object.fromEntries(ch.properties.map((p) => [p.name, p.value]));
}

describe('Directory derivation', () => {
  it('derives a record channel with every recceiver property, all owned by the owner', () => {
    const d = new Directory({ owner: 'cfowner' });
    d.apply([
      info(A, { iocIP: '10.0.0.1', env: { RSRV_SERVER_PORT: '5064', PVAS_SERVER_PORT: '5075', OTHER: 'x' },
        updatedAt: '2024-05-01T10:00:00.000Z', writer: 'pvsync-7' }),
      alive(A),
      rec(A, 'X:1', { type: 'ao', desc: 'a setpoint', infos: { archive: 'monitor 1.0', autosaveFields: 'VAL' } }),
    ], 7);
    const ch = d.get('X:1');
    expect(ch).toEqual({
      name: 'X:1', owner: 'cfowner', tags: [],
      properties: [
        ['hostName', 'host-a'], ['iocName', 'IOCA'], ['iocid', A], ['iocIP', '10.0.0.1'], ['pvStatus', 'Active'],
        ['time', '2024-05-01T10:00:00.000Z'], ['recceiverID', 'pvsync-7'], ['recordType', 'ao'],
        ['recordDesc', 'a setpoint'], ['caPort', '5064'], ['pvaPort', '5075'], ['archive', 'monitor 1.0'],
      ].map(([name, value]) => ({ name, owner: 'cfowner', value, channels: [] })),
    });
    expect(d.revision).toBe(7);
    expect(d.size).toBe(1);
  });

  it('omits optional properties that are unset or empty', () => {
    const d = new Directory();
    d.apply([info(A), rec(A, 'X:1', { type: 'ai', desc: '' })], 1);
    expect(Object.keys(props(d.get('X:1')))).toEqual(
      ['hostName', 'iocName', 'iocid', 'pvStatus', 'time', 'recceiverID', 'recordType']);
    expect(d.get('X:1')?.owner).toBe('pvsync');
  });

  it('publishes only whitelisted info tags', () => {
    const d = new Directory({ infoWhitelist: ['archive', 'archiver', 'recordType'] });
    d.apply([info(A), rec(A, 'X:1', { infos: { archive: 'scan@10', archiver: 'aa1', secret: 's', recordType: 'no' } })], 1);
    const p = props(d.get('X:1'));
    expect([p['archive'], p['archiver'], p['secret'], p['recordType']]).toEqual(['scan@10', 'aa1', undefined, 'ai']);
    expect(d.propertyNames()).toContain('archiver');
  });

  it('makes one channel per alias, copying the record properties plus alias', () => {
    const d = new Directory();
    d.apply([info(A), alive(A), rec(A, 'R:1', { aliases: ['R:1:ALIAS', 'R:1:OTHER'], desc: 'd' })], 1);
    expect(d.size).toBe(3);
    const { alias, ...rest } = props(d.get('R:1:ALIAS'));
    expect(alias).toBe('R:1');
    expect(rest).toEqual(props(d.get('R:1')));
    expect(props(d.get('R:1'))['alias']).toBeUndefined();
  });

  it('turns channels Inactive when the alive key goes, and never deletes them for it', () => {
    const d = new Directory();
    d.apply([info(A), alive(A), rec(A, 'X:1')], 1);
    expect(props(d.get('X:1'))['pvStatus']).toBe('Active');
    d.apply([alive(A, false)], 2);
    expect(props(d.get('X:1'))['pvStatus']).toBe('Inactive');
    expect(d.size).toBe(1);
    d.apply([alive(A)], 3);
    expect(props(d.get('X:1'))['pvStatus']).toBe('Active');
  });

  it('keeps gone records as Inactive channels even while their IOC is alive', () => {
    const d = new Directory();
    d.apply([info(A), alive(A), rec(A, 'X:1'), rec(A, 'X:2', { gone: true, aliases: ['X:2:A'] })], 1);
    expect(props(d.get('X:1'))['pvStatus']).toBe('Active');
    expect(props(d.get('X:2'))['pvStatus']).toBe('Inactive');
    expect(props(d.get('X:2:A'))['pvStatus']).toBe('Inactive');
  });

  it('accepts events in any order: records before their IOC info, with the properties known so far', () => {
    const d = new Directory();
    d.apply([rec(A, 'X:1'), alive(A)], 1);
    expect(props(d.get('X:1'))).toEqual({ iocid: A, pvStatus: 'Active', recordType: 'ai' });
    d.apply([info(A)], 2);
    expect(props(d.get('X:1'))['hostName']).toBe('host-a');
    d.apply([noInfo(A)], 3);
    expect(props(d.get('X:1'))['hostName']).toBeUndefined();
  });

  it('gives the same result whatever the order of one batch', () => {
    const events = [info(A, { updatedAt: '2024-01-02T00:00:00Z' }), alive(A), rec(A, 'S:1', { aliases: ['S:1A'] }),
      info(B, { updatedAt: '2024-01-03T00:00:00Z' }), rec(B, 'S:1'), rec(B, 'S:2'), alive(B), rec(A, 'S:3')];
    const expected = new Directory();
    expected.apply(events, 1);
    const all = parseChannelQuery({});
    for (let shift = 1; shift < events.length; shift++) {
      const d = new Directory();
      d.apply([...events.slice(shift), ...events.slice(0, shift)], 1);
      expect(d.search(all).channels).toEqual(expected.search(all).channels);
    }
  });

  it('removes a channel when its record key is deleted, and updates aliases when a record changes', () => {
    const d = new Directory();
    d.apply([info(A), rec(A, 'R:1', { aliases: ['OLD'] }), rec(A, 'R:2')], 1);
    d.apply([rec(A, 'R:1', { aliases: ['NEW'], type: 'bo' })], 2);
    expect(d.get('OLD')).toBeUndefined();
    expect(props(d.get('NEW'))).toMatchObject({ alias: 'R:1', recordType: 'bo' });
    d.apply([noRec(A, 'R:2'), noRec(A, 'R:2')], 3);
    expect(d.get('R:2')).toBeUndefined();
    expect(d.search(parseChannelQuery({})).channels.map((c) => c.name)).toEqual(['NEW', 'R:1']);
  });

  it('clear() forgets everything and resets the revision', () => {
    const d = new Directory();
    d.apply([info(A), alive(A), rec(A, 'X:1')], 5);
    d.clear();
    expect([d.size, d.revision, d.get('X:1')]).toEqual([0, 0, undefined]);
    expect(d.search(parseChannelQuery({})).channels).toEqual([]);
    d.apply([rec(B, 'Y:1')], 6);
    expect(d.search(parseChannelQuery({})).channels.map((c) => c.name)).toEqual(['Y:1']);
  });
});

describe('Directory: two IOCs serving one name', () => {
  const t1 = '2024-01-01T00:00:00.000Z';
  const t2 = '2024-01-02T00:00:00.000Z';

  it('follows the Active candidate with the latest upload, and reports the conflict', () => {
    const d = new Directory();
    d.apply([info(A, { updatedAt: t1 }), alive(A), rec(A, 'DUP', { type: 'ai' }),
      info(B, { updatedAt: t2 }), alive(B), rec(B, 'DUP', { type: 'bi' }), rec(B, 'ONLY:B')], 1);
    expect(props(d.get('DUP'))).toMatchObject({ iocid: B, recordType: 'bi', pvStatus: 'Active' });
    expect(d.conflicts()).toEqual([{ name: 'DUP', iocIds: [A, B] }]);
    expect(d.size).toBe(2);
  });

  it('prefers an Active candidate over a later Inactive one', () => {
    const d = new Directory();
    d.apply([info(A, { updatedAt: t1 }), alive(A), rec(A, 'DUP'), info(B, { updatedAt: t2 }), rec(B, 'DUP')], 1);
    expect(props(d.get('DUP'))).toMatchObject({ iocid: A, pvStatus: 'Active' });
    expect(d.conflicts()).toEqual([]);
    // B comes alive: it is Active and later, so it takes the name (last uploader wins).
    d.apply([alive(B)], 2);
    expect(props(d.get('DUP'))['iocid']).toBe(B);
    // B dies: back to the live A.
    d.apply([alive(B, false)], 3);
    expect(props(d.get('DUP'))).toMatchObject({ iocid: A, pvStatus: 'Active' });
    // A dies too: the latest upload, Inactive; the channel stays.
    d.apply([alive(A, false)], 4);
    expect(props(d.get('DUP'))).toMatchObject({ iocid: B, pvStatus: 'Inactive' });
  });

  it('prefers a live IOC whose record is not gone', () => {
    const d = new Directory();
    d.apply([info(A, { updatedAt: t1 }), alive(A), rec(A, 'DUP'),
      info(B, { updatedAt: t2 }), alive(B), rec(B, 'DUP', { gone: true })], 1);
    expect(props(d.get('DUP'))).toMatchObject({ iocid: A, pvStatus: 'Active' });
    expect(d.conflicts()).toEqual([]);
  });

  it('breaks an upload-time tie by iocId byte order', () => {
    const d = new Directory();
    d.apply([info(B, { updatedAt: t1 }), alive(B), rec(B, 'DUP'), info(A, { updatedAt: t1 }), alive(A), rec(A, 'DUP')], 1);
    expect(props(d.get('DUP'))['iocid']).toBe(A);
  });

  it('re-elects when the winner re-uploads later or its record goes away', () => {
    const d = new Directory();
    d.apply([info(A, { updatedAt: t2 }), alive(A), rec(A, 'DUP'), info(B, { updatedAt: t1 }), alive(B), rec(B, 'DUP')], 1);
    expect(props(d.get('DUP'))['iocid']).toBe(A);
    d.apply([info(B, { updatedAt: '2024-02-01T00:00:00Z' })], 2);
    expect(props(d.get('DUP'))['iocid']).toBe(B);
    d.apply([noRec(B, 'DUP')], 3);
    expect(props(d.get('DUP'))['iocid']).toBe(A);
    expect(d.conflicts()).toEqual([]);
  });

  it('lets a record alias collide with another IOC record name', () => {
    const d = new Directory();
    d.apply([info(A, { updatedAt: t1 }), alive(A), rec(A, 'R', { aliases: ['SHARED'] }),
      info(B, { updatedAt: t2 }), alive(B), rec(B, 'SHARED')], 1);
    expect(props(d.get('SHARED'))).toMatchObject({ iocid: B });
    expect(props(d.get('SHARED'))['alias']).toBeUndefined();
    d.apply([alive(B, false)], 2);
    expect(props(d.get('SHARED'))).toMatchObject({ iocid: A, alias: 'R' });
    expect(d.conflicts()).toEqual([]);
  });
});
