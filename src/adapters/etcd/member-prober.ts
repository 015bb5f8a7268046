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

  constructor(
    private readonly guards: MemberGuards,
    /** Makes a client for exactly one member, without retries or breakers (see client.ts). */
    private readonly singleMemberClient: (member: string) => Etcd3,
    private readonly log: Logger,
    opts: ProberOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 250;
    this.timeoutMs = opts.timeoutMs ?? 500;
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
    await Promise.all(this.guards.members.map(async (m) => { results.set(m, await this.probe(m)); }));
    if (this.stopped) return;
    this.guards.probed(results);
    this.timer = setTimeout(() => void this.loop(), this.intervalMs);
    this.timer.unref();
  }

  private async probe(member: string): Promise<ProbeResult> {
    let client = this.clients.get(member);
    if (client === undefined) {
      client = this.singleMemberClient(member);
      this.clients.set(member, client);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), this.timeoutMs); });
    const status = client.maintenance.status({ deadline: Date.now() + this.timeoutMs })
      .then((s): ProbeResult => (s.leader === '0' || s.leader === '' ? 'no-leader' : 'ok'), (): ProbeResult => 'error');
    const result = await Promise.race([status, timeout]);
    clearTimeout(timer);
    if (result !== 'ok' && result !== 'no-leader') {
      this.log.debug({ member, result }, 'etcd member probe failed');
      this.clients.delete(member);
      client.close();
    }
    return result;
  }
}
