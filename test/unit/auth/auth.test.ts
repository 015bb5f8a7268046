import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Authenticator, demoAuthFile } from '../../../src/adapters/auth/authenticator.js';
import { hashPassword, verifyPassword } from '../../../src/adapters/auth/passwords.js';
import { hasRole, owns, principal, type Role } from '../../../src/core/auth/principal.js';
import { isPvsError } from '../../../src/core/errors.js';
import { loadAuthFile } from '../../../src/apps/config-files.js';

const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('roles and ownership (upstream rules)', () => {
  const table: [Role, Role, boolean][] = [
    ['ADMIN', 'ADMIN', true], ['ADMIN', 'TAG', true],
    ['CHANNEL', 'ADMIN', false], ['CHANNEL', 'CHANNEL', true], ['CHANNEL', 'PROPERTY', true], ['CHANNEL', 'TAG', true],
    ['PROPERTY', 'CHANNEL', false], ['PROPERTY', 'PROPERTY', true], ['PROPERTY', 'TAG', true],
    ['TAG', 'PROPERTY', false], ['TAG', 'TAG', true],
  ];
  for (const [held, needed, ok] of table) {
    it(`${held} ${ok ? 'may' : 'may not'} act as ${needed}`, () => {
      expect(hasRole(principal('u', [held], []), needed)).toBe(ok);
    });
  }
  it('owner is the user, a group of the user (case-insensitive), or anything for an admin', () => {
    const u = principal('alice', ['CHANNEL'], ['operators']);
    expect(owns(u, 'alice')).toBe(true);
    expect(owns(u, 'Operators')).toBe(true);
    expect(owns(u, 'bob')).toBe(false);
    expect(owns(principal('root', ['ADMIN'], []), 'bob')).toBe(true);
    expect(hasRole(principal('x', [], ['ADMIN']), 'TAG')).toBe(false);
  });
});

describe('passwords and the authenticator', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pvsync-auth-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('hashes with scrypt and a random salt, verifies only the right password', async () => {
    const h1 = await hashPassword('secret');
    const h2 = await hashPassword('secret');
    expect(h1).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(h1).not.toBe(h2);
    expect(h1).not.toContain('secret');
    expect(await verifyPassword('secret', h1)).toBe(true);
    expect(await verifyPassword('Secret', h1)).toBe(false);
    expect(await verifyPassword('secret', 'scrypt$garbage')).toBe(false);
  });

  it('authenticates the demo users and refuses bad credentials with PVS_AUTH', async () => {
    const a = new Authenticator(await demoAuthFile());
    expect(await a.authenticate(undefined)).toBeNull();
    const admin = await a.authenticate(basic('admin', 'adminPass'));
    expect(admin?.roles.has('ADMIN')).toBe(true);
    const user = await a.authenticate(basic('user', 'userPass'));
    expect(user !== null && hasRole(user, 'CHANNEL') && !hasRole(user, 'ADMIN')).toBe(true);
    expect(user !== null && owns(user, 'user') && owns(user, 'USER') && !owns(user, 'admin')).toBe(true);
    for (const h of [basic('admin', 'wrong'), basic('nobody', 'x'), 'Bearer abc', 'Basic !!!', basic('constructor', 'x')]) {
      await expect(a.authenticate(h)).rejects.toSatisfy((e: unknown) => isPvsError(e, 'PVS_AUTH'));
    }
  });

  it('checks one password at a time, however many requests wait, and goes on after a failed check', async () => {
    let running = 0;
    let most = 0;
    let calls = 0;
    const a = new Authenticator({ users: { alice: { password: await hashPassword('pw'), roles: [], groups: [] } } }, async (password, hash) => {
      calls++;
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      if (calls === 2) throw new Error('verifier failed');
      return verifyPassword(password, hash);
    });
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => a.authenticate(basic('alice', i === 5 ? 'pw' : `guess${i}`))));
    expect(most).toBe(1);
    expect(calls).toBe(6);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected', 'rejected', 'fulfilled']);
  });

  it('loads an auth file (YAML) and names the wrong field of a bad one', async () => {
    const good = join(dir, 'good.yml');
    writeFileSync(good, `users:\n  alice:\n    password: "${await hashPassword('pw')}"\n    roles: [PROPERTY]\n    groups: [ops]\n`);
    const file = await loadAuthFile(good);
    const p = await new Authenticator(file).authenticate(basic('alice', 'pw'));
    expect(p?.name).toBe('alice');
    const cases: [string, RegExp][] = [
      ['users:\n  bob:\n    password: plain\n', /users\.bob\.password: must be a hash/],
      ['users:\n  bob:\n    password: "scrypt$x"\n    roles: [ROOT]\n', /users\.bob\.roles\.0/],
      ['users: [1, 2]\n', /users/],
      ['users: {\n', /not YAML/],
    ];
    for (const [text, msg] of cases) {
      const f = join(dir, 'bad.yml');
      writeFileSync(f, text);
      await expect(loadAuthFile(f)).rejects.toSatisfy((e: unknown) => isPvsError(e, 'PVS_CONFIG') && msg.test(e.message));
    }
    await expect(loadAuthFile(join(dir, 'missing.yml'))).rejects.toSatisfy((e: unknown) => isPvsError(e, 'PVS_CONFIG'));
  });
});
