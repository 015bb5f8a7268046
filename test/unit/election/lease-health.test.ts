import { describe, expect, it } from 'vitest';
import { HealthTracker } from '../../../src/core/election/health.js';
import { LeaseClock, defaultMarginMs } from '../../../src/core/election/lease-clock.js';

describe('LeaseClock', () => {
  it('counts the deadline from when the acknowledged keep-alive was sent, minus the margin', () => {
    const c = new LeaseClock({ ttlMs: 2000, marginMs: 600 }, 1000);
    expect(c.validUntil).toBe(2400);
    expect(c.earliestExpiry).toBe(3000);
    c.ack(1400);
    expect(c.validUntil).toBe(2800);
    expect(c.valid(2799)).toBe(true);
    expect(c.valid(2800)).toBe(false);
  });

  it('ignores a late answer to an older keep-alive', () => {
    const c = new LeaseClock({ ttlMs: 2000, marginMs: 600 }, 0);
    c.ack(900);
    c.ack(500);
    expect(c.validUntil).toBe(2300);
  });

  it('rejects a margin outside (0, ttl)', () => {
    expect(() => new LeaseClock({ ttlMs: 2000, marginMs: 2000 }, 0)).toThrow(RangeError);
    expect(() => new LeaseClock({ ttlMs: 2000, marginMs: 0 }, 0)).toThrow(RangeError);
  });

  it('default margin is 30 % of the TTL, at least 0.5 s, at most half the TTL', () => {
    for (const ttl of [2000, 5000, 30_000]) {
      const m = defaultMarginMs(ttl);
      expect(m).toBeGreaterThanOrEqual(500);
      expect(m).toBeLessThanOrEqual(ttl / 2);
    }
  });
});

describe('HealthTracker', () => {
  it('an always-check gates campaigning: unknown and failing are unhealthy', () => {
    const h = new HealthTracker({ rise: 1, fall: 2, graceMs: 1000 });
    h.declare('disk', 'always');
    expect(h.healthy(0)).toBe(false);
    expect(h.record('disk', true, 'ok')).toBe(true);
    expect(h.healthy(0)).toBe(true);
    h.record('disk', false, 'full');
    expect(h.healthy(0)).toBe(true); // one failure is not enough (fall 2)
    expect(h.record('disk', false, 'full')).toBe(true);
    expect(h.healthy(0)).toBe(false);
    expect(h.failing(0)).toEqual(['disk']);
    h.record('disk', true, 'ok');
    expect(h.healthy(0)).toBe(true);
  });

  it('active-checks count only while services run, after the grace', () => {
    const h = new HealthTracker({ rise: 1, fall: 2, graceMs: 1000 });
    h.declare('ping', 'active');
    h.record('ping', false, 'refused');
    h.record('ping', false, 'refused');
    expect(h.healthy(0)).toBe(true); // standby: services are stopped, the ping cannot answer
    h.servicesStarted(100);
    h.record('ping', false, 'refused');
    h.record('ping', false, 'refused');
    expect(h.healthy(500)).toBe(true); // within the grace
    expect(h.healthy(1100)).toBe(false);
    h.servicesStopped();
    expect(h.healthy(1200)).toBe(true);
  });

  it('snapshot lists every check with its latest detail', () => {
    const h = new HealthTracker();
    h.declare('a', 'always');
    h.declare('b', 'active');
    h.record('a', true, 'fine');
    expect(h.snapshot()).toEqual([{ name: 'a', ok: true, detail: 'fine' }, { name: 'b', ok: false, detail: 'not run yet' }]);
  });
});
