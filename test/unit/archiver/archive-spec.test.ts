import { describe, expect, it } from 'vitest';
import {
  formatArchiveSpec, formatPeriod, parseArchiveSpec, parseArchiverList, samePeriod, tryArchiveSpec,
} from '../../../src/core/archiver/archive-spec.js';

describe('archive grammar', () => {
  it.each([
    ['default', { kind: 'default' }],
    ['  DEFAULT ', { kind: 'default' }],
    ['monitor@1.0', { kind: 'sampling', method: 'MONITOR', period: 1 }],
    ['MONITOR@0.5', { kind: 'sampling', method: 'MONITOR', period: 0.5 }],
    ['Scan@10', { kind: 'sampling', method: 'SCAN', period: 10 }],
    ['scan @ 2', { kind: 'sampling', method: 'SCAN', period: 2 }],
    ['monitor 1.0', { kind: 'sampling', method: 'MONITOR', period: 1 }],
    ['scan\t.25', { kind: 'sampling', method: 'SCAN', period: 0.25 }],
    ['monitor@1e-1', { kind: 'sampling', method: 'MONITOR', period: 0.1 }],
    ['fast', { kind: 'policy', policy: 'fast' }],
    ['SlowControls_1Hz', { kind: 'policy', policy: 'SlowControls_1Hz' }],
  ])('%j', (text, spec) => {
    expect(parseArchiveSpec(text)).toEqual(spec);
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['monitor', /needs a period/],
    ['scan@', /monitor or scan|not a number/],
    ['monitor@fast', /not a number/],
    ['monitor@-1', /not a number/],
    ['monitor@0', /outside/],
    ['scan@100000', /outside/],
    ['poll@1', /monitor or scan/],
    ['two words', /policy name/],
    ['monitor@1 extra', /policy name|not a number/],
  ])('refuses %j with a clear message', (text, why) => {
    const r = tryArchiveSpec(text);
    expect('error' in r).toBe(true);
    if ('error' in r) {
      expect(r.error).toMatch(why);
      expect(r.error).toContain(`archive "${text}"`);
    }
    expect(() => parseArchiveSpec(text)).toThrow(expect.objectContaining({ code: 'PVS_ARCHIVE_SPEC' }) as Error);
  });

  it('formats periods as the appliance does and compares them as floats', () => {
    expect(formatPeriod(1)).toBe('1.0');
    expect(formatPeriod(0.5)).toBe('0.5');
    expect(formatPeriod(10)).toBe('10.0');
    expect(samePeriod(0.1, 0.1 + 1e-9)).toBe(true);
    expect(samePeriod(1, 1.5)).toBe(false);
    expect(formatArchiveSpec(parseArchiveSpec('Monitor 2'))).toBe('monitor@2.0');
    expect(formatArchiveSpec(parseArchiveSpec('fast'))).toBe('fast');
  });

  it('reads the archiver list', () => {
    expect(parseArchiverList(undefined)).toEqual([]);
    expect(parseArchiverList('')).toEqual([]);
    expect(parseArchiverList('linac, ring  linac')).toEqual(['linac', 'ring']);
  });
});
