/**
 * The archiver agent runtime: composes the pure election rules (core/election) with etcd (lease, campaign, watch),
 * hooks and health checks. One serialized step loop performs `decide()`'s answers; a watchdog timer at the local
 * lease deadline aborts start hooks and wakes the loop, so a node that lost contact stops its services by itself.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { decide, nextDeadline, type AgentView, type DecideOptions, type DemoteReason } from '../core/election/decide.js';
import { HealthTracker } from '../core/election/health.js';
import { LeaseClock } from '../core/election/lease-clock.js';
import { publishedCommand, type GroupStatus, type NodeStatus, type Role } from '../core/election/records.js';
import { transition } from '../core/election/roles.js';
import { isPvsError, messageOf, type PvsError } from '../core/errors.js';
import { isEtcdRefusal } from '../adapters/etcd/errors.js';
import {
  ArchiverGroupStore, grantLease, revokeLease, type AgentLease,
} from '../adapters/etcd/archiver-election.js';
import { runStartHooks, runStopHooks } from '../adapters/hooks/hook-runner.js';
import { backoffMs } from '../core/backoff.js';
import type { AgentConfig, AgentDeps } from './archiver-agent-config.js';
import { hookEnvironment, runHealthRound } from './archiver-hooks.js';
import { GroupReader } from './archiver-group-reader.js';
import { WatchdogFile } from './archiver-watchdog-file.js';

export type { AgentConfig, AgentDeps, AgentServices, ScopedCheck } from './archiver-agent-config.js';

/** The agent of one archiver node. `run()` resolves once `shutdown()` has stopped services and released the lease. */
export class ArchiverAgent {
  private readonly store: ArchiverGroupStore;
  private readonly group: GroupReader;
  private readonly watchdogFile: WatchdogFile;
  private readonly health: HealthTracker;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly callTimeoutMs: number;
  private readonly decideOpts: DecideOptions;

  private role: Role = 'starting';
  private roleSince: number;
  private lease: AgentLease | null = null;
  private clock: LeaseClock | null = null;
  private leader: { node: string; token: string } | null = null;
  private myToken: string | null = null;
  private announced = false;
  private holdBackUntil = 0;
  private switchover: AgentView['switchover'] = null;
  private shutdownRequested = false;
  private firstHealthDone = false;
  private startAbort: AbortController | null = null;

  private stepping = false;
  private stepAgain = false;
  private retryAt = 0;
  /** Consecutive steps etcd refused (permission, login, TLS): they back off up to 30 s. */
  private refusals = 0;
  private timers: NodeJS.Timeout[] = [];
  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeAt = 0;
  private watchdogTimer: NodeJS.Timeout | null = null;
  private stopWatch: (() => Promise<void>) | null = null;
  private publishing: Promise<void> = Promise.resolve();
  private done: (() => void) | null = null;

  constructor(private readonly cfg: AgentConfig, private readonly deps: AgentDeps) {
    this.now = deps.now ?? Date.now;
    this.log = deps.log.child({ component: 'archiver-agent', node: cfg.node, group: cfg.group });
    this.store = new ArchiverGroupStore(deps.client, cfg.group, cfg.root);
    this.group = new GroupReader(this.store, this.log, (g) => this.apply(g));
    this.watchdogFile = new WatchdogFile(cfg.watchdogFile, cfg.node, this.log);
    this.health = new HealthTracker(cfg.healthPolicy);
    for (const c of deps.checks) this.health.declare(c.check.name, c.scope);
    this.roleSince = this.now();
    this.callTimeoutMs = Math.max(300, Math.min(2000, Math.floor((cfg.ttlS * 1000) / 3)));
    this.decideOpts = { switchoverHoldBackMs: cfg.switchoverHoldBackMs };
  }

  /** Run until shut down. */
  run(): Promise<void> {
    const ttlMs = this.cfg.ttlS * 1000;
    const finished = new Promise<void>((resolve) => { this.done = resolve; });
    this.every(Math.max(200, Math.floor(ttlMs / 4)), () => this.group.refresh());
    this.every(this.cfg.healthIntervalMs, () => this.runChecks());
    this.stopWatch = this.store.watch(() => this.group.refresh(), (err) => this.log.warn({ err }, 'watch error'));
    void this.runChecks();
    this.group.refresh();
    this.kick();
    return finished;
  }

  /** Ask the agent to stop: services are stopped (stop hooks) and the lease revoked before `run()` resolves. */
  shutdown(): void {
    if (this.shutdownRequested) return;
    this.log.info({ role: this.role }, 'shutdown requested');
    this.shutdownRequested = true;
    this.kick();
  }

  /** The current role (for tests and logs). */
  get currentRole(): Role { return this.role; }

  private every(ms: number, fn: () => unknown): void {
    this.timers.push(setInterval(() => { void fn(); }, ms));
  }

  private view(): AgentView {
    return {
      node: this.cfg.node, role: this.role,
      leaseValidUntil: this.clock?.validUntil ?? null,
      healthy: this.health.healthy(this.now()),
      leader: this.leader, myToken: this.myToken,
      holdBackUntil: this.holdBackUntil, switchover: this.switchover, shutdown: this.shutdownRequested,
    };
  }

  private setRole(to: Role): void {
    const from = this.role;
    this.role = transition(from, to);
    this.roleSince = this.now();
    this.log.info({ from, to, token: this.myToken }, 'role changed');
    this.publishStatus();
  }

  /** Wake the step loop; while start hooks run, abort them at once if the rules say the node must give up. */
  private kick(): void {
    if (this.stepping) {
      this.stepAgain = true;
      if (this.role === 'promoting' && this.startAbort !== null && decide(this.view(), this.now(), this.decideOpts).kind === 'demote') {
        this.log.warn({}, 'aborting start hooks');
        this.startAbort.abort();
      }
      return;
    }
    void this.stepLoop();
  }

  private async stepLoop(): Promise<void> {
    this.stepping = true;
    try {
      for (;;) {
        this.stepAgain = false;
        const now = this.now();
        if (this.role === 'starting' && this.lease !== null && this.clock?.valid(now) === true && this.firstHealthDone) {
          this.setRole('standby');
        }
        const d = decide(this.view(), now, this.decideOpts);
        if (d.kind === 'wait') {
          if (!this.stepAgain) break;
          continue;
        }
        if ((d.kind === 'grant-lease' || d.kind === 'campaign') && now < this.retryAt) {
          this.armWake(this.retryAt);
          break;
        }
        try {
          if (d.kind === 'grant-lease') await this.grant();
          else if (d.kind === 'campaign') await this.campaign();
          else if (d.kind === 'demote') await this.demote(d.reason);
          else await this.exit();
        } catch (err) {
          // A refusal (permission, login, TLS) will not pass by itself: log it as an error and retry slowly.
          this.refusals = isEtcdRefusal(err) ? this.refusals + 1 : 0;
          if (this.refusals > 0) {
            this.log.error({ step: d.kind, code: (err as PvsError).code, error: messageOf(err) }, 'etcd refused the agent');
          } else {
            this.log.warn({ step: d.kind, error: messageOf(err) }, 'step failed');
          }
          this.retryAt = this.now() + (this.refusals > 0 ? backoffMs(this.refusals, 1000, 30_000) : 300);
        }
        if (this.role === 'stopped') return;
      }
      const next = nextDeadline(this.view(), this.decideOpts);
      if (next !== null) this.armWake(next);
    } finally {
      this.stepping = false;
    }
  }

  private armWake(at: number): void {
    if (this.wakeTimer !== null) {
      if (this.wakeAt <= at && this.wakeAt > this.now()) return; // an earlier wake-up is already set
      clearTimeout(this.wakeTimer);
    }
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => { this.wakeTimer = null; this.kick(); }, Math.max(0, at - this.now()) + 1);
  }

  private armWatchdog(): void {
    if (this.watchdogTimer !== null) clearTimeout(this.watchdogTimer);
    if (this.clock === null) return;
    // The self-stop deadline: no new event is needed for the node to give up its services.
    this.watchdogTimer = setTimeout(() => { this.watchdogTimer = null; this.kick(); }, Math.max(0, this.clock.validUntil - this.now()));
  }

  private async grant(): Promise<void> {
    const old = this.lease;
    if (old !== null) {
      this.lease = null;
      this.clock = null;
      void revokeLease(old, this.callTimeoutMs); // best effort: it may already be gone
    }
    const lease = await grantLease(this.deps.client, this.cfg.ttlS, this.callTimeoutMs, this.log, this.now);
    lease.keeper.on('ack', (sentAt: number) => this.onAck(lease, sentAt));
    lease.keeper.on('lost', () => this.onLost(lease));
    this.lease = lease;
    this.clock = new LeaseClock({ ttlMs: this.cfg.ttlS * 1000, marginMs: this.cfg.marginMs }, lease.keeper.lastAckSentAt);
    this.armWatchdog();
    this.log.info({ lease: lease.id, ttl: lease.ttlS }, 'lease granted');
    this.publishStatus();
  }

  private onAck(lease: AgentLease, sentAt: number): void {
    if (this.lease !== lease || this.clock === null) return;
    this.clock.ack(sentAt);
    this.armWatchdog();
    if (this.myToken !== null && (this.role === 'promoting' || this.role === 'active')) void this.writeWatchdog();
  }

  private onLost(lease: AgentLease): void {
    if (this.lease !== lease) return;
    this.log.warn({ lease: lease.id }, 'lease lost');
    this.clock = null;
    this.lease = null;
    this.kick();
  }

  /** Tell local services until when they may act (0 = stop now). */
  private writeWatchdog(): Promise<void> {
    return this.watchdogFile.write(() => ({
      token: this.myToken, validUntil: this.myToken !== null && this.clock !== null ? this.clock.validUntil : 0,
    }));
  }

  /** A newer state of the group (from GroupReader): who leads, and any switchover request. */
  private apply(g: GroupStatus): void {
    const before = this.leader;
    this.leader = g.leader === null ? null : { node: g.leader.node, token: g.leader.token };
    if (g.switchover === null || g.switchoverRevision === null) this.switchover = null;
    else if (this.switchover?.request.id !== g.switchover.id) {
      this.switchover = { request: g.switchover, revision: g.switchoverRevision, seenAt: this.now() };
      this.log.info({ to: g.switchover.to, id: g.switchover.id }, 'switchover requested');
    }
    if (before?.token !== this.leader?.token) this.log.info({ leader: this.leader }, 'leader changed');
    this.kick();
  }

  private async runChecks(): Promise<void> {
    const leading = this.role === 'promoting' || this.role === 'active';
    let changed = await runHealthRound(this.deps.checks, this.health, leading, this.log);
    if (!this.firstHealthDone) { this.firstHealthDone = true; changed = true; }
    if (changed) { this.publishStatus(); this.kick(); }
  }

  private hookEnv(reason: string, token: string | null): Record<string, string> {
    return hookEnvironment(this.cfg, this.deps.baseEnv, reason, token, process.pid);
  }

  private async campaign(): Promise<void> {
    const lease = this.lease;
    if (lease === null) return;
    this.setRole('campaigning');
    let res;
    try {
      res = await this.store.campaign(lease, { node: this.cfg.node, since: this.now() });
    } catch (err) {
      this.setRole('standby');
      throw err;
    }
    if (!res.won) {
      this.leader = res.holder === null ? null : { node: res.holder.node, token: res.holder.token };
      this.setRole('standby');
      return;
    }
    this.myToken = res.token;
    this.leader = { node: this.cfg.node, token: res.token };
    this.group.saw(BigInt(res.token));
    this.log.info({ token: res.token }, 'won the election');
    this.setRole('promoting');
    await this.writeWatchdog();
    this.startAbort = new AbortController();
    const started = await runStartHooks(this.cfg.start, {
      timeoutMs: this.cfg.hookTimeoutMs, env: this.hookEnv('elected', res.token), log: this.log, signal: this.startAbort.signal,
    });
    this.startAbort = null;
    const ok = started.ok && (this.deps.services === undefined || await this.deps.services.start(res.token).catch((err: unknown) => {
      this.log.error({ err: messageOf(err) }, 'in-process service did not start');
      return false;
    }));
    if (!ok) {
      if (decide(this.view(), this.now(), this.decideOpts).kind !== 'demote') await this.demote('start-failed');
      return; // the loop demotes for the reason it sees
    }
    if (decide(this.view(), this.now(), this.decideOpts).kind === 'demote') return;
    try {
      await this.store.announce(lease, {
        node: this.cfg.node, token: res.token, since: this.now(), endpoints: this.cfg.published,
      });
    } catch (err) {
      this.log.error({ err }, 'could not announce active');
      await this.demote(isPvsError(err, 'PVS_ETCD_CONFLICT') ? 'key-lost' : 'start-failed');
      return;
    }
    this.announced = true;
    this.health.servicesStarted(this.now());
    this.setRole('active');
    // A switchover request that brought this node in is done.
    const sw = this.switchover;
    if (sw !== null && sw.request.to === this.cfg.node) void this.store.clearSwitchover(sw.request.id).catch(() => undefined);
  }

  private async demote(reason: DemoteReason): Promise<void> {
    const token = this.myToken;
    this.log[reason === 'shutdown' ? 'info' : 'warn']({ reason, token }, 'giving up leadership'); // a shutdown is no warning
    this.setRole('demoting');
    const fenced = reason === 'lease-deadline';
    const announced = this.announced;
    this.announced = false;
    this.health.servicesStopped();
    this.myToken = null;
    await this.writeWatchdog(); // validUntil 0: local services stop acting now
    if (!fenced && announced && token !== null) {
      await this.store.withdraw(token).catch((err: unknown) => this.log.warn({ err }, 'could not withdraw active'));
    }
    await this.deps.services?.stop(reason, token).catch((err: unknown) => this.log.warn({ err: messageOf(err) }, 'in-process service did not stop cleanly'));
    const env = this.hookEnv(reason, token);
    await runStopHooks(this.cfg.stop, { timeoutMs: this.cfg.hookTimeoutMs, env, log: this.log });
    if (fenced) {
      const old = this.lease;
      this.lease = null;
      this.clock = null;
      if (old !== null) void revokeLease(old, this.callTimeoutMs);
    } else if (token !== null) {
      await this.store.resign(token).then(
        (ok) => this.log.info({ token, deleted: ok }, 'resigned'),
        (err: unknown) => this.log.warn({ err }, 'could not resign (the lease will expire)'),
      );
    }
    if (this.leader?.token === token) this.leader = null;
    const ttlMs = this.cfg.ttlS * 1000;
    if (reason === 'switchover') this.holdBackUntil = this.now() + Math.max(2 * this.cfg.switchoverHoldBackMs, ttlMs);
    else if (reason === 'unhealthy' || reason === 'start-failed') this.holdBackUntil = this.now() + 2 * ttlMs;
    if (this.shutdownRequested) {
      this.setRole('stopped');
      await this.finish();
    } else {
      this.setRole('standby');
    }
  }

  private async exit(): Promise<void> {
    this.setRole('stopped');
    await this.finish();
  }

  private async finish(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    if (this.wakeTimer !== null) clearTimeout(this.wakeTimer);
    if (this.watchdogTimer !== null) clearTimeout(this.watchdogTimer);
    await this.stopWatch?.();
    await this.publishing;
    const lease = this.lease;
    this.lease = null;
    this.clock = null;
    if (lease !== null) {
      const err = await revokeLease(lease, this.callTimeoutMs);
      if (err !== null) this.log.warn({ err }, 'could not revoke lease (it will expire)');
    }
    this.log.info({}, 'agent stopped');
    this.done?.();
  }

  /** Publish this node's status (serialized; only while a lease is held). */
  private publishStatus(): void {
    this.publishing = this.publishing.then(async () => {
      const lease = this.lease;
      if (lease === null || this.role === 'stopped') return;
      const status: NodeStatus = {
        node: this.cfg.node, role: this.role, healthy: this.health.healthy(this.now()),
        checks: this.health.snapshot(), since: this.roleSince, token: this.myToken, updatedAt: this.now(),
        endpoints: this.cfg.published, pid: process.pid, host: hostname(), resources: this.cfg.start.map(publishedCommand),
      };
      await this.store.publishStatus(lease, status).catch((err: unknown) => this.log.debug({ err }, 'status not published'));
    });
  }
}
