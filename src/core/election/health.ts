/**
 * Health aggregation like a cluster manager's: each check goes down after `fall` consecutive failures and up after
 * `rise` consecutive successes. Checks of scope `always` (disk, custom command) gate campaigning; checks of scope
 * `active` (service process, HTTP ping) only count while the node runs its services, after a start-up grace.
 */
import type { CheckStatus } from './records.js';

/** When a check counts: on every node, or only on the active one (the standby's services are stopped). */
export type CheckScope = 'always' | 'active';

/** Thresholds of the aggregation. */
export interface HealthPolicy {
  readonly rise: number;
  readonly fall: number;
  /** After services start, failures of `active` checks are ignored for this long. */
  readonly graceMs: number;
}

/** Defaults: down after 2 failures, up after 1 success, 30 s grace for services to come up. */
export const DEFAULT_HEALTH_POLICY: HealthPolicy = { rise: 1, fall: 2, graceMs: 30_000 };

interface CheckState {
  scope: CheckScope;
  up: boolean | null; // null: no result yet
  streak: number; // >0 consecutive successes, <0 consecutive failures
  detail: string;
}

/** The health of one node, fed with check results; pure (time is passed in). */
export class HealthTracker {
  private readonly checks = new Map<string, CheckState>();
  private activeSince: number | null = null;

  constructor(private readonly policy: HealthPolicy = DEFAULT_HEALTH_POLICY) {}

  /** Declare a check before its first result (a declared check without results is not yet healthy). */
  declare(name: string, scope: CheckScope): void {
    if (!this.checks.has(name)) this.checks.set(name, { scope, up: null, streak: 0, detail: 'not run yet' });
  }

  /** Record one result; returns true when the check changed between up and down. */
  record(name: string, ok: boolean, detail: string): boolean {
    const c = this.checks.get(name);
    if (c === undefined) throw new Error(`undeclared health check: ${name}`);
    c.detail = detail;
    c.streak = ok ? Math.max(c.streak, 0) + 1 : Math.min(c.streak, 0) - 1;
    const before = c.up;
    if (c.up !== true && c.streak >= this.policy.rise) c.up = true;
    else if (c.up !== false && -c.streak >= this.policy.fall) c.up = false;
    // First results decide at once in the failing direction too: an unknown check is not healthy.
    if (c.up === null && !ok) c.up = false;
    return before !== c.up;
  }

  /** Services started at `now`: `active` checks start over and get their grace. */
  servicesStarted(now: number): void {
    this.activeSince = now;
    for (const c of this.checks.values()) {
      if (c.scope === 'active') Object.assign(c, { up: null, streak: 0, detail: 'not run yet' });
    }
  }

  /** Services stopped: `active` checks no longer count. */
  servicesStopped(): void {
    this.activeSince = null;
  }

  /** Whether the node may campaign (standby) or keep running its services (active) at `now`. */
  healthy(now: number): boolean {
    for (const c of this.checks.values()) {
      if (c.scope === 'always' && c.up !== true) return false;
      if (c.scope === 'active' && this.activeSince !== null && now >= this.activeSince + this.policy.graceMs) {
        if (c.up === false) return false;
      }
    }
    return true;
  }

  /** Names of the checks that currently count against the node at `now` (for logs). */
  failing(now: number): string[] {
    const out: string[] = [];
    for (const [name, c] of this.checks) {
      if (c.scope === 'always' && c.up !== true) out.push(name);
      else if (c.scope === 'active' && this.activeSince !== null && now >= this.activeSince + this.policy.graceMs
        && c.up === false) out.push(name);
    }
    return out;
  }

  /** The latest result of every check (for the status key). */
  snapshot(): CheckStatus[] {
    return [...this.checks].map(([name, c]) => ({ name, ok: c.up === true, detail: c.detail }));
  }
}
