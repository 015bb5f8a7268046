/**
 * The per-member fault handling of one etcd3 client: each member's calls go through a policy that skips the member
 * while it is isolated (etcd3 then moves to the next member at once), fails its in-flight unary calls with a
 * retryable error the moment it is isolated (etcd3 retries them on another member), and cancels its open streams
 * (watch, lease keep-alive) so they are re-established elsewhere. Isolation follows `MemberHealth`: probes
 * (member-prober.ts) and calls through the member that waited on it in vain or could not reach it. Only the
 * member's own fault counts: etcd's answers (a leader election under way: "leader changed", "no leader"), a deadline
 * spent before the attempt (etcd3 retries a call with its first deadline) and the guard's own rejections say
 * nothing against the member: with the leader cut off, isolating the healthy followers on them would leave only the
 * silent leader to call.
 */
import {
  BrokenCircuitError, ConsecutiveBreaker, circuitBreaker, handleWhen, noop,
  type IDefaultPolicyContext, type IPolicy,
} from 'cockatiel';
import { GRPCDeadlineExceededError, GRPCUnavailableError, isRecoverableError } from 'etcd3';
import type { Logger } from 'pino';
import { MemberHealth, type MemberChange, type MemberView, type ProbeResult } from '../../core/cluster/member-health.js';
import { DEFAULT_PROBE_TIMEOUT_MS } from './member-prober.js';

/** The part of a gRPC client stream the guard needs (grpc-js ClientDuplexStream). */
interface CancellableStream {
  cancel(): void;
  once(event: string, listener: () => void): unknown;
}

function isStream(v: unknown): v is CancellableStream {
  return typeof v === 'object' && v !== null && typeof (v as { cancel?: unknown }).cancel === 'function'
    && typeof (v as { then?: unknown }).then !== 'function';
}

interface UnaryCall {
  readonly startedAt: number;
  readonly reject: (err: Error) => void;
}

/** A call failed by the guard itself (its member isolated, or the leader changed): retryable, and no fault of the member. */
class GuardRejection extends GRPCUnavailableError {}

interface MemberCalls {
  readonly streams: Set<CancellableStream>;
  readonly unary: Set<UnaryCall>;
}

/** The isolation state and fault handling of every member of one client. */
export class MemberGuards {
  private readonly health: MemberHealth;
  private readonly calls = new Map<string, MemberCalls>();
  private readonly now: () => number;
  private readonly silentAfterMs: number;

  /**
   * `probed`: whether a MemberProber feeds these guards. Without one, failed calls isolate nobody (only probes
   * could bring the member back). `silentAfterMs`: how long an attempt must have waited on a member for its timeout
   * to count as the member's silence (the probes' deadline: a shorter wait would not fail a probe either).
   */
  constructor(
    readonly members: readonly string[], private readonly log: Logger, private readonly probed: boolean,
    now: () => number = Date.now, silentAfterMs = DEFAULT_PROBE_TIMEOUT_MS,
  ) {
    this.now = now;
    this.silentAfterMs = silentAfterMs;
    this.health = new MemberHealth(members, {}, now());
    for (const m of members) this.calls.set(m, { streams: new Set(), unary: new Set() });
  }

  /** The policy etcd3 runs every call to `member` through (its `faultHandling.host`). */
  policyFor(member: string): IPolicy<IDefaultPolicyContext> {
    // Without probes, etcd3's default per-host breaker (3 consecutive recoverable failures open it for 5 s). With
    // them, none: the probes readmit a member within a round, and a breaker kept blocking for 5 s a member they had
    // readmitted, or the last usable one after three quick "no leader" answers in an election.
    const breaker = this.probed ? noop
      : circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 5000, breaker: new ConsecutiveBreaker(3) });
    const calls = this.calls.get(member);
    if (calls === undefined) throw new RangeError(`unknown etcd member ${member}`);
    const execute = <T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> => {
      // etcd3: an error thrown before fn runs counts as "blocked by the circuit": it tries the next member at once.
      if (!this.health.usable(member)) return Promise.reject(new BrokenCircuitError(`etcd member ${member} is isolated`));
      return breaker.execute((ctx) => this.run(member, calls, () => fn(ctx)), signal);
    };
    return {
      _altReturn: undefined as never,
      onSuccess: breaker.onSuccess,
      onFailure: breaker.onFailure,
      execute,
    };
  }

  private async run<T>(member: string, calls: MemberCalls, fn: () => PromiseLike<T> | T): Promise<T> {
    const startedAt = this.now();
    let result: PromiseLike<T> | T;
    try {
      result = fn();
    } catch (err) {
      this.failed(member, err, startedAt);
      throw err;
    }
    if (isStream(result)) {
      const stream = result;
      calls.streams.add(stream);
      const forget = (): void => { calls.streams.delete(stream); };
      stream.once('close', forget);
      stream.once('error', forget);
      stream.once('status', forget);
      return result;
    }
    let reject!: (err: Error) => void;
    const isolated = new Promise<never>((_, r) => { reject = r; });
    const call: UnaryCall = { startedAt, reject };
    calls.unary.add(call);
    try {
      return await Promise.race([result, isolated]);
    } catch (err) {
      this.failed(member, err, startedAt);
      throw err;
    } finally {
      calls.unary.delete(call);
    }
  }

  /**
   * An attempt through `member`, started at `startedAt`, failed. It isolates the member (MemberHealth.callFailed)
   * when it is the member's own fault: it waited at least `silentAfterMs` in vain, or gRPC could not reach the member.
   */
  private failed(member: string, err: unknown, startedAt: number): void {
    if (!this.probed || !isMemberFault(err, this.now() - startedAt, this.silentAfterMs)) return;
    const change = this.health.callFailed(member, this.now());
    if (change !== null) this.apply([change]);
  }

  /** Feed one round of probe results (from the prober). */
  probeRound(results: ReadonlyMap<string, ProbeResult>): void {
    this.apply(this.health.round(results, this.now()));
  }

  private apply(changes: readonly MemberChange[]): void {
    for (const c of changes) {
      if (!c.isolated) {
        this.log.info({ member: c.member }, 'etcd member usable again');
        continue;
      }
      const calls = this.calls.get(c.member);
      const streams = calls === undefined ? [] : [...calls.streams];
      const unary = calls === undefined ? [] : [...calls.unary];
      this.log.warn({ member: c.member, reason: c.reason, streams: streams.length, calls: unary.length }, 'etcd member isolated');
      for (const u of unary) u.reject(new GuardRejection(`etcd member ${c.member} isolated (${c.reason})`));
      // The streams' owners (etcd3's watch manager, a keep-alive attempt) see an error and start again elsewhere.
      for (const s of streams) s.cancel();
    }
  }

  /**
   * The cluster has a new leader (seen by the probes): fail every unary call started before `before` with a
   * retryable error, so that etcd3 sends it again. A follower forwards a proposal to the leader it knows; one
   * forwarded to a leader that went silent is lost, and etcd answers it only when its request timeout (5 s and
   * more) expires. Retrying is safe: pvsync's writes are idempotent puts or guarded transactions.
   */
  leaderChanged(before: number): number {
    let n = 0;
    for (const calls of this.calls.values()) {
      for (const u of [...calls.unary]) {
        if (u.startedAt >= before) continue;
        calls.unary.delete(u);
        u.reject(new GuardRejection('etcd leader changed while the call was in flight'));
        n++;
      }
    }
    if (n > 0) this.log.info({ calls: n }, 'etcd leader changed: calls in flight sent again');
    return n;
  }

  /** Cancel every open stream of this client (a watch found silent by its owner is then re-established). */
  cancelStreams(): number {
    let n = 0;
    for (const calls of this.calls.values()) {
      for (const s of [...calls.streams]) {
        s.cancel();
        n++;
      }
    }
    return n;
  }

  /** Open streams (watch, keep-alive) on `member` now. */
  streamsOn(member: string): number {
    return this.calls.get(member)?.streams.size ?? 0;
  }

  /** Every member's isolation state now. */
  view(): MemberView[] {
    return this.health.view(this.now());
  }
}

/**
 * Whether a failed attempt that ran `waitedMs` on its member says the member is silent or unreachable. An answer of
 * etcd's ("etcdserver: …", e.g. "leader changed" or "no leader" during an election) proves the member reachable; a
 * deadline that ran out sooner than `silentAfterMs` was spent elsewhere (etcd3's retries keep the call's deadline)
 * or was shorter than a probe's, and proves nothing.
 */
function isMemberFault(err: unknown, waitedMs: number, silentAfterMs: number): boolean {
  if (err instanceof GuardRejection) return false;
  if (err instanceof GRPCDeadlineExceededError) return waitedMs >= silentAfterMs;
  return err instanceof GRPCUnavailableError && !err.message.includes('etcdserver:');
}
