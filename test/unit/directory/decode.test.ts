import { describe, expect, it } from 'vitest';
import { decodeChange } from '../../../src/core/directory/decode.js';
import { Keyspace } from '../../../src/core/keyspace.js';

const ks = new Keyspace('/t/');
const info = {
  schema: 1, iocId: 'i@h', iocName: 'i', hostName: 'h', env: {}, uploadId: 'u', state: 'complete',
  records: 1, updatedAt: '2026-01-01T00:00:00.000Z', writer: 'w',
};

describe('decodeChange', () => {
  it('decodes puts and deletes of every kind', () => {
    expect(decodeChange(ks, ks.iocInfo('i@h'), JSON.stringify(info))).toEqual({ ok: true, event: { kind: 'iocInfo', iocId: 'i@h', value: info } });
    expect(decodeChange(ks, ks.alive('i@h'), null)).toEqual({ ok: true, event: { kind: 'alive', iocId: 'i@h', value: null } });
    const r = { name: 'A', type: 'ai', infos: {}, aliases: ['B'] };
    expect(decodeChange(ks, ks.iocRecord('i@h', 'A'), JSON.stringify(r))).toEqual({ ok: true, event: { kind: 'record', iocId: 'i@h', name: 'A', value: r } });
  });

  it('reports values that break the schema, naming the field', () => {
    const res = decodeChange(ks, ks.iocInfo('i@h'), JSON.stringify({ ...info, records: -1 }));
    expect(res).toMatchObject({ ok: false, ignored: false });
    expect((res as { message: string }).message).toMatch(/records/);
    expect(decodeChange(ks, ks.alive('i@h'), 'nope')).toMatchObject({ ok: false, ignored: false });
  });

  it('refuses a record whose name differs from its key', () => {
    const res = decodeChange(ks, ks.iocRecord('i@h', 'A'), JSON.stringify({ name: 'B', type: 'ai', infos: {}, aliases: [] }));
    expect(res).toMatchObject({ ok: false, ignored: false });
  });

  it('ignores keys outside the layout', () => {
    expect(decodeChange(ks, '/t/unknown/x', '{}')).toEqual({ ok: false, ignored: true });
  });
});
