// The archiver timeline from a group's key history: causes, starting points and durations of each handover.
import { describe, expect, it } from 'vitest';
import type { NodeStatus } from '../../../src/core/election/records.js';
import { buildTimeline, type GroupEvent } from '../../../src/core/election/timeline.js';

const active = (revision: number, node: string, token: string, since: number): GroupEvent =>
  ({ kind: 'active', revision, value: { node, token, since, endpoints: {} } });
const leader = (revision: number, node: string, since: number): GroupEvent =>
  ({ kind: 'leader', revision, token: String(revision), value: { node, since } });
const nodeRole = (revision: number, node: string, role: NodeStatus['role'], since: number): GroupEvent => ({
  kind: 'node', revision, node,
  value: { node, role, healthy: true, checks: [], since, token: null, updatedAt: since, endpoints: {} },
});

describe('buildTimeline', () => {
  it('tells the first start, a switchover and a takeover after a crash apart, with their durations', () => {
    const t = buildTimeline([
      leader(10, 'a', 1000), active(11, 'a', '10', 1200),
      { kind: 'switchover', revision: 20, value: { id: 'x', to: 'b', requestedAt: 5000 } },
      nodeRole(21, 'a', 'demoting', 5010), { kind: 'active', revision: 22, value: null }, { kind: 'leader', revision: 23, token: '10', value: null },
      leader(24, 'b', 5100), active(25, 'b', '24', 5400),
      // b crashes: its keys expire with its lease, no status is written; a is elected and announces itself.
      { kind: 'active', revision: 30, value: null }, leader(31, 'a', 9000), active(32, 'a', '31', 9250),
    ]);
    expect(t.map((e) => [e.node, e.from, e.cause, e.durationMs, e.sinceLeaseExpiry])).toEqual([
      ['a', null, 'start', 200, false],
      ['b', 'a', 'switchover', 400, false],
      ['a', 'b', 'takeover', 250, true],
    ]);
    expect(t[0]?.endedAt).toBe(5010);
    expect(t[1]?.endedAt).toBeNull();
  });

  it('counts a takeover from the old node stopping when that was recorded, and ignores endpoint updates', () => {
    const t = buildTimeline([
      leader(1, 'a', 0), active(2, 'a', '1', 100), active(3, 'a', '1', 100),
      nodeRole(4, 'a', 'demoting', 1000), { kind: 'active', revision: 5, value: null },
      leader(6, 'b', 1500), active(7, 'b', '6', 1700),
    ]);
    expect(t).toHaveLength(2);
    expect(t[1]).toMatchObject({ cause: 'takeover', startedAt: 1000, durationMs: 700, sinceLeaseExpiry: false });
  });

  it('does not take a request older than the current term for a switchover', () => {
    const t = buildTimeline([
      { kind: 'switchover', revision: 1, value: { id: 'old', requestedAt: 0 } },
      leader(2, 'a', 10), active(3, 'a', '2', 20),
      { kind: 'active', revision: 4, value: null }, leader(5, 'b', 100), active(6, 'b', '5', 130),
    ]);
    expect(t.map((e) => e.cause)).toEqual(['start', 'takeover']);
  });

  it('keeps only the latest entries', () => {
    const ev: GroupEvent[] = [];
    for (let i = 0; i < 10; i++) ev.push(leader(i * 2 + 1, `n${i}`, i * 100), active(i * 2 + 2, `n${i}`, String(i * 2 + 1), i * 100 + 5));
    expect(buildTimeline(ev, 3).map((e) => e.node)).toEqual(['n7', 'n8', 'n9']);
  });
});
