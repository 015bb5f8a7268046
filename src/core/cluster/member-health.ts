/**
 * Which etcd members a client should send its calls to, from rounds of short status probes and from calls that
 * timed out. A silent member (a partition: it accepts nothing and answers nothing) or one without a leader is
 * isolated — skipped for every call — until it answers well again. Pure: the caller probes and passes `now`.
 */

/** What one probe of a member found: a leader known, no leader, or no answer in time (or an error). */
export type ProbeResult = 'ok' | 'no-leader' | 'timeout' | 'error';

/** Why a member is isolated. */
export type IsolationReason = 'probe-timeout' | 'probe-error' | 'no-leader' | 'call-failed';

/** Tuning of the rules. */
export interface MemberHealthPolicy {
  /** Consecutive good probes that bring a member isolated by probes back (default 2; 1 after a failed call). */
  readonly restoreAfter?: number;
}

/** A change of one member's isolation (for logs and for tearing down its streams). */
export interface MemberChange {
  readonly member: string;
  readonly isolated: boolean;
  readonly reason: IsolationReason | 'recovered';
}

interface MemberState {
  isolated: boolean;
  reason: IsolationReason | null;
  since: number;
  goodInRow: number;
}

/** A member's state as reported in `/healthz` and metrics. */
export interface MemberView {
  readonly member: string;
  readonly isolated: boolean;
  readonly reason: IsolationReason | null;
  readonly sinceMs: number;
}

/** Isolation state of every member of one client. */
export class MemberHealth {
  private readonly members = new Map<string, MemberState>();
  private readonly restoreAfter: number;

  constructor(members: readonly string[], policy: MemberHealthPolicy = {}, now = 0) {
    if (members.length === 0) throw new RangeError('a client needs at least one etcd member');
    for (const m of members) this.members.set(m, { isolated: false, reason: null, since: now, goodInRow: 0 });
    this.restoreAfter = Math.max(1, policy.restoreAfter ?? 2);
  }

  /**
   * One round of probes sent to all members at the same time. A silent member (timeout, error) is isolated when
   * another member answered in the same round, even without a leader: a cut-off leader is then skipped while the
   * others elect a new one. A member without a leader is isolated only when another one has a leader. When nobody
   * answers, the fault is more likely on our side (our own network, or our event loop stalled past the probe
   * deadline), and when nobody has a leader the whole cluster is electing: skipping members cannot help then.
   */
  round(results: ReadonlyMap<string, ProbeResult>, now: number): MemberChange[] {
    const all = [...results.values()];
    const anyGood = all.some((r) => r === 'ok');
    const anyAnswer = anyGood || all.some((r) => r === 'no-leader');
    if (!anyAnswer) return [];
    const changes: MemberChange[] = [];
    for (const [member, result] of results) {
      const s = this.members.get(member);
      if (s === undefined) continue;
      if (result === 'ok') {
        s.goodInRow++;
        // A failed call may only have met an election (every write waits for the new leader): one good probe clears it.
        const needed = s.reason === 'call-failed' ? 1 : this.restoreAfter;
        if (s.isolated && s.goodInRow >= needed) {
          s.isolated = false;
          s.reason = null;
          s.since = now;
          changes.push({ member, isolated: false, reason: 'recovered' });
        }
      } else {
        s.goodInRow = 0;
        if (result === 'no-leader' && !anyGood) continue;
        if (!s.isolated) {
          const reason: IsolationReason = result === 'no-leader' ? 'no-leader' : result === 'timeout' ? 'probe-timeout' : 'probe-error';
          s.isolated = true;
          s.reason = reason;
          s.since = now;
          changes.push({ member, isolated: true, reason });
        }
      }
    }
    return changes;
  }

  /**
   * A call through `member` timed out or found it unavailable: skip it until probes find it good again, so the retry
   * and the next calls go elsewhere at once. Never isolates the last member that is not isolated.
   */
  callFailed(member: string, now: number): MemberChange | null {
    const s = this.members.get(member);
    if (s === undefined || s.isolated) return null;
    const others = [...this.members.entries()].filter(([m, o]) => m !== member && !o.isolated);
    if (others.length === 0) return null;
    s.isolated = true;
    s.reason = 'call-failed';
    s.since = now;
    s.goodInRow = 0;
    return { member, isolated: true, reason: 'call-failed' };
  }

  /** Whether calls may go to `member`: it is not isolated, or every member is (then all are tried as before). */
  usable(member: string): boolean {
    const s = this.members.get(member);
    if (s === undefined || !s.isolated) return true;
    return [...this.members.values()].every((o) => o.isolated);
  }

  /** Every member's state at `now`. */
  view(now: number): MemberView[] {
    return [...this.members.entries()].map(([member, s]) => ({
      member, isolated: s.isolated, reason: s.reason, sinceMs: Math.max(0, now - s.since),
    }));
  }
}
