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
   * One round of probes sent to all members at the same time. A bad member is isolated only when another member
   * answered well in the same round: when nobody does, the fault is more likely on our side (our own network, or our
   * event loop stalled past the probe deadline) or the whole cluster is leaderless, and skipping members cannot help.
   * A round never leaves every member isolated: when no usable member answered well, the members that did are
   * readmitted at once (during an election the followers lose and regain their leader one after the other; holding a
   * member back for its streak then would leave only members that just failed — a silent one among them).
   */
  round(results: ReadonlyMap<string, ProbeResult>, now: number): MemberChange[] {
    const good = [...results].filter(([m, r]) => r === 'ok' && this.members.has(m)).map(([m]) => m);
    if (good.length === 0) return [];
    const changes: MemberChange[] = [];
    const readmit = (member: string, s: MemberState): void => {
      s.isolated = false;
      s.reason = null;
      s.since = now;
      changes.push({ member, isolated: false, reason: 'recovered' });
    };
    for (const member of good) {
      const s = this.state(member);
      s.goodInRow++;
      // A failed call may only have met an election (every write waits for the new leader): one good probe clears it.
      const needed = s.reason === 'call-failed' ? 1 : this.restoreAfter;
      if (s.isolated && s.goodInRow >= needed) readmit(member, s);
    }
    if (good.every((m) => this.state(m).isolated)) {
      for (const m of good) readmit(m, this.state(m));
    }
    for (const [member, result] of results) {
      const s = this.members.get(member);
      if (s === undefined || result === 'ok') continue;
      s.goodInRow = 0;
      if (s.isolated) continue;
      const reason: IsolationReason = result === 'no-leader' ? 'no-leader' : result === 'timeout' ? 'probe-timeout' : 'probe-error';
      s.isolated = true;
      s.reason = reason;
      s.since = now;
      changes.push({ member, isolated: true, reason });
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

  /**
   * Whether calls may go to `member`: it is not isolated. Some member always is usable: a failed call never isolates
   * the last one, and a round with a good answer leaves the member that gave it usable.
   */
  usable(member: string): boolean {
    return this.members.get(member)?.isolated !== true;
  }

  private state(member: string): MemberState {
    const s = this.members.get(member);
    if (s === undefined) throw new RangeError(`unknown etcd member ${member}`);
    return s;
  }

  /** Every member's state at `now`. */
  view(now: number): MemberView[] {
    return [...this.members.entries()].map(([member, s]) => ({
      member, isolated: s.isolated, reason: s.reason, sinceMs: Math.max(0, now - s.since),
    }));
  }
}
