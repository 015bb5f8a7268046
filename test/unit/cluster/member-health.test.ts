import { describe, expect, it } from 'vitest';
import { MemberHealth, type ProbeResult } from '../../../src/core/cluster/member-health.js';

const M = ['a', 'b', 'c'];
const round = (a: ProbeResult, b: ProbeResult, c: ProbeResult): Map<string, ProbeResult> => new Map([['a', a], ['b', b], ['c', c]]);

describe('MemberHealth', () => {
  it('isolates a member that times out or has no leader while another answers, and says why', () => {
    const h = new MemberHealth(M);
    expect(h.round(round('ok', 'timeout', 'no-leader'), 100)).toEqual([
      { member: 'b', isolated: true, reason: 'probe-timeout' },
      { member: 'c', isolated: true, reason: 'no-leader' },
    ]);
    expect([h.usable('a'), h.usable('b'), h.usable('c')]).toEqual([true, false, false]);
    expect(h.view(350).find((v) => v.member === 'b')).toEqual({ member: 'b', isolated: true, reason: 'probe-timeout', sinceMs: 250 });
  });

  it('isolates nobody when no member answers (we are the cut-off one) or none has a leader (an election)', () => {
    const h = new MemberHealth(M);
    expect(h.round(round('timeout', 'timeout', 'timeout'), 100)).toEqual([]);
    expect(h.round(round('no-leader', 'no-leader', 'no-leader'), 200)).toEqual([]);
    expect(h.round(round('error', 'timeout', 'error'), 300)).toEqual([]);
    expect(M.every((m) => h.usable(m))).toBe(true);
  });

  it('isolates a silent member while the others answer without a leader (the cut-off leader during the election)', () => {
    const h = new MemberHealth(M);
    expect(h.round(round('timeout', 'no-leader', 'no-leader'), 100)).toEqual([{ member: 'a', isolated: true, reason: 'probe-timeout' }]);
    expect([h.usable('a'), h.usable('b'), h.usable('c')]).toEqual([false, true, true]);
    // The election ends: the followers have a leader, the silent one stays out until it answers twice.
    expect(h.round(round('timeout', 'ok', 'ok'), 200)).toEqual([]);
    expect(h.usable('a')).toBe(false);
  });

  it('brings a member back only after `restoreAfter` consecutive good rounds', () => {
    const h = new MemberHealth(M, { restoreAfter: 2 });
    h.round(round('ok', 'timeout', 'ok'), 0);
    expect(h.round(round('ok', 'ok', 'ok'), 1)).toEqual([]);
    expect(h.round(round('ok', 'timeout', 'ok'), 2)).toEqual([]); // the streak starts over
    expect(h.round(round('ok', 'ok', 'ok'), 3)).toEqual([]);
    expect(h.round(round('ok', 'ok', 'ok'), 4)).toEqual([{ member: 'b', isolated: false, reason: 'recovered' }]);
    expect(h.usable('b')).toBe(true);
  });

  it('a round without any good answer leaves isolations as they are', () => {
    const h = new MemberHealth(M, { restoreAfter: 1 });
    h.round(round('ok', 'timeout', 'ok'), 0);
    h.round(round('timeout', 'timeout', 'timeout'), 1);
    expect(h.usable('b')).toBe(false);
    expect(h.round(round('ok', 'ok', 'ok'), 2)).toEqual([{ member: 'b', isolated: false, reason: 'recovered' }]);
  });

  it('a failed call isolates its member at once, but never the last usable one', () => {
    const h = new MemberHealth(M);
    expect(h.callFailed('a', 5)).toEqual({ member: 'a', isolated: true, reason: 'call-failed' });
    expect(h.callFailed('a', 6)).toBeNull(); // already isolated
    expect(h.callFailed('b', 7)).not.toBeNull();
    expect(h.callFailed('c', 8)).toBeNull(); // the last one stays
    expect(h.usable('c')).toBe(true);
    expect(h.usable('a')).toBe(false);
    expect(h.round(round('ok', 'ok', 'ok'), 9)).toEqual([
      { member: 'a', isolated: false, reason: 'recovered' }, { member: 'b', isolated: false, reason: 'recovered' },
    ]);
  });

  it('when every member is isolated, every member is usable again (calls are tried as without probes)', () => {
    const h = new MemberHealth(['a', 'b']);
    h.round(new Map([['a', 'ok'], ['b', 'timeout']]), 0);
    expect(h.usable('b')).toBe(false);
    h.round(new Map([['a', 'timeout'], ['b', 'ok']]), 1); // b needs two good rounds; a is isolated now too
    expect(h.usable('a')).toBe(true);
    expect(h.usable('b')).toBe(true);
  });

  it('refuses an empty member list', () => {
    expect(() => new MemberHealth([])).toThrow(RangeError);
  });
});
