/**
 * The election rules, as one pure function: given what the agent knows at `now`, what must it do next? The agent
 * runtime performs the decision (a campaign transaction, hooks, a resignation) and asks again.
 */
import { LEADING_ROLES } from './roles.js';
import type { Role, SwitchoverRequest } from './records.js';

/** What the agent knows when it decides. */
export interface AgentView {
  readonly node: string;
  readonly role: Role;
  /** The local lease deadline (LeaseClock.validUntil), or null when the agent holds no lease. */
  readonly leaseValidUntil: number | null;
  readonly healthy: boolean;
  /** The election key as last seen: its holder and token, or null when absent. */
  readonly leader: { readonly node: string; readonly token: string } | null;
  /** The token this agent won, while it leads. */
  readonly myToken: string | null;
  /** The agent does not campaign before this moment (after resigning, or while a switchover targets another node). */
  readonly holdBackUntil: number;
  /** A pending switchover request, the etcd revision that wrote it, and when this agent first saw it. */
  readonly switchover: { readonly request: SwitchoverRequest; readonly revision: string; readonly seenAt: number } | null;
  readonly shutdown: boolean;
}

/** Why a leading node gives up. */
export type DemoteReason = 'lease-deadline' | 'key-lost' | 'unhealthy' | 'switchover' | 'shutdown' | 'start-failed';

/** The next step of the agent. */
export type Decision =
  | { readonly kind: 'wait' }
  | { readonly kind: 'grant-lease' }
  | { readonly kind: 'campaign' }
  | { readonly kind: 'demote'; readonly reason: DemoteReason }
  | { readonly kind: 'exit' };

/** How long standbys that are not the target of a switchover hold back, in ms (defaults: SWITCHOVER_HOLD_BACK_MS). */
export interface DecideOptions {
  readonly switchoverHoldBackMs: number;
}

/** Default hold-back of non-target standbys during a switchover. */
export const SWITCHOVER_HOLD_BACK_MS = 1500;

const WAIT: Decision = { kind: 'wait' };

/** Decide the next step. Safety first: a leading node demotes as soon as its own lease deadline has passed. */
export function decide(v: AgentView, now: number, opts: DecideOptions = { switchoverHoldBackMs: SWITCHOVER_HOLD_BACK_MS }): Decision {
  const leaseValid = v.leaseValidUntil !== null && now < v.leaseValidUntil;
  if (LEADING_ROLES.has(v.role)) {
    if (!leaseValid) return { kind: 'demote', reason: 'lease-deadline' };
    if (v.shutdown) return { kind: 'demote', reason: 'shutdown' };
    if (v.leader !== null && (v.leader.node !== v.node || v.leader.token !== v.myToken)) {
      return { kind: 'demote', reason: 'key-lost' };
    }
    if (v.leader === null && v.myToken !== null) return { kind: 'demote', reason: 'key-lost' };
    if (v.role === 'active' && !v.healthy) return { kind: 'demote', reason: 'unhealthy' };
    // A request applies to the leader it was made under: written after this node won (revision > token).
    const sw = v.switchover;
    if (v.role === 'active' && sw !== null && sw.request.to !== v.node && v.myToken !== null
      && BigInt(sw.revision) > BigInt(v.myToken)) return { kind: 'demote', reason: 'switchover' };
    return WAIT;
  }
  if (v.role === 'stopped') return WAIT;
  if (v.shutdown) return v.role === 'standby' || v.role === 'starting' ? { kind: 'exit' } : WAIT;
  if (v.role !== 'standby' && v.role !== 'starting') return WAIT; // campaigning / demoting: an operation is under way
  if (!leaseValid) return { kind: 'grant-lease' };
  if (v.role === 'starting') return WAIT; // the runtime moves to standby once the lease and first checks are in
  if (!v.healthy || v.leader !== null) return WAIT;
  const sw = v.switchover;
  // The target of a switchover campaigns at once, even if it recently resigned itself.
  if (sw?.request.to === v.node) return { kind: 'campaign' };
  if (now < v.holdBackUntil) return WAIT;
  if (sw?.request.to !== undefined && now < sw.seenAt + opts.switchoverHoldBackMs) return WAIT;
  return { kind: 'campaign' };
}

/** The moment after which `decide` may answer differently without any new event (for the runtime's timer). */
export function nextDeadline(v: AgentView, opts: DecideOptions = { switchoverHoldBackMs: SWITCHOVER_HOLD_BACK_MS }): number | null {
  const ds: number[] = [];
  if (v.leaseValidUntil !== null) ds.push(v.leaseValidUntil);
  if (v.holdBackUntil > 0) ds.push(v.holdBackUntil);
  if (v.switchover !== null) ds.push(v.switchover.seenAt + opts.switchoverHoldBackMs);
  return ds.length === 0 ? null : Math.min(...ds);
}
