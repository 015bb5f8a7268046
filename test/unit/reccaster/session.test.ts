// The session state table: who may send what when, and what the bridge is told to publish.
import { describe, expect, it } from 'vitest';
import type { ClientMessage } from '../../../src/core/reccaster/messages.js';
import { RecCasterSession, type SessionEffect } from '../../../src/core/reccaster/session.js';

const greet: ClientMessage = { kind: 'ClientGreet', version: 0, type: 0, serverKey: 1 };
const info = (recid: number, key: string, value: string): ClientMessage => ({ kind: 'AddInfo', recid, key, value });
const rec = (recid: number, name: string, type = 'ai'): ClientMessage => ({ kind: 'AddRecord', recid, alias: false, type, name });
const alias = (recid: number, name: string): ClientMessage => ({ kind: 'AddRecord', recid, alias: true, type: '', name });
const done: ClientMessage = { kind: 'UploadDone' };

function run(s: RecCasterSession, msgs: ClientMessage[]): SessionEffect[] {
  return msgs.flatMap((m) => s.receive(m));
}

describe('RecCaster session', () => {
  it('hands out identity, finished records and the final set', () => {
    const s = new RecCasterSession('10.0.0.5');
    const fx = run(s, [greet, info(0, 'HOSTNAME', 'h1'), info(0, 'IOCNAME', 'ioc1'), info(0, 'RSRV_SERVER_PORT', '5064'),
      rec(1, 'A'), alias(1, 'A:alias'), info(1, 'archive', 'monitor 1.0'), info(1, 'recordDesc', 'first'),
      rec(2, 'B', 'bo'), done]);
    expect(fx[0]).toEqual({ kind: 'identity', identity: {
      iocId: 'ioc1@h1', iocName: 'ioc1', hostName: 'h1', iocIP: '10.0.0.5', env: { HOSTNAME: 'h1', IOCNAME: 'ioc1', RSRV_SERVER_PORT: '5064' },
    } });
    expect(fx[1]).toEqual({ kind: 'records', records: [
      { name: 'A', type: 'ai', fields: { DESC: 'first' }, infos: { archive: 'monitor 1.0' }, aliases: ['A:alias'] }] });
    expect(fx[2]).toEqual({ kind: 'done', records: [{ name: 'B', type: 'bo', fields: {}, infos: {}, aliases: [] }], names: new Set(['A', 'B']) });
    expect(s.state).toBe('done');
  });

  it('falls back to the peer address for a missing IOCNAME and HOSTNAME', () => {
    const s = new RecCasterSession('10.0.0.7');
    const fx = run(s, [greet, done]);
    expect(fx[0]).toMatchObject({ kind: 'identity', identity: { iocId: '10.0.0.7@10.0.0.7', iocIP: '10.0.0.7' } });
  });

  it('re-hands a finished record changed later, and drops a deleted one', () => {
    const s = new RecCasterSession('p');
    const fx = run(s, [greet, rec(1, 'A'), rec(2, 'B'), info(1, 'late', 'x'), rec(3, 'C'), { kind: 'DelRecord', recid: 3 }, done]);
    const last = fx.at(-1);
    expect(last?.kind).toBe('done');
    if (last?.kind !== 'done') return;
    expect(last.records.map((r) => r.name).sort()).toEqual(['A']); // C was deleted while open: never written
    expect(last.records.find((r) => r.name === 'A')?.infos).toEqual({ late: 'x' });
    expect([...last.names].sort()).toEqual(['A', 'B']);
  });

  it('rejects messages out of turn, naming who broke the protocol', () => {
    expect(() => new RecCasterSession('p').receive(rec(1, 'A'))).toThrow(/AddRecord in state greeting/);
    const s = new RecCasterSession('p');
    run(s, [greet, done]);
    expect(() => s.receive(rec(1, 'A'))).toThrow(/AddRecord in state done/);
    expect(s.state).toBe('closed');
    expect(() => new RecCasterSession('p').receive({ kind: 'ClientGreet', version: 3, type: 0, serverKey: 0 })).toThrow(/version 3/);
  });

  it('refuses what it cannot place, and keeps going', () => {
    const s = new RecCasterSession('p', { maxRecords: 2, maxInfosPerRecord: 1, maxEnvironment: 1, maxAliasesPerRecord: 1 });
    const fx = run(s, [greet, info(0, 'A', '1'), info(0, 'B', '2'), info(7, 'k', 'v'), alias(9, 'x'), rec(1, 'R'),
      info(1, 'a', '1'), info(1, 'b', '2'), alias(1, 'R1'), alias(1, 'R2'), info(0, 'C', 'late')]);
    expect(fx.filter((e) => e.kind === 'refused').map((e) => (e as { reason: string }).reason)).toEqual([
      'more than 1 IOC-wide infos', 'AddInfo for unknown record id 7', 'alias for unknown record id 9',
      'more than 1 info tags on one record', 'more than 1 aliases on one record', 'IOC-wide info C after the first record ignored',
    ]);
    run(s, [rec(2, 'S')]);
    expect(() => s.receive(rec(3, 'T'))).toThrow(/more than 2 records/);
  });

  it('passes pongs through in every live state', () => {
    const s = new RecCasterSession('p');
    expect(s.receive({ kind: 'Pong', nonce: 4 })).toEqual([{ kind: 'pong', nonce: 4 }]);
    run(s, [greet, done]);
    expect(s.receive({ kind: 'Pong', nonce: 5 })).toEqual([{ kind: 'pong', nonce: 5 }]);
  });
});
