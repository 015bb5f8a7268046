import { describe, expect, it } from 'vitest';
import { decide, nextDeadline, type AgentView } from '../../../src/core/election/decide.js';
import { TRANSITIONS, transition } from '../../../src/core/election/roles.js';
import { isPvsError } from '../../../src/core/errors.js';

const NOW = 10_000;
const base: AgentView = {
  node: 'a', role: 'standby', leaseValidUntil: NOW + 1000, healthy: true, leader: null, myToken: null,
  holdBackUntil: 0, switchover: null, shutdown: false,
};
const active: AgentView = { ...base, role: 'active', myToken: '7', leader: { node: 'a', token: '7' } };
const sw = (to: string | undefined, revision: string, seenAt = NOW) =>
  ({ request: { id: 'r1', requestedAt: NOW, ...(to === undefined ? {} : { to }) }, revision, seenAt });

describe('decide', () => {
  const cases: Array<[string, AgentView, string]> = [
    ['healthy standby, no leader → campaign', base, 'campaign'],
    ['standby without a lease → grant-lease', { ...base, leaseValidUntil: null }, 'grant-lease'],
    ['standby whose lease deadline passed → grant-lease', { ...base, leaseValidUntil: NOW }, 'grant-lease'],
    ['unhealthy standby does not campaign', { ...base, healthy: false }, 'wait'],
    ['standby while someone leads → wait', { ...base, leader: { node: 'b', token: '3' } }, 'wait'],
    ['standby holding back → wait', { ...base, holdBackUntil: NOW + 1 }, 'wait'],
    ['standby, switchover to another node → holds back', { ...base, switchover: sw('b', '9') }, 'wait'],
    ['standby, switchover to another node, hold-back over → campaign', { ...base, switchover: sw('b', '9', NOW - 5000) }, 'campaign'],
    ['switchover target campaigns even while holding back', { ...base, holdBackUntil: NOW + 5000, switchover: sw('a', '9') }, 'campaign'],
    ['switchover without target: standby campaigns', { ...base, switchover: sw(undefined, '9') }, 'campaign'],
    ['active, all well → wait', active, 'wait'],
    ['active past its own lease deadline → demote', { ...active, leaseValidUntil: NOW }, 'demote:lease-deadline'],
    ['active without lease → demote', { ...active, leaseValidUntil: null }, 'demote:lease-deadline'],
    ['promoting past its lease deadline → demote', { ...active, role: 'promoting', leaseValidUntil: NOW - 1 }, 'demote:lease-deadline'],
    ['active, key now held by another token → demote', { ...active, leader: { node: 'a', token: '8' } }, 'demote:key-lost'],
    ['active, key deleted → demote', { ...active, leader: null }, 'demote:key-lost'],
    ['active, unhealthy → demote', { ...active, healthy: false }, 'demote:unhealthy'],
    ['promoting, unhealthy → keeps starting (grace)', { ...active, role: 'promoting', healthy: false }, 'wait'],
    ['active, switchover to another node written after election → demote', { ...active, switchover: sw('b', '9') }, 'demote:switchover'],
    ['active, switchover without target → demote', { ...active, switchover: sw(undefined, '9') }, 'demote:switchover'],
    ['active, switchover written before this election → ignored', { ...active, switchover: sw(undefined, '5') }, 'wait'],
    ['active, switchover to itself → ignored', { ...active, switchover: sw('a', '9') }, 'wait'],
    ['active, shutdown → demote', { ...active, shutdown: true }, 'demote:shutdown'],
    ['lease deadline wins over shutdown', { ...active, shutdown: true, leaseValidUntil: NOW }, 'demote:lease-deadline'],
    ['standby, shutdown → exit', { ...base, shutdown: true }, 'exit'],
    ['campaigning, shutdown → wait for the campaign', { ...base, role: 'campaigning', shutdown: true }, 'wait'],
    ['demoting → wait', { ...base, role: 'demoting' }, 'wait'],
    ['stopped → wait', { ...base, role: 'stopped' }, 'wait'],
    ['starting with a lease → wait (runtime moves to standby)', { ...base, role: 'starting' }, 'wait'],
    ['starting without a lease → grant-lease', { ...base, role: 'starting', leaseValidUntil: null }, 'grant-lease'],
  ];
  it.each(cases)('%s', (_name, view, expected) => {
    const d = decide(view, NOW);
    expect(d.kind === 'demote' ? `demote:${d.reason}` : d.kind).toBe(expected);
  });

  it('never lets a leading node keep its role once its lease deadline is reached, whatever else holds', () => {
    for (const role of ['promoting', 'active'] as const) {
      for (const healthy of [true, false]) {
        for (const shutdown of [true, false]) {
          const d = decide({ ...active, role, healthy, shutdown, leaseValidUntil: NOW - 1 }, NOW);
          expect(d).toEqual({ kind: 'demote', reason: 'lease-deadline' });
        }
      }
    }
  });

  it('next deadline is the earliest of lease deadline, hold-back and switchover hold-back', () => {
    expect(nextDeadline({ ...base, holdBackUntil: NOW + 500 })).toBe(NOW + 500);
    expect(nextDeadline({ ...base, switchover: sw('b', '9', NOW - 1400) }, { switchoverHoldBackMs: 1500 })).toBe(NOW + 100);
    expect(nextDeadline({ ...base, leaseValidUntil: null })).toBeNull();
  });
});

describe('role table', () => {
  it('allows the election cycle', () => {
    const path = ['starting', 'standby', 'campaigning', 'promoting', 'active', 'demoting', 'standby'] as const;
    for (let i = 1; i < path.length; i++) expect(transition(path[i - 1]!, path[i]!)).toBe(path[i]);
  });

  it('refuses to go from standby straight to active, or back from stopped', () => {
    for (const [from, to] of [['standby', 'active'], ['campaigning', 'active'], ['stopped', 'standby'], ['active', 'standby']] as const) {
      let err: unknown;
      try { transition(from, to); } catch (e) { err = e; }
      expect(isPvsError(err, 'PVS_PROTOCOL_LOCAL')).toBe(true);
    }
  });

  it('only promoting leads to active', () => {
    const into = Object.entries(TRANSITIONS).filter(([, tos]) => tos.includes('active')).map(([from]) => from);
    expect(into).toEqual(['promoting']);
  });
});
