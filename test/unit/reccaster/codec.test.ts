// The RecCaster codec byte by byte: expected bytes are written out by hand here, never produced by the encoder.
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../../src/core/reccaster/frame-decoder.js';
import { decodeAnnouncement, encodeAnnouncement, encodePing, encodeServerGreet } from '../../../src/core/reccaster/messages.js';

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!.map((h) => parseInt(h, 16)));

// AddRecord recid 1, record, type "ai", name "X:Y"
const ADD_RECORD = hex('5243 0003 0000000d  00000001 00 02 0003 6169 583a59');
// AddInfo recid 0, key "IOCNAME", value "ioc1"
const ADD_INFO = hex('5243 0006 00000013  00000000 07 00 0004 494f434e414d45 696f6331');
const GREET = hex('5243 0001 00000008  00 00 0000 deadbeef');
const DONE = hex('5243 0005 00000004  00000000');

describe('RecCaster messages', () => {
  it('encodes ServerGreet, Ping and the announcement exactly', () => {
    expect([...encodeServerGreet()]).toEqual([...hex('5243 8001 00000001 00')]);
    expect([...encodePing(0x01020304)]).toEqual([...hex('5243 8002 00000004 01020304')]);
    expect([...encodeAnnouncement({ address: '255.255.255.255', port: 0x1234, serverKey: 0xcafebabe })])
      .toEqual([...hex('5243 00 00 ffffffff 1234 0000 cafebabe')]);
    expect(decodeAnnouncement(hex('5243 00 00 7f000001 1389 0000 00000007'))).toEqual({ address: '127.0.0.1', port: 5001, serverKey: 7 });
    expect(decodeAnnouncement(hex('5244 00 00 7f000001 1389 0000 00000007'))).toBeNull();
    expect(decodeAnnouncement(hex('5243 01 00 7f000001 1389 0000 00000007'))).toBeNull();
    expect(decodeAnnouncement(hex('5243 00 00 7f000001'))).toBeNull();
    expect(() => encodeAnnouncement({ address: '::1', port: 1, serverKey: 0 })).toThrow(/IPv4/);
  });

  it('decodes every client message', () => {
    const d = new FrameDecoder();
    const r = d.push(new Uint8Array([...GREET, ...ADD_INFO, ...ADD_RECORD, ...hex('5243 0002 00000004 00000009'), ...hex('5243 0004 00000004 00000001'), ...DONE]));
    expect(r.violation).toBeUndefined();
    expect(r.messages).toEqual([
      { kind: 'ClientGreet', version: 0, type: 0, serverKey: 0xdeadbeef },
      { kind: 'AddInfo', recid: 0, key: 'IOCNAME', value: 'ioc1' },
      { kind: 'AddRecord', recid: 1, alias: false, type: 'ai', name: 'X:Y' },
      { kind: 'Pong', nonce: 9 },
      { kind: 'DelRecord', recid: 1 },
      { kind: 'UploadDone' },
    ]);
    expect(d.pending).toBe(0);
  });

  it('reassembles a stream split at every possible point, and byte by byte', () => {
    const all = new Uint8Array([...GREET, ...ADD_INFO, ...ADD_RECORD, ...DONE]);
    const whole = new FrameDecoder().push(all).messages;
    for (let cut = 0; cut <= all.length; cut++) {
      const d = new FrameDecoder();
      const got = [...d.push(all.slice(0, cut)).messages, ...d.push(all.slice(cut)).messages];
      expect(got).toEqual(whole);
    }
    const d = new FrameDecoder();
    const got = [];
    for (const b of all) got.push(...d.push(Uint8Array.of(b)).messages);
    expect(got).toEqual(whole);
  });

  it('skips unknown ids, even when their body comes in pieces, and goes on', () => {
    const unknown = hex('5243 0042 00000006 010203040506');
    const all = new Uint8Array([...unknown, ...ADD_RECORD]);
    for (let cut = 0; cut <= all.length; cut++) {
      const d = new FrameDecoder();
      const got = [...d.push(all.slice(0, cut)).messages, ...d.push(all.slice(cut)).messages];
      expect(got.map((m) => m.kind)).toEqual(['Refused', 'AddRecord']);
    }
  });

  it('closes on a bad magic, an oversized length or inconsistent lengths', () => {
    const bad = new FrameDecoder().push(new Uint8Array([...ADD_RECORD, ...hex('4142 0003 00000000')]));
    expect(bad.messages).toHaveLength(1); // what came before is kept
    expect(bad.violation?.code).toBe('PVS_PROTOCOL_REMOTE');
    expect(bad.violation?.message).toMatch(/bad magic 0x4142/);
    const big = new FrameDecoder().push(hex('5243 0003 7fffffff'));
    expect(big.violation?.message).toMatch(/exceeds/);
    const hugeUnknown = new FrameDecoder().push(hex('5243 0777 ffffffff'));
    expect(hugeUnknown.violation?.message).toMatch(/exceeds/);
    const lengths = new FrameDecoder().push(hex('5243 0003 0000000a 00000001 00 02 0003 6169'));
    expect(lengths.violation?.message).toMatch(/do not match/);
    const d = new FrameDecoder();
    d.push(hex('ffff'));
    expect(d.push(hex('0000 0000 0000')).violation).toBeDefined();
    expect(d.push(ADD_RECORD).messages).toEqual([]); // dead after a violation
  });

  it('refuses frames with non-ASCII or empty names without breaking the stream', () => {
    // name "X\xe9" (latin-1 é), then a good record
    const r = new FrameDecoder().push(new Uint8Array([...hex('5243 0003 0000000c 00000002 00 02 0002 6169 58e9'), ...ADD_RECORD,
      ...hex('5243 0006 0000000a 00000001 01 00 0001 41 ff')]));
    expect(r.violation).toBeUndefined();
    expect(r.messages.map((m) => m.kind)).toEqual(['Refused', 'AddRecord', 'Refused']);
  });
});
