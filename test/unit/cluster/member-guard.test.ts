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

  it('a call that timed out isolates its member until a good probe (only when probes run)', async () => {
    const probed = new MemberGuards(M, log, true);
    await expect(probed.policyFor(C).execute(() => Promise.reject(new GRPCDeadlineExceededError('deadline')))).rejects.toThrow();
    expect(probed.view().find((v) => v.member === C)?.isolated).toBe(true);
    probed.probeRound(round('ok', 'ok', 'ok'));
    expect(probed.view().find((v) => v.member === C)?.isolated).toBe(false);

    const unprobed = new MemberGuards(M, log, false);
    await expect(unprobed.policyFor(C).execute(() => Promise.reject(new GRPCDeadlineExceededError('deadline')))).rejects.toThrow();
    expect(unprobed.view().every((v) => !v.isolated)).toBe(true);
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

  it('its own rejections and etcd\'s election answers never isolate a member (a leader change isolates no follower)', async () => {
    let now = 1000;
    const g = new MemberGuards(M, log, true, () => now);
    const onA = g.policyFor(A).execute(() => new Promise<number>(() => undefined));
    const onB = g.policyFor(B).execute(() => new Promise<number>(() => undefined));
    now = 2000;
    expect(g.leaderChanged(1500)).toBe(2);
    await expect(onA).rejects.toBeInstanceOf(GRPCUnavailableError);
    await expect(onB).rejects.toBeInstanceOf(GRPCUnavailableError);
    for (const msg of ['etcdserver: no leader', 'etcdserver: leader changed']) {
      await expect(g.policyFor(C).execute(() => Promise.reject(new GRPCUnavailableError(msg)))).rejects.toThrow(msg);
    }
    expect(g.view().filter((v) => v.isolated)).toEqual([]);
    // A member isolated by a probe fails its calls in flight: that does not cascade to another member either.
    const hanging = g.policyFor(A).execute(() => new Promise<number>(() => undefined));
    g.probeRound(round('timeout', 'no-leader', 'no-leader'));
    await expect(hanging).rejects.toBeInstanceOf(GRPCUnavailableError);
    expect(g.view().filter((v) => v.isolated).map((v) => v.member)).toEqual([A]);
    // A real fault of a healthy-looking member still counts.
    await expect(g.policyFor(B).execute(() => Promise.reject(new GRPCUnavailableError('connect ECONNREFUSED')))).rejects.toThrow();
    expect(g.view().filter((v) => v.isolated).map((v) => v.member)).toEqual([A, B]);
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
