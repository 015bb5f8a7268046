import { describe, expect, it } from 'vitest';
import { Keyspace, escapeSegment, iocIdOf, unescapeSegment } from '../../../src/core/keyspace.js';

describe('keyspace', () => {
  const ks = new Keyspace('/t/');

  it.each([
    ['LINAC:BPM01:X', 'LINAC:BPM01:X'],
    ['a/b', 'a%2Fb'],
    ['100%', '100%25'],
    ['x\ny', 'x%0Ay'],
    ["{}<>:*'\"", "{}<>:*'\""],
  ])('escapes %j as %j and back', (raw, escaped) => {
    expect(escapeSegment(raw)).toBe(escaped);
    expect(unescapeSegment(escaped)).toBe(raw);
  });

  it('builds and parses every key kind, with awkward names', () => {
    const ioc = iocIdOf('IOC/1', 'host%a');
    expect(ks.parse(ks.iocInfo(ioc))).toEqual({ kind: 'iocInfo', iocId: ioc });
    expect(ks.parse(ks.alive(ioc))).toEqual({ kind: 'alive', iocId: ioc });
    expect(ks.parse(ks.iocRecord(ioc, 'A/B:C'))).toEqual({ kind: 'record', iocId: ioc, name: 'A/B:C' });
    expect(ks.iocRecord(ioc, 'X').startsWith(ks.iocRecordsPrefix(ioc))).toBe(true);
  });

  it('ignores keys it does not know', () => {
    expect(ks.parse('/other/iocs/a/info')).toBeNull();
    expect(ks.parse('/t/iocs/a/unknown')).toBeNull();
    expect(ks.parse('/t/iocs/a/records/x/y')).toBeNull();
    expect(ks.parse('/t/future/thing')).toBeNull();
  });

  it('refuses a root without a trailing slash', () => {
    expect(() => new Keyspace('/t')).toThrow(/must end with/);
  });
});
