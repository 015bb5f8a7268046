import { request } from 'node:http';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/adapters/http/app.js';
import { Directory } from '../../../src/core/directory/directory.js';
import { alive, info, rec } from '../directory/build-events.js';

// A few requests through a real socket: what inject() cannot show (framing, headers on the wire).
describe('HTTP app over a socket', () => {
  const d = new Directory();
  d.apply([info('I@h'), alive('I@h'), rec('I@h', 'X:1'), rec('I@h', 'X:2')], 3);
  const app = buildApp({ directory: d, registry: new Registry(), health: () => ({ ok: true, etcd: null, revision: 3 }),
    serviceInfo: { version: 't', backend: () => ({ status: 'Connected' }) } });
  let port = 0;

  beforeAll(async () => {
    // Below the ephemeral range (32768+), where a listener could collide with an outgoing connection.
    for (let attempt = 0; attempt < 20 && port === 0; attempt++) {
      const candidate = 20000 + ((process.pid * 7 + attempt * 131) % 10000);
      try {
        await app.listen({ port: candidate, host: '127.0.0.1' });
        port = candidate;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
    }
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

  it('accepts a GET with Content-Type: application/json and Content-Length: 0', async () => {
    const r = await raw('/ChannelFinder/resources/channels/count',
      { 'content-type': 'application/json', 'content-length': '0' });
    expect(r).toEqual({ status: 200, body: '2' });
  });
});
