/**
 * The archiver switchover behind the same guard as writes (through buildApp, with inject()): credentials and the
 * ADMIN role before the body (401 whatever it is, never parsed), and password checks counted by the one login limit
 * that writes use.
 */
import { Registry } from 'prom-client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Authenticator } from '../../../src/adapters/auth/authenticator.js';
import { hashPassword, verifyPassword } from '../../../src/adapters/auth/passwords.js';
import { buildApp } from '../../../src/adapters/http/app.js';
import type { AuthFile } from '../../../src/core/auth/principal.js';
import { Directory } from '../../../src/core/directory/directory.js';
import type { ArchiverService } from '../../../src/core/election/service.js';
import { Keyspace } from '../../../src/core/keyspace.js';

const URL = '/api/v1/archiver/switchover';
const basic = (u: string, p = `${u}Pass`): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

let users: AuthFile;
beforeAll(async () => {
  users = { users: {
    admin: { password: await hashPassword('adminPass'), roles: ['ADMIN'], groups: [] },
    user: { password: await hashPassword('userPass'), roles: ['CHANNEL'], groups: [] },
  } };
});

interface Harness {
  readonly app: ReturnType<typeof buildApp>;
  /** Switchovers the service was asked for: [group, to, timeoutMs]. */
  readonly switchovers: unknown[][];
  /** Passwords verified. */
  verified: number;
}

function harness(loginMax = 10): Harness {
  const switchovers: unknown[][] = [];
  const service: ArchiverService = {
    status: async () => { throw new Error('unused'); },
    switchover: async (group, to, timeoutMs) => {
      switchovers.push([group, to, timeoutMs]);
      return { group, from: 'a', to: to ?? 'b', token: '12', elapsedMs: 150 };
    },
  };
  const h = { switchovers, verified: 0 } as { switchovers: unknown[][]; verified: number; app: Harness['app'] };
  const auth = new Authenticator(users, async (password, hash) => {
    h.verified++;
    return verifyPassword(password, hash);
  });
  h.app = buildApp({
    directory: new Directory({ owner: 'pvsync' }), registry: new Registry(), health: () => ({ ok: true, etcd: null, revision: 1 }),
    serviceInfo: { version: 't', backend: () => ({ status: 'Connected' }) },
    writes: {
      keys: new Keyspace('/t/'), commit: async () => ({ revision: 2, conflict: false }), waitFor: async () => true,
      authenticate: (header, gate) => auth.authenticate(header, gate), loginLimit: { max: loginMax, windowMs: 60_000 },
    },
    archiver: { service, defaultGroup: 'ha' },
  });
  return h;
}

describe('archiver switchover: authentication before the body', () => {
  let h: Harness;
  afterEach(async () => {
    await h.app.close();
  });

  it('answers 401 to anonymous and non-admin callers whatever the body, without parsing it', async () => {
    h = harness();
    const post = (payload: string, headers: Record<string, string> = {}) => h.app.inject({ method: 'POST', url: URL,
      headers: { 'content-type': 'application/json', ...headers }, payload });
    for (const [what, payload] of [['malformed', '{"to": "b", broken'], ['valid', '{"to":"b"}'], ['empty', ''],
      ['10 MB', `[${'{'.repeat(10 * 2 ** 20)}`]] as const) {
      const anon = await post(payload);
      expect(anon.statusCode, what).toBe(401);
      expect(anon.headers['www-authenticate'], what).toMatch(/^Basic/);
      expect(anon.json(), what).toMatchObject({ error: 'Unauthorized', status: 401, path: URL, code: 'PVS_AUTH' });
      expect((await post(payload, { authorization: basic('user') })).statusCode, `${what}, non-admin`).toBe(401);
      expect((await post(payload, { authorization: basic('admin', 'wrong') })).statusCode, `${what}, wrong password`).toBe(401);
    }
    expect(h.switchovers).toEqual([]);
  });

  it('lets an admin switch over as before: body validated (400), then handed to the election', async () => {
    h = harness();
    const post = (payload: string) => h.app.inject({ method: 'POST', url: URL,
      headers: { 'content-type': 'application/json', authorization: basic('admin') }, payload });
    expect((await post('{"to": "b", broken')).statusCode).toBe(400);
    expect((await post('{"too":"b"}')).statusCode).toBe(400);
    const ok = await post('{"to":"b","timeoutMs":2000}');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ group: 'ha', from: 'a', to: 'b', token: '12', elapsedMs: 150 });
    expect((await post('')).statusCode).toBe(200);
    expect(h.switchovers).toEqual([['ha', 'b', 2000], ['ha', undefined, 5000]]);
  });

  it('counts its password checks in the same per-address limit as writes (429 with Retry-After, no scrypt)', async () => {
    h = harness(3);
    const from = { remoteAddress: '10.0.0.7' };
    const write = await h.app.inject({ method: 'PUT', url: '/ChannelFinder/resources/channels/X', ...from,
      headers: { authorization: basic('user', 'guess1') }, payload: { name: 'X', owner: 'user' } });
    expect(write.statusCode).toBe(401);
    for (const guess of ['guess2', 'guess3']) {
      expect((await h.app.inject({ method: 'POST', url: URL, ...from, headers: { authorization: basic('admin', guess) }, payload: {} })).statusCode).toBe(401);
    }
    const limited = await h.app.inject({ method: 'POST', url: URL, ...from, headers: { authorization: basic('admin') }, payload: {} });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ status: 429, code: 'PVS_RATE_LIMITED' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // …and the writes of that address are limited by the switchover's failures too.
    const after = await h.app.inject({ method: 'PUT', url: '/ChannelFinder/resources/channels/X', ...from,
      headers: { authorization: basic('user') }, payload: { name: 'X', owner: 'user' } });
    expect(after.statusCode).toBe(429);
    expect(h.verified).toBe(3);
    expect(h.switchovers).toEqual([]);
  });
});
