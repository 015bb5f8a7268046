// The etcd security options of every command: flags over PVSYNC_ETCD_* variables, every file read and checked at
// start, each problem a PVS_CONFIG error naming the flag and the file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpensslCa } from '../../../src/adapters/pki/openssl.js';
import { SECURITY_OPTIONS, resolveEtcd, resolveSecurity, withEndpoints } from '../../../src/apps/options.js';

const dir = mkdtempSync(join(tmpdir(), 'pvsync-sec-opts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let ca: string;
let cert: string;
let key: string;
let otherKey: string;

beforeAll(async () => {
  const pki = new OpensslCa(join(dir, 'ca'));
  ca = (await pki.ensure()).cert;
  ({ cert, key } = await pki.issue(dir, 'ioc', { commonName: 'IOCA@h1' }));
  otherKey = (await pki.issue(dir, 'other', { commonName: 'other' })).key;
  writeFileSync(join(dir, 'pw'), 'secret\n');
  writeFileSync(join(dir, 'empty'), '');
  writeFileSync(join(dir, 'garbage.pem'), 'not a certificate\n');
});

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('etcd security options', () => {
  it('adds the same five flags (with their environment names in the help) to every etcd command', () => {
    const cmd = withEndpoints(new Command('x'));
    const flags = cmd.options.map((o) => o.long);
    expect(flags).toEqual(['--endpoints', '--etcd-ca', '--etcd-cert', '--etcd-key', '--etcd-user', '--etcd-password-file']);
    for (const o of SECURITY_OPTIONS) expect(cmd.helpInformation()).toContain(o.env);
  });

  it('is undefined without any option, and plain endpoints stay http', () => {
    expect(resolveSecurity({}, {})).toBeUndefined();
    expect(resolveEtcd({ endpoints: '127.0.0.1:2379' }, {})).toEqual({ endpoints: ['http://127.0.0.1:2379'] });
  });

  it('loads CA, certificate and key from flags or environment; flags win; bare endpoints become https', () => {
    const viaEnv = resolveEtcd({ endpoints: '127.0.0.1:2379,https://h:22379' },
      { PVSYNC_ETCD_CA: ca, PVSYNC_ETCD_CERT: cert, PVSYNC_ETCD_KEY: key });
    expect(viaEnv.endpoints).toEqual(['https://127.0.0.1:2379', 'https://h:22379']);
    expect(viaEnv.security?.ca?.toString()).toMatch(/BEGIN CERTIFICATE/);
    expect(viaEnv.security?.key?.toString()).toMatch(/PRIVATE KEY/);
    const flagWins = resolveSecurity({ etcdCa: ca }, { PVSYNC_ETCD_CA: '/nonexistent' });
    expect(flagWins?.ca?.toString()).toMatch(/BEGIN CERTIFICATE/);
    // Without --endpoints the local cluster's endpoints, over https.
    expect(resolveEtcd({ etcdCa: ca }, {}).endpoints).toEqual(['https://127.0.0.1:2379', 'https://127.0.0.1:22379', 'https://127.0.0.1:32379']);
  });

  it('reads the password file without its trailing newline', () => {
    expect(resolveSecurity({ etcdUser: 'u', etcdPasswordFile: join(dir, 'pw') }, {})).toEqual({ user: 'u', password: 'secret' });
  });

  it.each([
    ['a missing CA file', { etcdCa: '/nonexistent/ca.crt' }, /--etcd-ca \/nonexistent\/ca\.crt: cannot read it/],
    ['a CA that is no certificate', { etcdCa: 'GARBAGE' }, /--etcd-ca .*garbage\.pem: not a PEM certificate/],
    ['a certificate without its key', { etcdCert: 'CERT' }, /--etcd-cert and --etcd-key go together/],
    ['a key without its certificate', { etcdKey: 'KEY' }, /--etcd-cert and --etcd-key go together/],
    ['a key of another certificate', { etcdCert: 'CERT', etcdKey: 'OTHERKEY' }, /--etcd-key .*other\.key is not the private key of --etcd-cert .*ioc\.crt/],
    ['a certificate as the key', { etcdCert: 'CERT', etcdKey: 'CERT' }, /--etcd-key .*: not a PEM private key/],
    ['a user without a password file', { etcdUser: 'u' }, /--etcd-user and --etcd-password-file go together/],
    ['an empty password file', { etcdUser: 'u', etcdPasswordFile: 'EMPTY' }, /--etcd-password-file .*empty is empty/],
    ['a user name with a space', { etcdUser: 'a b', etcdPasswordFile: 'PW' }, /--etcd-user \(env PVSYNC_ETCD_USER\): no white space/],
  ])('refuses %s with PVS_CONFIG naming the flag and file', (_what, raw, message) => {
    const files: Record<string, string> = { GARBAGE: join(dir, 'garbage.pem'), CERT: cert, KEY: key, OTHERKEY: otherKey, EMPTY: join(dir, 'empty'), PW: join(dir, 'pw') };
    const opts = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, files[v] ?? v]));
    const err = thrown(() => resolveSecurity(opts, {}));
    expect(err).toMatchObject({ code: 'PVS_CONFIG', message: expect.stringMatching(message) as unknown });
  });

  it('refuses TLS options with http:// endpoints', () => {
    expect(() => resolveEtcd({ endpoints: 'http://127.0.0.1:2379', etcdCa: ca }, {}))
      .toThrow(/--etcd-ca\/--etcd-cert need https:\/\/ endpoints, got http:\/\/127\.0\.0\.1:2379/);
  });
});
