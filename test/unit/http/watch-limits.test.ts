/**
 * The watch stream under hostile or unlucky clients, over real sockets: streams capped per client address and in
 * total (429 with Retry-After), a `Last-Event-ID` beyond etcd refused at once, one this replica does not reach in
 * time answered 503 without leaving a waiter behind, and closing the app ends every open stream.
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../../src/adapters/http/app.js';
import { RevisionWaiters } from '../../../src/adapters/http/revision-waiters.js';
import type { ChangeListener, WatchDeps } from '../../../src/adapters/http/watch-route.js';
import { Directory } from '../../../src/core/directory/directory.js';
import { ChangeJournal } from '../../../src/core/watch/journal.js';
import { openSse as open, type SseStream as Stream } from '../../support/sse-stream.js';
import { alive, info, rec } from '../directory/build-events.js';

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}

function server(watch: Partial<WatchDeps> = {}, holdMs = 10) {
  const d = new Directory();
  const listeners = new Set<ChangeListener>();
  const journal = new ChangeJournal();
  const waiters = new RevisionWaiters(() => d.revision);
  const apply = (events: Parameters<Directory['apply']>[0], revision: number): void => {
    d.apply(events, revision);
    journal.record(revision, revision === 5 ? null : events.map((e) => ('name' in e ? e.name : '')));
    for (const l of listeners) l(revision, events.map((e) => ('name' in e ? e.name : '')));
    waiters.applied(revision);
  };
  apply([info('I@h'), alive('I@h'), rec('I@h', 'X:1')], 5);
  const app = buildApp({
    directory: d, registry: new Registry(), health: () => ({ ok: true, etcd: null, revision: d.revision }),
    serviceInfo: { version: 't', backend: () => ({ status: 'Connected' }) },
    refusalHold: { holdMs },
    watch: {
      journal, waitFor: (r, ms) => waiters.wait(r, ms),
      subscribe: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      ...watch,
    },
  });
  return { app, apply, waiters, port: async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const a = app.server.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  } };
}

describe('watch stream limits', () => {
  let s: ReturnType<typeof server>;
  afterEach(async () => {
    await s.app.close();
  });

  it('caps streams per client address (429 with Retry-After) and frees a slot when a stream ends', async () => {
    s = server({ maxStreamsPerClient: 2, maxStreams: 10 });
    const port = await s.port();
    const a = await open(port, '/api/v1/watch?~name=X*');
    const b = await open(port, '/api/v1/watch');
    expect([a.status, b.status]).toEqual([200, 200]);
    const c = await open(port, '/api/v1/watch');
    expect(c.status).toBe(429);
    expect(Number(c.headers['retry-after'])).toBeGreaterThan(0);
    expect(c.headers['x-pvsync-code']).toBe('PVS_RATE_LIMITED');
    await c.ended;
    expect(JSON.parse(c.text())).toMatchObject({ status: 429, path: '/api/v1/watch' });
    // Another address still gets its streams.
    expect((await open(port, '/api/v1/watch', {}, '127.0.0.2')).status).toBe(200);
    a.close();
    await a.ended;
    let d: Stream | null = null;
    for (let i = 0; i < 100 && (d === null || d.status !== 200); i++) {
      d = await open(port, '/api/v1/watch');
      if (d.status !== 200) await new Promise((r) => setTimeout(r, 20));
    }
    expect(d?.status).toBe(200);
  });

  it('caps streams in total; a refusal is held back (the tarpit) before it is sent', async () => {
    s = server({ maxStreamsPerClient: 5, maxStreams: 2 }, 300);
    const port = await s.port();
    expect((await open(port, '/api/v1/watch', {}, '127.0.0.3')).status).toBe(200);
    expect((await open(port, '/api/v1/watch', {}, '127.0.0.4')).status).toBe(200);
    const t0 = performance.now();
    const full = await open(port, '/api/v1/watch', {}, '127.0.0.5');
    expect(full.status).toBe(429);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    await full.ended;
    expect(JSON.parse(full.text()).message).toMatch(/maximum of 2 watch streams/);
  });

  it('refuses at once a Last-Event-ID beyond etcd, and answers 503 when this replica does not reach it in time', async () => {
    const etcdRevision = vi.fn(async () => 7);
    s = server({ etcdRevision, aheadWaitMs: 100 });
    const port = await s.port();
    const future = await open(port, '/api/v1/watch', { 'last-event-id': '1000000000000' });
    expect(future.status).toBe(400);
    await future.ended;
    expect(JSON.parse(future.text()).message).toMatch(/beyond etcd's current revision 7/);
    const lagging = await open(port, '/api/v1/watch', { 'last-event-id': '7' });
    expect(lagging.status).toBe(503);
    expect(lagging.headers['x-pvsync-code']).toBe('PVS_MIRROR_TIMEOUT');
    expect(s.waiters.size).toBe(0);
    // A resume from a replica just ahead streams once this one catches up.
    const pending = open(port, '/api/v1/watch?~name=X*', { 'last-event-id': '6' });
    await until(() => s.waiters.size === 1);
    s.apply([rec('I@h', 'X:2')], 6);
    const caught = await pending;
    expect(caught.status).toBe(200);
    expect(s.waiters.size).toBe(0);
    caught.close();
  });

  it('closing the app ends every open stream instead of waiting for the clients', async () => {
    s = server();
    const port = await s.port();
    const streams = await Promise.all([open(port, '/api/v1/watch'), open(port, '/api/v1/watch?~name=X*')]);
    await until(() => streams.every((x) => x.text().includes('event: sync')));
    const closed = s.app.close();
    await Promise.all(streams.map((x) => x.ended));
    await closed;
    expect(streams.every((x) => x.text().includes('id: 5'))).toBe(true);
  });
});

describe('RevisionWaiters', () => {
  it('ends each wait when its revision is applied, at its deadline, or on cancelAll, and keeps none', async () => {
    vi.useFakeTimers();
    try {
      let rev = 3;
      const w = new RevisionWaiters(() => rev);
      expect(await w.wait(3, 10)).toBe(true);
      const reached = w.wait(5, 1000);
      const late = w.wait(1e12, 1000);
      const cancelled = w.wait(99, 60_000);
      expect(w.size).toBe(3);
      rev = 5;
      w.applied(5);
      expect(await reached).toBe(true);
      vi.advanceTimersByTime(1000);
      expect(await late).toBe(false);
      w.cancelAll();
      expect(await cancelled).toBe(false);
      expect(w.size).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
