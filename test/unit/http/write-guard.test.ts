/**
 * Writes under hostile input, through inject() and one real socket: credentials and role are checked before the body
 * is read (401 whatever the body), the body limit, an unknown user costs one scrypt like a wrong password, password
 * checks are rate-limited per client address (429 with Retry-After), and a write whose revision this replica does not
 * show in time answers 503 PVS_MIRROR_TIMEOUT.
 */
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Authenticator } from '../../../src/adapters/auth/authenticator.js';
import { hashPassword, verifyPassword } from '../../../src/adapters/auth/passwords.js';
import { buildApp } from '../../../src/adapters/http/app.js';
import type { WriteDeps } from '../../../src/adapters/http/write-executor.js';
import type { AuthFile } from '../../../src/core/auth/principal.js';
import { decodeChange } from '../../../src/core/directory/decode.js';
import { Directory } from '../../../src/core/directory/directory.js';
import { Keyspace } from '../../../src/core/keyspace.js';

const R = '/ChannelFinder/resources';
const basic = (u: string, p = `${u}Pass`): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

let users: AuthFile;
beforeAll(async () => {
  users = { users: {
    user: { password: await hashPassword('userPass'), roles: ['CHANNEL'], groups: [] },
    tagger: { password: await hashPassword('taggerPass'), roles: ['TAG'], groups: [] },
  } };
});

interface Harness {
  app: ReturnType<typeof buildApp>;
  /** Passwords verified, with the hash each was checked against. */
  readonly verified: string[];
  commits: number;
}

function harness(opts: { bodyLimit?: number; reached?: boolean; loginMax?: number; holdMs?: number; maxHeld?: number;
  gate?: Promise<void> } = {}): Harness {
  const keys = new Keyspace('/t/');
  const d = new Directory({ owner: 'pvsync' });
  let rev = 1;
  const h: Harness = { app: null as unknown as Harness['app'], verified: [], commits: 0 };
  const auth = new Authenticator(users, async (password, hash) => {
    h.verified.push(hash);
    return verifyPassword(password, hash);
  });
  // etcd stand-in: each commit is one revision, applied at once unless the mirror is "stalled".
  const writes: WriteDeps = {
    keys,
    commit: async (ops) => {
      h.commits++;
      await opts.gate;
      rev++;
      if (opts.reached !== false) {
        d.apply(ops.flatMap((op) => {
          const r = decodeChange(keys, op.key, op.value, rev);
          return r.ok ? [r.event] : [];
        }), rev);
      }
      return { revision: rev, conflict: false };
    },
    waitFor: async (revision) => d.revision >= revision,
    authenticate: (header, gate) => auth.authenticate(header, gate),
    waitMs: 50,
    loginLimit: { max: opts.loginMax ?? 5, windowMs: 60_000 },
  };
  h.app = buildApp({
    directory: d, registry: new Registry(), health: () => ({ ok: true, etcd: null, revision: rev }),
    serviceInfo: { version: 't', backend: () => ({ status: 'Connected' }) },
    writes, ...(opts.bodyLimit === undefined ? {} : { bodyLimit: opts.bodyLimit }),
    refusalHold: { holdMs: opts.holdMs ?? 10, ...(opts.maxHeld === undefined ? {} : { maxHeld: opts.maxHeld }) },
  });
  return h;
}

const chan = (name: string): object => ({ name, owner: 'user', properties: [], tags: [] });

describe('writes: authentication before the body', () => {
  let h: Harness;
  afterEach(async () => {
    await h.app.close();
  });

  it('answers 401, not 400, to an anonymous malformed body, and 400 only once authenticated', async () => {
    h = harness();
    const put = (headers: Record<string, string>) => h.app.inject({ method: 'PUT', url: `${R}/channels/X`,
      headers: { 'content-type': 'application/json', ...headers }, payload: '{"name": "X", broken' });
    const anon = await put({});
    expect(anon.statusCode).toBe(401);
    expect(anon.headers['www-authenticate']).toMatch(/^Basic/);
    expect(anon.headers['x-pvsync-code']).toBe('PVS_AUTH');
    expect(anon.json()).toMatchObject({ error: 'Unauthorized', status: 401, path: `${R}/channels/X` });
    expect((await put({ authorization: basic('user', 'wrong') })).statusCode).toBe(401);
    // The role is checked before the body too: a TAG user may not write channels, whatever it sends.
    expect((await put({ authorization: basic('tagger') })).statusCode).toBe(401);
    expect((await put({ authorization: basic('user') })).statusCode).toBe(400);
    expect(h.commits).toBe(0);
  });

  it('answers 401 to an anonymous 10 MB body on every write route, never reading it as JSON', async () => {
    h = harness();
    const junk = `[${'{'.repeat(10 * 2 ** 20)}`;
    for (const [method, url] of [['PUT', `${R}/channels`], ['POST', `${R}/channels/A`], ['DELETE', `${R}/channels`],
      ['PUT', `${R}/properties/p`], ['POST', `${R}/tags`], ['PUT', `${R}/tags/t/A`]] as const) {
      const r = await h.app.inject({ method, url, headers: { 'content-type': 'application/json' }, payload: junk });
      expect(r.statusCode, `${method} ${url}`).toBe(401);
    }
    expect(h.verified).toEqual([]);
  });

  it('applies the body limit to authenticated writers only (anonymous ones get 401 first)', async () => {
    h = harness({ bodyLimit: 1000 });
    const big = JSON.stringify(Array.from({ length: 50 }, (_, i) => chan(`BIG:${i}`)));
    expect(big.length).toBeGreaterThan(1000);
    const send = (headers: Record<string, string>) => h.app.inject({ method: 'PUT', url: `${R}/channels`,
      headers: { 'content-type': 'application/json', ...headers }, payload: big });
    expect((await send({})).statusCode).toBe(401);
    expect((await send({ authorization: basic('user') })).statusCode).toBe(413);
    const small = await h.app.inject({ method: 'PUT', url: `${R}/channels/S:1`, headers: { authorization: basic('user') }, payload: chan('S:1') });
    expect(small.statusCode).toBe(200);
    expect(small.json()).toMatchObject({ name: 'S:1', owner: 'user' });
  });

  it('checks an unknown user against a real scrypt hash, exactly as a wrong password', async () => {
    h = harness();
    const put = (authorization: string) => h.app.inject({ method: 'PUT', url: `${R}/channels/U`, headers: { authorization }, payload: chan('U') });
    expect((await put(basic('ghost'))).statusCode).toBe(401);
    expect((await put(basic('user', 'nope'))).statusCode).toBe(401);
    expect(h.verified).toHaveLength(2);
    for (const hash of h.verified) expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(h.verified[0]).not.toBe(users.users['user']?.password);
  });

  it('limits password checks per client address (429 with Retry-After, no scrypt), other addresses unaffected', async () => {
    h = harness({ loginMax: 5 });
    const put = (authorization: string, remoteAddress: string) => h.app.inject({ method: 'PUT', url: `${R}/channels/L`,
      headers: { authorization }, payload: chan('L'), remoteAddress });
    for (let i = 0; i < 5; i++) expect((await put(basic('user', `guess${i}`), '10.0.0.1')).statusCode).toBe(401);
    const limited = await put(basic('user', 'guess5'), '10.0.0.1');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(limited.headers['x-pvsync-code']).toBe('PVS_RATE_LIMITED');
    expect(limited.json()).toMatchObject({ error: 'Too Many Requests', status: 429 });
    // Even the right password is not checked from there any more…
    expect((await put(basic('user'), '10.0.0.1')).statusCode).toBe(429);
    expect(h.verified).toHaveLength(5);
    // …while another client logs in, and its login, once cached, costs no further check.
    for (let i = 0; i < 8; i++) expect((await put(basic('user'), '10.0.0.2')).statusCode).toBe(200);
    expect(h.verified).toHaveLength(6);
    // A request without credentials is no password check: still 401, not 429.
    expect((await h.app.inject({ method: 'PUT', url: `${R}/channels/L`, payload: chan('L'), remoteAddress: '10.0.0.1' })).statusCode).toBe(401);
  });

  it('holds each 429 back for holdMs (a tarpit for login floods), at most maxHeld at once, the rest answered at once', async () => {
    h = harness({ loginMax: 1, holdMs: 400, maxHeld: 2 });
    const put = (authorization: string) => h.app.inject({ method: 'PUT', url: `${R}/channels/H`, headers: { authorization },
      payload: chan('H'), remoteAddress: '10.0.0.9' });
    expect((await put(basic('user', 'guess'))).statusCode).toBe(401);
    const t0 = performance.now();
    const order: number[] = [];
    const held = [0, 1, 2].map(async (i) => {
      const r = await put(basic('user', `flood${i}`));
      order.push(i);
      return { status: r.statusCode, ms: performance.now() - t0 };
    });
    const answers = await Promise.all(held);
    expect(answers.map((a) => a.status)).toEqual([429, 429, 429]);
    // The third found two already held: answered first, without waiting; the held ones no sooner than holdMs.
    expect(order[0]).toBe(2);
    expect(answers[0]?.ms).toBeGreaterThanOrEqual(390);
    expect(answers[1]?.ms).toBeGreaterThanOrEqual(390);
    expect(h.verified).toHaveLength(1);
  });

  it('answers 503 PVS_MIRROR_TIMEOUT, saying the write is committed, when this replica does not show it in time', async () => {
    h = harness({ reached: false });
    const r = await h.app.inject({ method: 'PUT', url: `${R}/channels/T:1`, headers: { authorization: basic('user') }, payload: chan('T:1') });
    expect(r.statusCode).toBe(503);
    expect(r.headers['x-pvsync-code']).toBe('PVS_MIRROR_TIMEOUT');
    expect(r.json<{ message: string }>().message).toMatch(/committed in etcd \(revision 2\).*within 50 ms/);
    expect(h.commits).toBe(1);
  });

  it('close() lets a write in flight over a socket finish before it resolves', async () => {
    let release = (): void => undefined;
    h = harness({ gate: new Promise<void>((r) => (release = r)) });
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const address = h.app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const body = JSON.stringify(chan('F:1'));
    const write = new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'PUT', path: `${R}/channels/F:1`, agent: false, headers: {
        authorization: basic('user'), 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });
    for (let i = 0; i < 400 && h.commits === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(h.commits).toBe(1);
    let closed = false;
    const closing = h.app.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(false);
    release();
    expect(await write).toBe(200);
    await closing;
    expect(closed).toBe(true);
  });

  it('over a socket: anonymous bodies get their 401 (a small one drained, keeping the connection; a 10 MB one cut off)', async () => {
    h = harness();
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const address = h.app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 1 });
    const send = (method: string, path: string, body: string | null): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method, path, agent,
          headers: body === null ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        req.end(body ?? undefined);
      });
    const sockets = new Set<Socket>();
    h.app.server.on('connection', (s) => sockets.add(s));
    const small = await send('PUT', `${R}/channels`, 'x'.repeat(512 * 1024));
    expect(small.status).toBe(401);
    expect((await send('GET', '/ChannelFinder', null)).status).toBe(200);
    expect(sockets.size).toBe(1); // drained: the same keep-alive connection served the next request
    const r = await send('PUT', `${R}/channels`, 'x'.repeat(10 * 2 ** 20));
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body)).toMatchObject({ status: 401, path: `${R}/channels` });
    // The rest of the 10 MB is never read: the server cuts that connection, the client goes on with a new one.
    expect((await send('GET', '/ChannelFinder', null)).status).toBe(200);
    expect(sockets.size).toBe(2);
    // Declared over the 1 MiB drain, it is not drained at all: only its first chunks came off the socket.
    const [first] = sockets;
    expect(first?.bytesRead).toBeLessThan(512 * 1024 + 256 * 1024);
    agent.destroy();
  });
});
