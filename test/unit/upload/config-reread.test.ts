import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigRereader } from '../../../src/apps/config-reread.js';

// A reading: its content, and whether a file could not be read.
interface R { readonly v: string; readonly missing: boolean }

describe('ConfigRereader', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  const setup = (initial: R, readings: (R | Error)[], refuse = false) => {
    const applied: [R, string][] = [];
    let reads = 0;
    const rr = new ConfigRereader<R>(initial, {
      intervalMs: 30_000, log: pino({ level: 'silent' }),
      read: () => {
        reads++;
        const next = readings.shift() ?? { v: 'end', missing: false };
        if (next instanceof Error) throw next;
        return next;
      },
      incomplete: (r) => r.missing,
      same: (a, b) => a.v === b.v && a.missing === b.missing,
      apply: (r, reason) => {
        if (refuse) return false;
        applied.push([r, reason]);
        return true;
      },
    });
    return { rr, applied, reads: () => reads };
  };

  it('re-reads every interval while files are missing, applies the recovered reading, then stops re-reading', () => {
    const { rr, applied, reads } = setup({ v: 'a', missing: true },
      [{ v: 'a', missing: true }, { v: 'a', missing: true }, { v: 'b', missing: false }]);
    vi.advanceTimersByTime(29_999);
    expect(reads()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(reads()).toBe(1);
    expect(applied).toEqual([]); // unchanged: nothing published
    vi.advanceTimersByTime(60_000);
    expect(reads()).toBe(3);
    expect(applied).toEqual([[{ v: 'b', missing: false }, 'interval']]);
    expect(rr.configuration).toEqual({ v: 'b', missing: false });
    vi.advanceTimersByTime(10 * 30_000);
    expect(reads()).toBe(3); // complete: no more timed re-reads
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never re-reads on a timer when the first reading is complete; SIGHUP re-reads at once', () => {
    const { rr, applied, reads } = setup({ v: 'a', missing: false }, [{ v: 'a2', missing: false }, { v: 'a2', missing: false }]);
    vi.advanceTimersByTime(10 * 30_000);
    expect(reads()).toBe(0);
    rr.reread('SIGHUP');
    expect(applied).toEqual([[{ v: 'a2', missing: false }, 'SIGHUP']]);
    rr.reread('SIGHUP');
    expect(reads()).toBe(2);
    expect(applied).toHaveLength(1); // the same again: not published twice
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a SIGHUP reading with a missing file starts the timed re-reads; a SIGHUP meanwhile restarts the interval', () => {
    const { rr, applied, reads } = setup({ v: 'a', missing: false },
      [{ v: 'b', missing: true }, { v: 'b', missing: true }, { v: 'c', missing: false }]);
    rr.reread('SIGHUP');
    expect(applied.map(([r]) => r.v)).toEqual(['b']);
    vi.advanceTimersByTime(20_000);
    rr.reread('SIGHUP');
    expect(reads()).toBe(2);
    expect(vi.getTimerCount()).toBe(1); // one timer, not one per SIGHUP
    vi.advanceTimersByTime(29_999);
    expect(reads()).toBe(2);
    vi.advanceTimersByTime(1);
    expect(applied.map(([r, why]) => `${r.v}/${why}`)).toEqual(['b/SIGHUP', 'c/interval']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a reading that throws keeps the configuration in force and tries again later', () => {
    const { rr, applied } = setup({ v: 'a', missing: true }, [new Error('EIO'), { v: 'b', missing: false }]);
    vi.advanceTimersByTime(30_000);
    expect(rr.failures).toBe(1);
    expect(rr.configuration.v).toBe('a');
    vi.advanceTimersByTime(30_000);
    expect(applied.map(([r]) => r.v)).toEqual(['b']);
  });

  it('a refused reading (--strict with errors) is not taken as the configuration in force', () => {
    const { rr, reads } = setup({ v: 'a', missing: false }, [{ v: 'b', missing: true }, { v: 'b', missing: true }], true);
    rr.reread('SIGHUP');
    expect(rr.configuration.v).toBe('a');
    vi.advanceTimersByTime(30_000);
    expect(reads()).toBe(2); // still incomplete: still re-reading
  });

  it('stop() cancels the timer and ignores later requests', () => {
    const { rr, reads } = setup({ v: 'a', missing: true }, []);
    rr.stop();
    vi.advanceTimersByTime(100_000);
    rr.reread('SIGHUP');
    expect(reads()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
