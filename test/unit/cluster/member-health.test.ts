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

  it('never holds every member isolated: in an election, a member that answers well while no usable one does is readmitted at once', () => {
    // The leader a is cut off; its followers lose and regain a leader one after the other.
    const h = new MemberHealth(M, { restoreAfter: 2 });
    h.round(round('timeout', 'ok', 'no-leader'), 0);
    expect(h.round(round('timeout', 'no-leader', 'ok'), 1)).toEqual([
      { member: 'c', isolated: false, reason: 'recovered' }, // its streak is 1 of 2, but nobody usable answered well
      { member: 'b', isolated: true, reason: 'no-leader' },
    ]);
    // Calls go to c, the one that answers: not to the silent a (every member isolated used to make all usable again).
    expect([h.usable('a'), h.usable('b'), h.usable('c')]).toEqual([false, false, true]);
  });

  it('with two members, the one that answers takes over at once from the one that stopped answering', () => {
    const h = new MemberHealth(['a', 'b']);
    h.round(new Map([['a', 'ok'], ['b', 'timeout']]), 0);
    h.round(new Map([['a', 'timeout'], ['b', 'ok']]), 1);
    expect([h.usable('a'), h.usable('b')]).toEqual([false, true]);
  });

  it('refuses an empty member list', () => {
    expect(() => new MemberHealth([])).toThrow(RangeError);
  });
});
