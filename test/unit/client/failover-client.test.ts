/**
 * The failover client against two real HTTP servers standing in for two installations (the second with channels
 * the first lacks, so offsets differ): a scroll that fails over and falls back mid-way returns every channel exactly
 * once and in order; a 429 with Retry-After moves it; a frozen preferred server (accepts, never answers) costs the
 * session one timeout and is then only probed in the background; a watch stream that moves — its server gone or
 * silent — gets a `reset` before the new stream, never a silent gap. With real servers: test/integration/failover.test.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FailoverClient } from '../../../src/adapters/cf-client/failover-client.js';
import { compareNames } from '../../../src/core/directory/name-order.js';

interface Fake {
  server: Server;
  url: string;
  mode: 'ok' | '503' | '429' | 'down' | 'hang';
  hits: number;
  paths: string[];
  streams: ServerResponse[];
}

const NAMES = Array.from({ length: 230 }, (_, i) => `SR:${String(i).padStart(3, '0')}`).sort(compareNames);

async function fake(names: readonly string[]): Promise<Fake> {
  const f: Fake = { server: createServer(), url: '', mode: 'ok', hits: 0, paths: [], streams: [] };
  f.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    f.hits++;
    f.paths.push(new URL(req.url ?? '/', 'http://x').pathname);
    if (f.mode === 'hang') return; // a frozen server: the connection is accepted, nothing is ever answered
    if (f.mode === 'down') {
      req.socket.destroy();
      return;
    }
    if (f.mode === '503' || f.mode === '429') {
      res.writeHead(Number(f.mode), f.mode === '429' ? { 'retry-after': '0' } : {}).end('{}');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/healthz') {
      res.writeHead(200).end('{"ok":true}');
      return;
    }
    if (url.pathname === '/api/v1/watch') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: sync\nid: 10\ndata: {"revision":10}\n\n`);
      f.streams.push(res);
      return;
    }
    const size = Number(url.searchParams.get('~size') ?? 10000);
    if (url.pathname.startsWith('/ChannelFinder/resources/scroll')) {
      // The channels after the name in the path (search-after), as pvsync serve's scroll answers.
      const after = url.pathname.length > '/ChannelFinder/resources/scroll/'.length ? decodeURIComponent(url.pathname.split('/').at(-1)!) : null;
      const page = names.filter((n) => after === null || compareNames(n, after) > 0).slice(0, size).map((name) => ({ name }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: page.at(-1)?.name ?? null, channels: page }));
      return;
    }
    const from = Number(url.searchParams.get('~from') ?? 0);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(names.slice(from, from + size).map((name) => ({ name }))));
  });
  await new Promise<void>((r) => f.server.listen(0, '127.0.0.1', r));
  f.url = `http://127.0.0.1:${(f.server.address() as AddressInfo).port}`;
  return f;
}

describe('FailoverClient', () => {
  const servers: Fake[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      for (const r of s.streams) r.destroy();
      s.server.closeAllConnections();
      await new Promise((r) => s.server.close(r));
    s.server.closeAllConnections();
    }
  });

  it('a scroll that fails over and falls back returns every channel once, in order', async () => {
    const a = await fake(NAMES);
    // The other installation has three more channels sorting first: its offsets differ.
    const b = await fake(['AA:1', 'AA:2', 'AA:3', ...NAMES].sort(compareNames));
    servers.push(a, b);
    const moves: string[] = [];
    const client = new FailoverClient({
      endpoints: [{ installation: 'near', url: a.url }, { installation: 'far', url: b.url }],
      probeBaseMs: 1, probeCapMs: 5, timeoutMs: 2000, onMove: (from, to) => moves.push(`${from.installation}->${to.installation}`),
    });
    const got: string[] = [];
    let hitsBack = 0;
    for await (const ch of client.scroll('~name=SR:*', 20)) {
      got.push(ch.name);
      if (got.length === 45) a.mode = 'down'; // mid-page: the next page comes from "far"
      if (got.length === 110) a.mode = '503';
      if (got.length === 150) {
        // The background probe finds it again (the scroll waiting meanwhile): the next pages come from "near".
        a.mode = 'ok';
        const end = Date.now() + 5000;
        while (client.current.installation !== 'near' && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
        hitsBack = a.hits;
      }
    }
    expect(got).toEqual(NAMES);
    expect(moves[0]).toBe('near->far');
    expect(moves.at(-1)).toBe('far->near');
    expect(client.current.installation).toBe('near');
    expect(a.hits - hitsBack).toBe(4); // the pages after channel 150: 160, 180, 200, 220
    client.close();
  });

  it('moves on 429 and keeps answering while the preferred one backs off', async () => {
    const a = await fake(NAMES);
    const b = await fake(NAMES);
    servers.push(a, b);
    a.mode = '429';
    const client = new FailoverClient({ endpoints: [{ installation: 'near', url: a.url }, { installation: 'far', url: b.url }], probeBaseMs: 60_000 });
    const r1 = await client.get('/ChannelFinder/resources/channels?~size=1');
    expect(r1.endpoint.installation).toBe('far');
    const hits = a.hits;
    await client.get('/ChannelFinder/resources/channels?~size=1');
    expect(a.hits).toBe(hits); // not probed again before its back-off
    a.mode = 'down';
    b.mode = 'down';
    await expect(client.get('/x')).rejects.toMatchObject({ code: 'PVS_UNAVAILABLE' });
    client.close();
  });

  it('a watch stream that moves gets a reset before the new stream, and moves back', async () => {
    const a = await fake(NAMES);
    const b = await fake(NAMES);
    servers.push(a, b);
    const client = new FailoverClient({ endpoints: [{ installation: 'near', url: a.url }, { installation: 'far', url: b.url }], probeBaseMs: 50, probeCapMs: 100 });
    const events: string[] = [];
    const ctl = new AbortController();
    const done = client.watch('~name=*', (ev) => events.push(`${ev.installation}:${ev.type}`), ctl.signal);
    const until = async (cond: () => boolean): Promise<void> => {
      const end = Date.now() + 5000;
      while (!cond()) {
        if (Date.now() > end) throw new Error(`timeout: ${events.join(',')}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await until(() => a.streams.length === 1);
    a.streams[0]!.write('event: change\nid: 11\ndata: {"revision":11}\n\n');
    await until(() => events.includes('near:change'));
    a.mode = 'down';
    a.streams[0]!.destroy(); // the near installation dies mid-stream
    await until(() => b.streams.length === 1 && events.includes('far:sync'));
    a.mode = 'ok';
    await until(() => a.streams.length === 2 && events.filter((e) => e === 'near:sync').length === 2);
    ctl.abort();
    await done;
    expect(events).toEqual(['near:sync', 'near:change', 'far:reset', 'far:sync', 'near:reset', 'near:sync']);
  });

  it('while the preferred server is frozen the session goes on elsewhere, never waiting on a probe', async () => {
    const a = await fake(NAMES);
    const b = await fake(NAMES);
    servers.push(a, b);
    const client = new FailoverClient({
      endpoints: [{ installation: 'near', url: a.url }, { installation: 'far', url: b.url }], timeoutMs: 300, probeBaseMs: 20, probeCapMs: 40,
    });
    const got: string[] = [];
    let pathsAtHang = 0;
    for await (const ch of client.scroll('~name=SR:*', 10)) {
      got.push(ch.name);
      if (got.length === 15) {
        a.mode = 'hang';
        pathsAtHang = a.paths.length;
      }
      // Slow enough that probes are due between the pages served by "far".
      if (got.length % 10 === 0) await new Promise((r) => setTimeout(r, 15));
    }
    expect(got).toEqual(NAMES);
    expect(client.current.installation).toBe('far');
    // After the one page that timed out there, "near" only saw probes: no page waited on it again.
    const after = a.paths.slice(pathsAtHang);
    expect(after[0]).toBe(`/ChannelFinder/resources/scroll/${encodeURIComponent(NAMES[19]!)}`);
    expect(after.slice(1).length).toBeGreaterThan(0);
    expect(new Set(after.slice(1))).toEqual(new Set(['/healthz']));
    client.close();
  });

  it('a watch stream that goes silent (frozen server) is taken as lost and moves with a reset', async () => {
    const a = await fake(NAMES);
    const b = await fake(NAMES);
    servers.push(a, b);
    const client = new FailoverClient({ endpoints: [{ installation: 'near', url: a.url }, { installation: 'far', url: b.url }], watchIdleMs: 200, timeoutMs: 200, probeBaseMs: 50, probeCapMs: 100 });
    const events: string[] = [];
    const ctl = new AbortController();
    const done = client.watch('~name=*', (ev) => events.push(`${ev.installation}:${ev.type}`), ctl.signal);
    const end = Date.now() + 5000;
    while (!events.includes('near:sync') && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    a.mode = 'hang'; // its open stream stays open, silent; probes get no answer
    while (!events.includes('far:sync') && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    ctl.abort();
    await done;
    client.close();
    expect(events).toEqual(['near:sync', 'far:reset', 'far:sync']);
  });
});
