/**
 * The failover client against two real HTTP servers standing in for two installations (same channels, different
 * offsets): a scroll that fails over and falls back mid-way returns every channel exactly once and in order; a 429
 * with Retry-After moves it; a watch stream that moves gets a `reset` before the new stream, never a silent gap.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FailoverClient } from '../../../src/adapters/cf-client/failover-client.js';
import { compareNames } from '../../../src/core/directory/name-order.js';

interface Fake {
  server: Server;
  url: string;
  mode: 'ok' | '503' | '429' | 'down';
  hits: number;
  streams: ServerResponse[];
}

const NAMES = Array.from({ length: 230 }, (_, i) => `SR:${String(i).padStart(3, '0')}`).sort(compareNames);

async function fake(names: readonly string[]): Promise<Fake> {
  const f: Fake = { server: createServer(), url: '', mode: 'ok', hits: 0, streams: [] };
  f.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    f.hits++;
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
    const from = Number(url.searchParams.get('~from') ?? 0);
    const size = Number(url.searchParams.get('~size') ?? 10000);
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
    for await (const ch of client.scroll('~name=SR:*', 20)) {
      got.push(ch.name);
      if (got.length === 45) a.mode = 'down'; // mid-page: the next page comes from "far"
      if (got.length === 110) a.mode = '503';
      if (got.length === 150) a.mode = 'ok'; // the probe finds it again: back to "near"
    }
    expect(got).toEqual(NAMES);
    expect(moves[0]).toBe('near->far');
    expect(moves.at(-1)).toBe('far->near');
    expect(client.current.installation).toBe('near');
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
});
