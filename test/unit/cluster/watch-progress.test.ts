import { EventEmitter } from 'node:events';
import type { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WatchProgress } from '../../../src/adapters/etcd/watch-progress.js';

const log = pino({ level: 'silent' });

/** A fake client: `cluster` is the revision a read returns; `member()` the revision a probe watch's "created" carries (null: silent). */
function fakeClient(state: { cluster: number; member: () => number | null }): Etcd3 {
  const watcher = (): EventEmitter & { cancel(): Promise<void> } => {
    const w = Object.assign(new EventEmitter(), { cancel: async () => undefined });
    const rev = state.member();
    if (rev !== null) setTimeout(() => w.emit('connected', { header: { revision: String(rev) } }), 5);
    return w;
  };
  return {
    get: () => ({ options: () => ({ exec: async () => ({ header: { revision: String(state.cluster) }, kvs: [] }) }) }),
    watch: () => ({ key: () => ({ watcher }) }),
  } as unknown as Etcd3;
}

describe('WatchProgress', () => {
  beforeEach(() => { vi.useFakeTimers({ now: 0 }); });
  afterEach(() => { vi.useRealTimers(); });

  it('a stream that answers at the cluster revision stays proven: lag below one round', async () => {
    const state = { cluster: 10, member: (): number | null => state.cluster };
    const reset = vi.fn(() => 1);
    const p = new WatchProgress({ client: fakeClient(state), probeKey: 'k', watching: () => true, resetStreams: reset, log });
    p.start();
    for (let i = 0; i < 40; i++) {
      state.cluster++;
      await vi.advanceTimersByTimeAsync(100);
      expect(p.lag().ms).toBeLessThan(600);
    }
    expect(p.lag().revisions).toBeLessThanOrEqual(3);
    expect(reset).not.toHaveBeenCalled();
    p.stop();
  });

  it('a silent stream is noticed: the lag grows and the streams are moved after stallMs, once per stallMs', async () => {
    const state = { cluster: 10, member: (): number | null => null };
    const reset = vi.fn(() => 1);
    const p = new WatchProgress({ client: fakeClient(state), probeKey: 'k', watching: () => true, resetStreams: reset, log, stallMs: 1500, timeoutMs: 500 });
    p.proven(10);
    p.start();
    state.cluster = 20;
    await vi.advanceTimersByTimeAsync(1400);
    expect(reset).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1000);
    expect(reset).toHaveBeenCalledTimes(1);
    expect(p.lag()).toMatchObject({ revisions: 10, clusterRevision: 20, provenRevision: 10 });
    expect(p.lag().ms).toBeGreaterThan(1500);
    await vi.advanceTimersByTimeAsync(1000);
    expect(reset).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1500);
    expect(reset).toHaveBeenCalledTimes(2);
    p.stop();
  });

  it('a stream on a member behind the cluster proves nothing', async () => {
    const state = { cluster: 50, member: (): number | null => 40 };
    const p = new WatchProgress({ client: fakeClient(state), probeKey: 'k', watching: () => true, log });
    p.proven(40);
    p.start();
    await vi.advanceTimersByTimeAsync(2000);
    expect(p.lag()).toMatchObject({ revisions: 10 });
    expect(p.lag().ms).toBeGreaterThanOrEqual(2000);
    p.stop();
  });
});
