/**
 * `pvsync serve` as a process (the built CLI) against the real cluster: its flags (port, auth file from
 * `pvsync auth hash-password`, body limit, login limit, watch caps), anonymous writes refused with 401 whatever the
 * body, SIGTERM with open watch streams exiting with code 0, and a watch resumed with Last-Event-ID after the
 * restart getting the changes it missed meanwhile (not a reset).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyspace } from '../../src/core/keyspace.js';
import { etcdClient, testEndpoints, uniqueRoot } from '../support/cluster.js';
import { freePorts } from '../support/free-ports.js';
import { startPvsync, until, type PvsyncProcess } from '../support/processes.js';
import { openSse, type SseStream } from '../support/sse-stream.js';

const BIN = fileURLToPath(new URL('../../bin/pvsync.js', import.meta.url));
const R = '/ChannelFinder/resources';
const IOC = 'sp@hostP';

interface Reply {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

describe('pvsync serve as a process', () => {
  const root = uniqueRoot('serve-process');
  const keys = new Keyspace(root);
  const dir = mkdtempSync(join(tmpdir(), 'pvsync-serve-'));
  const authFile = join(dir, 'users.yml');
  let port = 0;
  let client: Etcd3;
  let serve: PvsyncProcess | null = null;
  const goodAuth = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;

  const call = (method: string, path: string, opts: { body?: string; headers?: Record<string, string>; from?: string } = {}): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...opts.headers };
      if (opts.body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(opts.body);
      }
      const req = request({ host: '127.0.0.1', port, method, path, headers, localAddress: opts.from ?? '127.0.0.1', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end(opts.body);
    });
  const watch = (path: string, from = '127.0.0.1', lastId?: number): Promise<SseStream> =>
    openSse(port, path, lastId === undefined ? {} : { 'last-event-id': String(lastId) }, from);
  const start = async (): Promise<PvsyncProcess> => {
    const p = startPvsync(['serve', '--port', String(port), '--host', '127.0.0.1', '--endpoints', testEndpoints().join(','),
      '--root', root, '--auth-file', authFile, '--body-limit', '2000000', '--login-attempts', '3', '--refusal-hold-ms', '300',
      '--max-watches', '3', '--max-watches-per-client', '2', '--write-wait-ms', '3000']);
    await until('serve answers /healthz 200', async () => {
      try {
        return (await call('GET', '/healthz')).status === 200;
      } catch {
        return false;
      }
    }, 30_000);
    return p;
  };
  const putRecord = async (name: string): Promise<number> => {
    const res = await client.put(keys.iocRecord(IOC, name)).value(JSON.stringify({ name, type: 'ai', desc: '', infos: {}, aliases: [] }));
    return Number(res.header.revision);
  };
  const lastId = (text: string): number => Math.max(...[...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1])));

  beforeAll(async () => {
    const hashed = spawnSync(process.execPath, [BIN, 'auth', 'hash-password'], { input: 's3cret\n', encoding: 'utf8' });
    expect(hashed.status, hashed.stderr).toBe(0);
    writeFileSync(authFile, `users:\n  alice:\n    password: "${hashed.stdout.trim()}"\n    roles: [CHANNEL]\n`);
    port = (await freePorts(1))[0] ?? 0;
    client = etcdClient();
    const now = new Date().toISOString();
    await client.put(keys.iocInfo(IOC)).value(JSON.stringify({ schema: 1, iocId: IOC, iocName: 'sp', hostName: 'hostP',
      env: {}, uploadId: 'u1', state: 'complete', records: 1, updatedAt: now, writer: 'test' }));
    await client.put(keys.alive(IOC)).value(JSON.stringify({ uploadId: 'u1', since: now, writer: 'test' }));
    await putRecord('SP:A');
    serve = await start();
  });
  afterAll(async () => {
    if (serve !== null && serve.child.exitCode === null) {
      serve.child.kill('SIGKILL');
      await serve.exited;
    }
    client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses anonymous writes with 401 whatever the body; the auth file user writes; the body limit holds', async () => {
    const bodies = ['{"name": "SP:X", broken', JSON.stringify({ name: 'SP:X', owner: 'alice', properties: [], tags: [] }),
      `[${'{'.repeat(10 * 2 ** 20)}`, ''];
    for (const body of bodies) {
      const r = await call('PUT', `${R}/channels/SP:X`, { body });
      expect(r.status, body.slice(0, 40)).toBe(401);
      expect(r.headers['www-authenticate']).toMatch(/^Basic/);
    }
    const ok = await call('PUT', `${R}/channels/SP:X`, { headers: { authorization: goodAuth },
      body: JSON.stringify({ name: 'SP:X', owner: 'alice', properties: [], tags: [] }) });
    expect(ok.status, ok.body).toBe(200);
    expect((await call('PUT', `${R}/channels/SP:X`, { headers: { authorization: goodAuth }, body: '{"name": broken' })).status).toBe(400);
    const big = JSON.stringify(Array.from({ length: 20_000 }, (_, i) => ({ name: `SP:BULK:${i}:${'x'.repeat(60)}`, owner: 'alice', properties: [], tags: [] })));
    expect(big.length).toBeGreaterThan(2_000_000);
    expect((await call('PUT', `${R}/channels`, { headers: { authorization: goodAuth }, body: big })).status).toBe(413);
  });

  it('rate-limits password checks per client address (--login-attempts), each 429 held --refusal-hold-ms', async () => {
    const bad = `Basic ${Buffer.from('alice:wrong').toString('base64')}`;
    const body = JSON.stringify({ name: 'SP:Y', owner: 'alice', properties: [], tags: [] });
    for (let i = 0; i < 3; i++) expect((await call('PUT', `${R}/channels/SP:Y`, { headers: { authorization: bad }, body, from: '127.0.0.2' })).status).toBe(401);
    const t0 = performance.now();
    const limited = await call('PUT', `${R}/channels/SP:Y`, { headers: { authorization: bad }, body, from: '127.0.0.2' });
    expect(limited.status).toBe(429);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290); // held back --refusal-hold-ms before it is sent
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await call('PUT', `${R}/channels/SP:Y`, { headers: { authorization: goodAuth }, body })).status).toBe(200);
  });

  it('caps watch streams per client and in total; SIGTERM ends them and exits 0; a resume after restart gets what it missed', async () => {
    const a = await watch('/api/v1/watch?~name=SP:*');
    const b = await watch('/api/v1/watch?~name=SP:*');
    expect([a.status, b.status]).toEqual([200, 200]);
    expect((await watch('/api/v1/watch')).status).toBe(429);
    const c = await watch('/api/v1/watch?~name=SP:*', '127.0.0.3');
    expect(c.status).toBe(200);
    expect((await watch('/api/v1/watch', '127.0.0.4')).status).toBe(429);

    const rev = await putRecord('SP:C');
    await until('the streams see SP:C', () => [a, b, c].every((s) => s.text().includes('"SP:C"')));
    const seen = lastId(a.text());
    expect(seen).toBeGreaterThanOrEqual(rev);

    const t0 = Date.now();
    serve?.child.kill('SIGTERM');
    const code = await Promise.race([serve?.exited, new Promise((r) => setTimeout(() => r('still running'), 15_000))]);
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(15_000);
    await Promise.all([a.ended, b.ended, c.ended]);

    // Changes while no server runs: the resumed stream must replay them, not reset.
    await putRecord('SP:D');
    await putRecord('SP:E');
    serve = await start();
    const resumed = await watch('/api/v1/watch?~name=SP:*', '127.0.0.1', seen);
    expect(resumed.status).toBe(200);
    await until('the resumed stream replays SP:D and SP:E', () => resumed.text().includes('"SP:D"') && resumed.text().includes('"SP:E"'));
    expect(resumed.text()).not.toMatch(/^event: reset$/m);
    expect(resumed.text()).not.toContain('"SP:C"');
    resumed.close();
  });
});
