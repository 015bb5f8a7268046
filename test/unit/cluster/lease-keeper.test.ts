import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { LeaseKeeper, type LeaseTransport } from '../../../src/adapters/etcd/lease-keeper.js';
import { PvsError } from '../../../src/core/errors.js';

const log = pino({ level: 'silent' });

/**
 * A fake etcd: `answer` decides per attempt (by number) whether it is answered (after `rttMs`), hangs, fails after a
 * round trip (`refuse`) or fails without one (`isolated`: the client skips every member, as etcd3 does).
 */
function fakeTransport(answer: (n: number) => 'ok' | 'hang' | 'refuse' | 'isolated' | 'gone', rttMs = 5) {
  const sent: number[] = [];
  const t: LeaseTransport & { sent: number[]; revoked: string[] } = {
    sent,
    revoked: [],
    grant: async (ttlS) => ({ id: '42', ttlS }),
    keepAlive: (_id, timeoutMs) => {
      const n = sent.push(Date.now());
      const a = answer(n);
      return new Promise<number>((resolve, reject) => {
        if (a === 'hang') return; // a silent member: the keeper's own deadline must end it
        if (a === 'isolated') return void reject(new PvsError('PVS_ETCD_UNAVAILABLE', 'etcd member is isolated', { retryable: true }));
        if (a === 'refuse') return void setTimeout(() => reject(new PvsError('PVS_ETCD_UNAVAILABLE', 'refused', { retryable: true })), 1);
        if (rttMs >= timeoutMs) return;
        setTimeout(() => resolve(a === 'gone' ? 0 : 2), rttMs);
      });
    },
    revoke: async (id) => { t.revoked.push(id); },
    release: () => undefined,
  };
  return t;
}

describe('LeaseKeeper', () => {
  beforeEach(() => { vi.useFakeTimers({ now: 1_000_000 }); });
  afterEach(() => { vi.useRealTimers(); });

  it('sends a keep-alive every TTL/8 and remembers when the last acknowledged one was sent', async () => {
    const t = fakeTransport(() => 'ok');
    const k = new LeaseKeeper(t, { ttlS: 2, log });
    const acks: number[] = [];
    k.on('ack', (at: number) => acks.push(at));
    expect(await k.grant()).toBe('42');
    expect(k.lastAckSentAt).toBe(1_000_000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.sent.length).toBe(4);
    expect(acks.slice(0, 3)).toEqual([1_000_250, 1_000_500, 1_000_750]);
    expect(k.lastAckSentAt).toBe(t.sent.at(-2));
    k.release();
  });

  it('replaces an attempt that is not answered within its deadline at once, so a silent member never costs the lease', async () => {
    // Every other attempt goes to a member that answers nothing, for 10 TTLs.
    const t = fakeTransport((n) => (n % 2 === 1 ? 'hang' : 'ok'));
    const k = new LeaseKeeper(t, { ttlS: 2, log });
    const lost = vi.fn();
    k.on('lost', lost);
    await k.grant();
    let worstGap = 0;
    let prev = k.lastAckSentAt;
    for (let i = 0; i < 200; i++) {
      await vi.advanceTimersByTimeAsync(100);
      worstGap = Math.max(worstGap, Date.now() - k.lastAckSentAt);
      prev = k.lastAckSentAt;
    }
    expect(prev).toBeGreaterThan(1_000_000);
    expect(lost).not.toHaveBeenCalled();
    // The archiver stops itself at TTL − margin (1.4 s with TTL 2 s): the gap must stay well below.
    expect(worstGap).toBeLessThan(1000);
    k.release();
  });

  it('retries a refused attempt at once instead of waiting for the next interval', async () => {
    const t = fakeTransport((n) => (n <= 3 ? 'refuse' : 'ok'));
    const k = new LeaseKeeper(t, { ttlS: 2, log });
    await k.grant();
    await vi.advanceTimersByTimeAsync(260);
    expect(t.sent.length).toBeGreaterThanOrEqual(4);
    expect(k.lastAckSentAt).toBeGreaterThan(1_000_000);
    k.release();
  });

  it('with every member isolated, replaces at most three failed attempts per interval instead of spinning', async () => {
    let down = true;
    // A bound on the attempts, so that a keeper that spins fails here instead of hanging the test.
    const t = fakeTransport((n) => (n > 1000 ? 'hang' : down ? 'isolated' : 'ok'));
    const k = new LeaseKeeper(t, { ttlS: 2, log });
    const lost = vi.fn();
    k.on('lost', lost);
    await k.grant();
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.sent.length).toBe(4 * 4); // four intervals, each its attempt and three replacements
    down = false; // a member is readmitted: the next interval's attempt keeps the lease
    await vi.advanceTimersByTimeAsync(300);
    expect(k.lastAckSentAt).toBeGreaterThan(1_000_000 + 1000);
    expect(lost).not.toHaveBeenCalled();
    k.release();
  });

  it('reports the lease lost when etcd says it is gone, and stops sending', async () => {
    const t = fakeTransport(() => 'gone');
    const k = new LeaseKeeper(t, { ttlS: 2, log });
    const lost = vi.fn();
    k.on('lost', lost);
    await k.grant();
    await vi.advanceTimersByTimeAsync(600);
    expect(lost).toHaveBeenCalledWith('expired');
    expect(lost).toHaveBeenCalledTimes(1);
    const n = t.sent.length;
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.sent.length).toBe(n);
    expect(k.isEnded).toBe(true);
  });

  it('reports the lease lost when nothing was acknowledged for a whole TTL', async () => {
    const t = fakeTransport(() => 'hang');
    const k = new LeaseKeeper(t, { ttlS: 2, log });
    const lost = vi.fn();
    k.on('lost', lost);
    await k.grant();
    await vi.advanceTimersByTimeAsync(1900);
    expect(lost).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(400);
    expect(lost).toHaveBeenCalledWith('deadline');
  });

  it('never has more than three attempts in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const t = fakeTransport(() => 'hang');
    t.keepAlive = (_id, ms) => {
      inFlight++;
      most = Math.max(most, inFlight);
      // Like gRPC: the call fails at its deadline.
      return new Promise<number>((_, reject) => setTimeout(() => {
        inFlight--;
        reject(new PvsError('PVS_ETCD_UNAVAILABLE', 'deadline exceeded', { retryable: true }));
      }, ms));
    };
    const k = new LeaseKeeper(t, { ttlS: 2, log });
    await k.grant();
    await vi.advanceTimersByTimeAsync(1500);
    expect(most).toBe(3);
    k.release();
  });

  it('revokes through the transport and stops', async () => {
    const t = fakeTransport(() => 'ok');
    const k = new LeaseKeeper(t, { ttlS: 2, log });
    await k.grant();
    expect(await k.revoke()).toBeNull();
    expect(t.revoked).toEqual(['42']);
    const n = t.sent.length;
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.sent.length).toBe(n);
  });
});
