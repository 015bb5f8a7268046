import { describe, expect, it } from 'vitest';
import { Keyspace } from '../../../src/core/keyspace.js';
import type { IocRecord } from '../../../src/core/model.js';
import { batchOps, encodeStoredRecord, planRecordWrites, toStoredRecord } from '../../../src/core/upload/plan.js';
import type { WriteOp } from '../../../src/core/write-op.js';

const ks = new Keyspace('/t/');
const rec = (name: string, extra: Partial<IocRecord> = {}): IocRecord =>
  ({ name, type: 'ai', fields: { DESC: `d ${name}` }, infos: { archive: 'monitor 1.0' }, aliases: [], ...extra });
const stored = (r: IocRecord): string => encodeStoredRecord(toStoredRecord(r));

describe('encodeStoredRecord', () => {
  it('writes the canonical bytes: fixed key order, info keys sorted, optional fields only when set', () => {
    // What etcd already holds compares byte for byte with this: the form must not drift between versions.
    expect(encodeStoredRecord({
      name: 'A', type: 'ai', desc: 'd', infos: { b: '2', a: '1', 10: 'x', 9: 'y' }, aliases: ['B'],
      file: 'a.db', line: 3, via: ['st.cmd'], gone: true,
    })).toBe('{"name":"A","type":"ai","desc":"d","infos":{"9":"y","10":"x","a":"1","b":"2"},"aliases":["B"],'
      + '"file":"a.db","line":3,"via":["st.cmd"],"gone":true}');
    expect(encodeStoredRecord({ name: 'A', type: 'bo', infos: { only: 'one' }, aliases: [] }))
      .toBe('{"name":"A","type":"bo","infos":{"only":"one"},"aliases":[]}');
  });
});

describe('planRecordWrites', () => {
  it('writes every record of a first upload', () => {
    const plan = planRecordWrites(ks, 'ioc@h', [rec('A'), rec('B')], new Map());
    expect(plan.added).toBe(2);
    expect(plan.ops.map((o) => o.key)).toEqual([ks.iocRecord('ioc@h', 'A'), ks.iocRecord('ioc@h', 'B')]);
    const v = JSON.parse((plan.ops[0] as { value: string }).value) as Record<string, unknown>;
    expect(v).toEqual({ name: 'A', type: 'ai', desc: 'd A', infos: { archive: 'monitor 1.0' }, aliases: [] });
  });

  it('writes nothing when etcd already holds the same records, whatever the info order', () => {
    const a = rec('A', { infos: { b: '2', a: '1' } });
    const existing = new Map([[ks.iocRecord('i', 'A'), stored(rec('A', { infos: { a: '1', b: '2' } }))]]);
    const plan = planRecordWrites(ks, 'i', [a], existing);
    expect(plan.ops).toEqual([]);
    expect(plan.unchanged).toBe(1);
  });

  it('rewrites a changed record and marks a vanished one gone instead of deleting it', () => {
    const existing = new Map([
      [ks.iocRecord('i', 'A'), stored(rec('A'))],
      [ks.iocRecord('i', 'OLD'), stored(rec('OLD'))],
    ]);
    const plan = planRecordWrites(ks, 'i', [rec('A', { type: 'ao' })], existing);
    expect(plan.changed).toBe(1);
    expect(plan.markedGone).toBe(1);
    const gone = plan.ops.find((o) => o.key.endsWith('/OLD'));
    expect(gone?.type).toBe('put');
    expect(JSON.parse((gone as { value: string }).value)).toMatchObject({ name: 'OLD', gone: true });
  });

  it('leaves a record already marked gone alone, and revives it when it comes back', () => {
    const goneValue = encodeStoredRecord({ ...toStoredRecord(rec('OLD')), gone: true });
    const existing = new Map([[ks.iocRecord('i', 'OLD'), goneValue]]);
    expect(planRecordWrites(ks, 'i', [], existing).ops).toEqual([]);
    const back = planRecordWrites(ks, 'i', [rec('OLD')], existing);
    expect(back.changed).toBe(1);
    expect(JSON.parse((back.ops[0] as { value: string }).value)).not.toHaveProperty('gone');
  });

  it('deletes unreadable values under the IOC prefix', () => {
    const plan = planRecordWrites(ks, 'i', [], new Map([[ks.iocRecord('i', 'X'), '{not json']]));
    expect(plan.ops).toEqual([{ type: 'delete', key: ks.iocRecord('i', 'X') }]);
  });

  it('omits an empty DESC', () => {
    expect(toStoredRecord(rec('A', { fields: { DESC: '' } }))).not.toHaveProperty('desc');
  });
});

describe('batchOps', () => {
  const put = (i: number, size = 10): WriteOp => ({ type: 'put', key: `/k/${i}`, value: 'x'.repeat(size) });

  it('never puts more than 128 ops in a transaction', () => {
    const batches = batchOps(Array.from({ length: 300 }, (_, i) => put(i)));
    expect(batches.map((b) => b.length)).toEqual([128, 128, 44]);
  });

  it('cuts by bytes and keeps an oversized op alone', () => {
    const ops = [put(1, 600_000), put(2, 600_000), put(3, 2_000_000), put(4, 10)];
    const batches = batchOps(ops, { maxOps: 128, maxBytes: 1024 * 1024 });
    expect(batches.map((b) => b.map((o) => o.key))).toEqual([['/k/1'], ['/k/2'], ['/k/3'], ['/k/4']]);
  });

  it('keeps every op exactly once and in order', () => {
    const ops = Array.from({ length: 1000 }, (_, i) => put(i, (i * 7919) % 20_000));
    expect(batchOps(ops).flat()).toEqual(ops);
  });
});
