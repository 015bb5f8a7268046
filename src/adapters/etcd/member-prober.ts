/**
 * Probes every member of a client with a short-deadline status call, in rounds, and feeds the results to its
 * `MemberGuards`. Each member has its own single-member client without retries; after a failed probe that client is
 * replaced, so the next probe opens a new connection instead of waiting on one that a partition left half-dead
 * (TCP retransmits back off for seconds after the network heals).
 */
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import type { ProbeResult } from '../../core/cluster/member-health.js';
import type { MemberGuards } from './member-guard.js';

/** A probe's default deadline in ms: a member that does not answer within it counts as silent. */
export const DEFAULT_PROBE_TIMEOUT_MS = 500;

/** Timing of the probes. */
export interface ProberOptions {
  /** Pause between rounds in ms (default 250). */
  readonly intervalMs?: number;
  /** Deadline of one probe in ms (default 500). */
  readonly timeoutMs?: number;
}

/** Runs probe rounds until stopped. */
export class MemberProber {
  private readonly clients = new Map<string, Etcd3>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  /** The leader a majority of members named last, and what each member named in its last answer. */
  private leader: string | undefined;
  private readonly named = new Map<string, string>();

  constructor(
    private readonly guards: MemberGuards,
    /** Makes a client for exactly one member, without retries or breakers (see client.ts). */
    private readonly singleMemberClient: (member: string) => Etcd3,
    private readonly log: Logger,
    opts: ProberOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 250;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  }

  /** Start the rounds (the first one at once). */
  start(): void {
    if (this.timer !== null || this.stopped) return;
    this.timer = setTimeout(() => void this.loop(), 0);
    this.timer.unref();
  }

  /** Stop probing and close the probe clients. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private async loop(): Promise<void> {
    if (this.stopped) return;
    const results = new Map<string, ProbeResult>();
    await Promise.all(this.guards.members.map(async (m) => {
      const r = await this.probe(m);
      results.set(m, r.result);
      this.sawLeader(m, r.leader);
    }));
    if (this.stopped) return;
    this.guards.probeRound(results);
    this.timer = setTimeout(() => void this.loop(), this.intervalMs);
    this.timer.unref();
  }

  /**
   * Track the leader each member names; once a majority names a new one, calls in flight are sent again. Checked as
   * each answer arrives, not at the end of the round: a silent member would hold the round for a whole deadline.
   */
  private sawLeader(member: string, leader: string | undefined): void {
    if (leader === undefined) this.named.delete(member);
    else this.named.set(member, leader);
    const counts = new Map<string, number>();
    for (const l of this.named.values()) counts.set(l, (counts.get(l) ?? 0) + 1);
    for (const [l, n] of counts) {
      if (n * 2 <= this.guards.members.length || l === this.leader) continue;
      if (this.leader !== undefined) this.guards.leaderChanged(Date.now());
      this.leader = l;
    }
  }

  private async probe(member: string): Promise<{ result: ProbeResult; leader?: string }> {
    let client = this.clients.get(member);
    if (client === undefined) {
      client = this.singleMemberClient(member);
      this.clients.set(member, client);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), this.timeoutMs); });
    const status = client.maintenance.status({ deadline: Date.now() + this.timeoutMs })
      .then((s) => (s.leader === '0' || s.leader === '' ? { result: 'no-leader' as const } : { result: 'ok' as const, leader: s.leader }),
        () => ({ result: 'error' as const }));
    const r = await Promise.race([status, timeout.then(() => ({ result: 'timeout' as const }))]);
    clearTimeout(timer);
    if (r.result !== 'ok' && r.result !== 'no-leader') {
      this.log.debug({ member, result: r.result }, 'etcd member probe failed');
      this.clients.delete(member);
      client.close();
    }
    return r;
  }
}
