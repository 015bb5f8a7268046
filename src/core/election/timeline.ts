/**
 * The takeover and switchover timeline of an archiver group, derived from the history of its keys in etcd (the
 * `leader`, `active`, `switchover` and `nodes/<node>` values, in revision order). Pure: the etcd adapter reads the
 * events, this decides what they mean.
 *
 * Durations: a **switchover** lasts from its request (`requestedAt`) to the new node's announcement (`active.since`);
 * a **takeover** from the moment the old active node was known to stop (its status turned to demoting/stopped, or
 * else the new leader's election, which follows the old lease's expiry at once) to the announcement. How long a
 * crashed node was dead before its lease expired (at most the TTL) is not written anywhere, so it is not counted:
 * `sinceLeaseExpiry` tells which of the two starting points was used.
 */
import type { ActiveValue, LeaderValue, NodeStatus, SwitchoverRequest } from './records.js';

/** One change of a group's key, as read back from etcd history. */
export type GroupEvent =
  | { readonly kind: 'leader'; readonly revision: number; readonly token: string; readonly value: LeaderValue | null }
  | { readonly kind: 'active'; readonly revision: number; readonly value: ActiveValue | null }
  | { readonly kind: 'switchover'; readonly revision: number; readonly value: SwitchoverRequest | null }
  | { readonly kind: 'node'; readonly revision: number; readonly node: string; readonly value: NodeStatus | null };

/** How a node became active. */
export type TimelineCause = 'start' | 'takeover' | 'switchover';

/** One period of a node being active, and how it began. */
export interface TimelineEntry {
  readonly node: string;
  readonly token: string;
  /** The node active before (null for the first one seen). */
  readonly from: string | null;
  readonly cause: TimelineCause;
  /** Epoch ms the handover began (see the module comment), and when the node was announced active. */
  readonly startedAt: number;
  readonly activeAt: number;
  readonly durationMs: number;
  /** True when the takeover is counted from the new leader's election (the old node's end is not recorded). */
  readonly sinceLeaseExpiry: boolean;
  /** Epoch ms this node was known to stop being active (null while active, or when it was not recorded). */
  readonly endedAt: number | null;
  /** The etcd revision that announced it. */
  readonly revision: number;
}

/** A group's timeline and the history it was read from. */
export interface GroupTimeline {
  readonly group: string;
  /** The oldest and newest etcd revision read (older history was compacted away). */
  readonly fromRevision: number;
  readonly revision: number;
  readonly entries: readonly TimelineEntry[];
}

const STOPPING = new Set(['demoting', 'stopped', 'standby', 'starting']);

/** The timeline of `events` (in revision order), oldest first, at most `keep` entries (the latest). */
export function buildTimeline(events: readonly GroupEvent[], keep = 200): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  const leaders = new Map<string, number>();
  let current: { entry: TimelineEntry; ended: number | null; withdrawn: boolean } | null = null;
  let pending: { requestedAt: number; revision: number } | null = null;
  const close = (): void => {
    if (current === null) return;
    out[out.length - 1] = { ...current.entry, endedAt: current.ended };
  };
  for (const ev of events) {
    switch (ev.kind) {
      case 'leader':
        if (ev.value !== null) leaders.set(ev.token, ev.value.since);
        break;
      case 'switchover':
        if (ev.value !== null) pending = { requestedAt: ev.value.requestedAt, revision: ev.revision };
        break;
      case 'node':
        if (current !== null && current.ended === null && ev.node === current.entry.node && ev.value !== null
          && STOPPING.has(ev.value.role)) {
          current.ended = ev.value.since;
          close();
        }
        break;
      case 'active': {
        const v = ev.value;
        if (v === null) {
          if (current !== null) current.withdrawn = true;
          break;
        }
        if (current !== null && current.entry.token === v.token && !current.withdrawn) break; // same term, new endpoints
        const prev = current;
        const switched = prev !== null && pending !== null && pending.revision > prev.entry.revision;
        const elected = leaders.get(v.token) ?? v.since;
        let cause: TimelineCause = 'start';
        let startedAt = elected;
        let sinceLeaseExpiry = false;
        if (prev !== null && switched && pending !== null) {
          cause = 'switchover';
          startedAt = pending.requestedAt;
        } else if (prev !== null) {
          cause = 'takeover';
          if (prev.ended !== null) startedAt = prev.ended;
          else sinceLeaseExpiry = true;
        }
        startedAt = Math.min(startedAt, v.since);
        const entry: TimelineEntry = {
          node: v.node, token: v.token, from: prev?.entry.node ?? null, cause, startedAt, activeAt: v.since,
          durationMs: v.since - startedAt, sinceLeaseExpiry, endedAt: null, revision: ev.revision,
        };
        out.push(entry);
        current = { entry, ended: null, withdrawn: false };
        pending = null;
        break;
      }
      default:
        ev satisfies never;
    }
  }
  return out.slice(-keep);
}
