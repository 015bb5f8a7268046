/**
 * The archive reconciler: follows the derived channels (a follower of the derivation: `onApplied`) and keeps the
 * ACTIVE appliance of an archiver group archiving what the directory asks for (docs/archiver-sync.md). Each pass
 * reads which node is active; on a change of node (or token) it reconciles the whole desired state against what
 * the new appliance reports, otherwise only the channels changed since. While no node is active it queues archive
 * requests in the appliance's ArchivePVRequests table, which the next appliance reads at start. Failures are
 * retried with back-off; nothing is dropped: a name leaves the work list only once the appliance confirms it.
 */
import type { Logger } from 'pino';
import { BplClient } from '../adapters/archiver-bpl/bpl-client.js';
import type { ArchapplStore } from '../adapters/mariadb/archappl.js';
import { decodeTypeInfo } from '../core/archiver/appliance-rows.js';
import {
  batches, desiredOf, isSpecProblem, planArchiving, planSize, reportedOf,
  type ApplianceSelector, type ArchivePlan, type DesiredPv, type RemovedPolicy, type ReportedPv, type SpecProblem,
} from '../core/archiver/plan.js';
import { backoffMs } from '../core/backoff.js';
import type { ActiveValue } from '../core/election/records.js';
import { messageOf } from '../core/errors.js';
import type { CfChannel } from '../core/model.js';

/** What the reconciler needs from its surroundings. */
export interface ReconcilerDeps {
  /** The active node of the archiver group now, or null (read from etcd with a deadline). */
  readonly active: () => Promise<ActiveValue | null>;
  /** The shared archappl database, for requests while no node is active (none: wait for a node). */
  readonly store?: ArchapplStore;
  readonly log: Logger;
}

/** Settings of a reconciler. */
export interface ReconcilerSettings {
  readonly selector: ApplianceSelector;
  readonly onRemoved?: RemovedPolicy;
  /** Identity of the group's appliance (its PVTypeInfo rows), to skip queuing what it archives already. */
  readonly applianceIdentity?: string;
  /** Between passes when idle (default 500 ms). */
  readonly passMs?: number;
  readonly bplTimeoutMs?: number;
  readonly bplBatch?: number;
}

/** Counters of a reconciler (what it has done since start). */
export interface ReconcilerStats {
  passes: number;
  fullPasses: number;
  archived: number;
  resumed: number;
  paused: number;
  changed: number;
  queued: number;
  failures: number;
  refused: number;
}

type Lookup = (name: string) => CfChannel | undefined;

/** Drives the active appliance towards the desired state. */
export class ArchiveReconciler {
  private readonly desired = new Map<string, DesiredPv>();
  private readonly removed = new Set<string>();
  /** Channels whose archive spec cannot be read, by name (reported, not archived). */
  readonly problems = new Map<string, SpecProblem>();
  private readonly dirty = new Set<string>();
  private full = true;
  private activeKey: string | null = null;
  private queuedOffline = new Set<string>();
  private running = false;
  private stopped = false;
  private wake: (() => void) | null = null;
  private failuresInRow = 0;
  private lastClean = false;
  readonly stats: ReconcilerStats = {
    passes: 0, fullPasses: 0, archived: 0, resumed: 0, paused: 0, changed: 0, queued: 0, failures: 0, refused: 0,
  };

  constructor(private readonly s: ReconcilerSettings, private readonly deps: ReconcilerDeps) {}

  /**
   * The derivation's follower hook: `changed` names (null = anything may have changed: `all()` lists every name).
   * Cheap: it only updates the desired map and marks names for the next pass.
   */
  channelsChanged(lookup: Lookup, changed: readonly string[] | null, all: () => Iterable<string>): void {
    if (changed === null) {
      const before = new Set(this.desired.keys());
      this.desired.clear();
      this.problems.clear();
      for (const n of all()) this.update(n, lookup(n));
      for (const n of before) if (!this.desired.has(n)) this.removed.add(n);
      this.full = true;
    } else {
      for (const n of changed) {
        this.update(n, lookup(n));
        this.dirty.add(n);
      }
    }
    this.lastClean = false;
    this.wake?.();
  }

  private update(name: string, ch: CfChannel | undefined): void {
    const d = ch === undefined ? null : desiredOf(ch, this.s.selector);
    const had = this.desired.has(name);
    const before = this.problems.get(name);
    this.problems.delete(name);
    if (d === null) {
      this.desired.delete(name);
      if (had) this.removed.add(name);
    } else if (isSpecProblem(d)) {
      this.desired.delete(name);
      this.problems.set(name, d);
      if (before?.value !== d.value) this.deps.log.warn({ pv: name, value: d.value, code: 'PVS_ARCHIVE_SPEC', err: d.error }, 'archive spec refused');
      if (had) this.removed.add(name);
    } else {
      this.desired.set(name, d);
      this.removed.delete(name);
    }
  }

  /** Desired PVs (archived when Active, paused when Inactive). */
  get desiredCount(): number {
    return this.desired.size;
  }

  /** True when the last pass found nothing to do and nothing changed since. */
  get converged(): boolean {
    return this.lastClean && this.dirty.size === 0 && !this.full;
  }

  /** Run passes until stop(); may be run again after it ended (a new term of the writer). */
  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.stopped = false;
    this.full = true; // a new term: reconcile everything again
    while (!this.stopped) {
      let delay = this.s.passMs ?? 500;
      try {
        await this.pass();
        this.failuresInRow = 0;
      } catch (err) {
        this.failuresInRow++;
        this.stats.failures++;
        delay = backoffMs(this.failuresInRow, 200, 10_000);
        // A failover or an appliance restart fails a few passes by design: warn only when it lasts.
        const level = this.failuresInRow >= 5 ? 'warn' : 'debug';
        this.deps.log[level]({ err: messageOf(err), retryInMs: delay, failures: this.failuresInRow }, 'archive reconcile failed; retrying');
      }
      if (this.stopped) break;
      if (!this.lastClean && this.failuresInRow === 0) delay = Math.min(delay, 100);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.wake = () => { clearTimeout(t); resolve(); };
      });
      this.wake = null;
    }
    this.running = false;
  }

  /** Stop after the current pass. */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** One pass: read the active node, then reconcile it (or queue requests while none is active). */
  async pass(): Promise<void> {
    this.stats.passes++;
    const active = await this.deps.active();
    const key = active?.endpoints.mgmt === undefined ? null : `${active.node}/${active.token}/${active.endpoints.mgmt}`;
    if (key !== this.activeKey) {
      this.deps.log.info({ active: active?.node ?? null, token: active?.token ?? null }, 'archiver changed; full reconcile');
      this.activeKey = key;
      this.full = true;
      this.queuedOffline = new Set();
    }
    if (key === null || active?.endpoints.mgmt === undefined) {
      await this.queueOffline();
      return;
    }
    await this.reconcile(new BplClient(active.endpoints.mgmt, {
      ...(this.s.bplTimeoutMs === undefined ? {} : { timeoutMs: this.s.bplTimeoutMs }),
      ...(this.s.bplBatch === undefined ? {} : { batch: this.s.bplBatch }),
    }));
  }

  private async reconcile(client: BplClient): Promise<void> {
    const state = await client.startupState();
    // appliance: every other BPL answers 500 until start-up completes; poll again soon (not a failure).
    if (state !== 'STARTUP_COMPLETE') {
      this.deps.log.debug({ appliance: client.base, state }, 'appliance starting');
      this.lastClean = false;
      return;
    }
    const full = this.full;
    const names = full ? [...this.desired.keys(), ...this.removed] : [...this.dirty];
    const taken = new Set(names);
    this.full = false;
    for (const n of taken) this.dirty.delete(n);
    try {
      const reported = await client.pvStatus(names);
      const view = (n: string): ReportedPv => reportedOf(reported.get(n));
      const want = names.flatMap((n) => { const d = this.desired.get(n); return d === undefined ? [] : [d]; });
      const gone = names.filter((n) => this.removed.has(n));
      const plan = planArchiving(want, gone, view, this.s.onRemoved ?? 'pause');
      for (const n of gone) if (this.s.onRemoved === 'leave' || view(n).state !== 'archived') this.removed.delete(n);
      await this.execute(client, plan);
      if (full) this.stats.fullPasses++;
      // Acted-upon and still pending names are checked again next pass; the pass is clean only when none is left.
      const pending = names.filter((n) => view(n).state === 'pending');
      for (const n of [...plan.archive.map((a) => a.pv), ...plan.resume, ...plan.pause, ...plan.change.map((c) => c.pv), ...pending]) {
        this.dirty.add(n);
      }
      this.lastClean = planSize(plan) === 0 && pending.length === 0;
    } catch (err) {
      if (full) this.full = true;
      for (const n of taken) this.dirty.add(n);
      throw err;
    }
  }

  private async execute(client: BplClient, plan: ArchivePlan): Promise<void> {
    const refusals = (r: readonly Readonly<Record<string, unknown>>[]): void => {
      for (const e of r) {
        if (typeof e.validation === 'string') {
          this.stats.refused++;
          this.deps.log.warn({ pv: e.pvName, validation: e.validation }, 'appliance refused');
        }
      }
    };
    if (plan.pause.length > 0) {
      refusals(await client.pause(plan.pause));
      this.stats.paused += plan.pause.length;
    }
    if (plan.archive.length > 0) {
      // "Already submitted" counts as done: the PV is archived or in the appliance's workflow already.
      refusals(await client.archive(plan.archive));
      this.stats.archived += plan.archive.length;
    }
    if (plan.resume.length > 0) {
      refusals(await client.resume(plan.resume));
      this.stats.resumed += plan.resume.length;
    }
    for (const group of batches(plan.change, 8)) {
      refusals(await Promise.all(group.map((c) => client.change(c))));
      this.stats.changed += group.length;
    }
  }

  /** No node is active: queue the active desired PVs the appliance does not archive yet as ArchivePVRequests rows. */
  private async queueOffline(): Promise<void> {
    const store = this.deps.store;
    if (store === undefined) {
      this.lastClean = false;
      return;
    }
    const known = new Set<string>();
    for (const r of await store.typeInfos()) {
      const t = decodeTypeInfo(r.value);
      if (t !== null && (this.s.applianceIdentity === undefined || t.applianceIdentity === this.s.applianceIdentity)) known.add(t.pvName);
    }
    for (const r of await store.requests()) known.add(r.name);
    const rows = [];
    for (const d of this.desired.values()) {
      if (!d.active || known.has(d.name) || this.queuedOffline.has(d.name)) continue;
      const s = d.spec;
      rows.push({
        pvName: d.name,
        params: s.kind === 'sampling' ? { samplingMethod: s.method, samplingPeriod: s.period }
          : s.kind === 'policy' ? { policyName: s.policy } : {},
      });
    }
    await store.queueRequests(rows);
    for (const r of rows) this.queuedOffline.add(r.pvName);
    this.stats.queued += rows.length;
    if (rows.length > 0) this.deps.log.info({ queued: rows.length }, 'no active archiver: archive requests queued in archappl');
    this.full = true; // the next active node gets a whole reconcile, which confirms the queued requests
    this.lastClean = false;
  }
}
