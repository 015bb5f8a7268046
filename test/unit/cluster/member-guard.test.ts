import { EventEmitter } from 'node:events';
import { BrokenCircuitError } from 'cockatiel';
import { GRPCDeadlineExceededError, GRPCUnavailableError } from 'etcd3';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MemberGuards } from '../../../src/adapters/etcd/member-guard.js';
import type { ProbeResult } from '../../../src/core/cluster/member-health.js';

const log = pino({ level: 'silent' });
const M = ['http://a:2379', 'http://b:2379', 'http://c:2379'];
const [A, B, C] = M as [string, string, string];
const round = (a: ProbeResult, b: ProbeResult, c: ProbeResult): Map<string, ProbeResult> => new Map([[A, a], [B, b], [C, c]]);

class FakeStream extends EventEmitter {
  cancelled = false;
  cancel(): void {
    this.cancelled = true;
    this.emit('error', new Error('cancelled'));
  }
}

describe('MemberGuards', () => {
  it('blocks calls to an isolated member before they run, so etcd3 tries the next member at once', async () => {
    const g = new MemberGuards(M, log, true);
    g.probeRound(round('ok', 'timeout', 'ok'));
    let ran = false;
    await expect(g.policyFor(B).execute(() => { ran = true; return 1; })).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(ran).toBe(false);
    await expect(g.policyFor(A).execute(() => 7)).resolves.toBe(7);
  });

  it('fails a call in flight with a retryable error the moment its member is isolated, and cancels its streams', async () => {
    const g = new MemberGuards(M, log, true);
    const hanging = g.policyFor(B).execute((_c) => new Promise<number>(() => undefined));
    const stream = new FakeStream();
    await g.policyFor(B).execute(() => stream);
    expect(g.streamsOn(B)).toBe(1);
    g.probeRound(round('ok', 'no-leader', 'ok'));
    await expect(hanging).rejects.toBeInstanceOf(GRPCUnavailableError);
    expect(stream.cancelled).toBe(true);
    expect(g.streamsOn(B)).toBe(0);
    expect(g.view().find((v) => v.member === B)).toMatchObject({ isolated: true, reason: 'no-leader' });
  });

  it('a call that waited a probe deadline in vain isolates its member until a good probe (only when probes run)', async () => {
    let now = 0;
    const timesOut = (): Promise<never> => { now += 500; return Promise.reject(new GRPCDeadlineExceededError('deadline')); };
    const probed = new MemberGuards(M, log, true, () => now, 500);
    await expect(probed.policyFor(C).execute(timesOut)).rejects.toThrow();
    expect(probed.view().find((v) => v.member === C)?.isolated).toBe(true);
    probed.probeRound(round('ok', 'ok', 'ok'));
    expect(probed.view().find((v) => v.member === C)?.isolated).toBe(false);

    const unprobed = new MemberGuards(M, log, false, () => now, 500);
    await expect(unprobed.policyFor(C).execute(timesOut)).rejects.toThrow();
    expect(unprobed.view().every((v) => !v.isolated)).toBe(true);
  });

  it('a member that cannot be reached is isolated at once', async () => {
    const g = new MemberGuards(M, log, true);
    const refused = new GRPCUnavailableError('14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED');
    await expect(g.policyFor(B).execute(() => Promise.reject(refused))).rejects.toBe(refused);
    expect(g.view().find((v) => v.member === B)).toMatchObject({ isolated: true, reason: 'call-failed' });
  });

  it('what is no fault of the member isolates nobody: etcd\'s answers in an election, a deadline spent before, the guard\'s resends', async () => {
    let now = 1000;
    const g = new MemberGuards(M, log, true, () => now, 500);
    const answer = new GRPCUnavailableError('14 UNAVAILABLE: etcdserver: leader changed');
    await expect(g.policyFor(A).execute(() => { now += 600; return Promise.reject(answer); })).rejects.toBe(answer);
    // etcd3 retries a call with the deadline it had: on the next member it expires at once.
    const expired = new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED: Deadline exceeded after 0.001s');
    await expect(g.policyFor(B).execute(() => { now += 1; return Promise.reject(expired); })).rejects.toBe(expired);
    const inFlight = g.policyFor(C).execute(() => new Promise<number>(() => undefined));
    g.leaderChanged(now + 1);
    await expect(inFlight).rejects.toBeInstanceOf(GRPCUnavailableError);
    expect(g.view().filter((v) => v.isolated)).toEqual([]);
  });

  it('the leader cut off: the healthy members keep taking calls while the probes find the silent one', async () => {
    let now = 0;
    const g = new MemberGuards(M, log, true, () => now, 500);
    const [pa, pb, pc] = [g.policyFor(A), g.policyFor(B), g.policyFor(C)];
    // A linearizable read with a 300 ms deadline waits on A for the lost leader C; etcd3 retries it on B, where the
    // deadline has passed, three times (what the partition test's logs showed).
    const read = pa.execute(() => { now += 300; return Promise.reject(new GRPCDeadlineExceededError('deadline')); });
    await expect(read).rejects.toThrow();
    for (let i = 0; i < 3; i++) {
      await expect(pb.execute(() => Promise.reject(new GRPCDeadlineExceededError('deadline')))).rejects.toThrow();
    }
    // Before the probes have found C, A and B still take calls (they were isolated, leaving only the silent C).
    await expect(pa.execute(() => 1)).resolves.toBe(1);
    await expect(pb.execute(() => 2)).resolves.toBe(2);
    const stuck = pc.execute(() => new Promise<number>(() => undefined));
    g.probeRound(round('ok', 'ok', 'timeout'));
    await expect(stuck).rejects.toBeInstanceOf(GRPCUnavailableError);
    await expect(pa.execute(() => 1)).resolves.toBe(1);
    await expect(pb.execute(() => 2)).resolves.toBe(2);
    await expect(pc.execute(() => 3)).rejects.toBeInstanceOf(BrokenCircuitError);
  });

  it('a member the probes readmit takes calls at once: its isolation does not leave a breaker open behind', async () => {
    const g = new MemberGuards(M, log, true);
    const pb = g.policyFor(B);
    const hanging = [1, 2, 3].map(() => pb.execute(() => new Promise<number>(() => undefined)));
    g.probeRound(round('ok', 'timeout', 'ok'));
    for (const h of hanging) await expect(h).rejects.toBeInstanceOf(GRPCUnavailableError);
    g.probeRound(round('ok', 'ok', 'ok'));
    g.probeRound(round('ok', 'ok', 'ok'));
    expect(g.view().every((v) => !v.isolated)).toBe(true);
    await expect(pb.execute(() => 7)).resolves.toBe(7);
  });

  it('sends calls started before a leader change again, and leaves later ones alone', async () => {
    let now = 1000;
    const g = new MemberGuards(M, log, true, () => now);
    const old = g.policyFor(A).execute(() => new Promise<number>(() => undefined));
    now = 2000;
    let resolveNew!: (v: number) => void;
    const later = g.policyFor(B).execute(() => new Promise<number>((r) => { resolveNew = r; }));
    expect(g.leaderChanged(1500)).toBe(1);
    await expect(old).rejects.toBeInstanceOf(GRPCUnavailableError);
    resolveNew(5);
    await expect(later).resolves.toBe(5);
  });

  it('cancelStreams cancels every open stream of the client', async () => {
    const g = new MemberGuards(M, log, true);
    const s1 = new FakeStream();
    const s2 = new FakeStream();
    await g.policyFor(A).execute(() => s1);
    await g.policyFor(C).execute(() => s2);
    expect(g.cancelStreams()).toBe(2);
    expect([s1.cancelled, s2.cancelled]).toEqual([true, true]);
  });
});
