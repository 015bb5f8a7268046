import { request } from 'node:http';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/adapters/http/app.js';
import { Directory } from '../../../src/core/directory/directory.js';
import { parseChannelQuery } from '../../../src/core/query/parse-query.js';
import { alive, info, rec } from '../directory/build-events.js';

const LIMITS = { defaultSize: 10_000, maxSize: 10_000 };

// Below the ephemeral range (32768+), where a listener could collide with an outgoing connection.
async function listenLow(app: ReturnType<typeof buildApp>, salt: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const candidate = 20000 + ((process.pid * 7 + salt * 977 + attempt * 131) % 10000);
    try {
      await app.listen({ port: candidate, host: '127.0.0.1' });
      return candidate;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
  throw new Error('no free port');
}

// A few requests through a real socket: what inject() cannot show (framing, headers on the wire).
describe('HTTP app over a socket', () => {
  const d = new Directory();
  d.apply([info('I@h'), alive('I@h'), rec('I@h', 'X:1'), rec('I@h', 'X:2')], 3);
  const app = buildApp({ directory: d, registry: new Registry(), health: () => ({ ok: true, etcd: null, revision: 3 }),
    serviceInfo: { version: 't', backend: () => ({ status: 'Connected' }) } });
  let port = 0;

  beforeAll(async () => {
    port = await listenLow(app, 0);
  });
  afterAll(async () => {
    await app.close();
  });

  const raw = (path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });

  it('serves a channel list', async () => {
    const r = await fetch(`http://127.0.0.1:${port}/ChannelFinder/resources/channels?~name=X*`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { name: string }[]).map((c) => c.name)).toEqual(['X:1', 'X:2']);
  });

  it('keeps a large page intact while a slow client reads it, however many pages are served meanwhile', async () => {
    // Pages of several MB do not fit the socket buffers: the server still writes the first while others are built
    // in buffers of the same size (pooled once a response is finished). A buffer reused too early would corrupt it.
    const big = new Directory();
    const events = [info('I@h'), alive('I@h')];
    for (let i = 0; i < 3000; i++) events.push(rec('I@h', `A:${i}`, { desc: 'a'.repeat(3000) }), rec('I@h', `B:${i}`, { desc: 'b'.repeat(3000) }));
    big.apply(events, 1);
    const bigApp = buildApp({ directory: big, registry: new Registry(), health: () => ({ ok: true, etcd: null, revision: 1 }),
      serviceInfo: { version: 't', backend: () => ({ status: 'Connected' }) } });
    const bigPort = await listenLow(bigApp, 1);
    const page = (prefix: string, pauseMs: number): Promise<string> => new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: bigPort, path: `/ChannelFinder/resources/channels?~name=${prefix}*` }, (res) => {
        const chunks: Buffer[] = [];
        let paused = false;
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          if (!paused && pauseMs > 0) {
            paused = true;
            res.pause();
            setTimeout(() => res.resume(), pauseMs);
          }
        });
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      });
      req.on('error', reject);
      req.end();
    });
    try {
      const slow = page('A', 300);
      const others: string[] = [];
      for (let i = 0; i < 5; i++) others.push(await page('B', 0));
      const expectA = JSON.stringify(big.search(parseChannelQuery({ '~name': 'A*' }, LIMITS)).channels);
      const expectB = JSON.stringify(big.search(parseChannelQuery({ '~name': 'B*' }, LIMITS)).channels);
      expect(expectA.length).toBeGreaterThan(10_000_000);
      expect(await slow).toBe(expectA);
      for (const b of others) expect(b).toBe(expectB);
    } finally {
      await bigApp.close();
    }
  });

  it('accepts a GET with Content-Type: application/json and Content-Length: 0', async () => {
    const r = await raw('/ChannelFinder/resources/channels/count',
      { 'content-type': 'application/json', 'content-length': '0' });
    expect(r).toEqual({ status: 200, body: '2' });
  });
});
