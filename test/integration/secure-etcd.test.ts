/**
 * pvsync against a secured etcd (docs/security.md): a real 3-member cluster with TLS on client and peer URLs, client
 * certificates required and authentication on, started by this file (the suite's shared cluster stays plain). Each
 * component runs with its own least-privilege identity; password tokens live 2 s, so token expiry is seen quickly.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Etcd3, type Watcher } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdArchiverService } from '../../src/adapters/etcd/archiver-ops.js';
import { ArchiverGroupStore, grantLease, revokeLease } from '../../src/adapters/etcd/archiver-election.js';
import { createEtcdClient, securityOptions, type EtcdSecurity } from '../../src/adapters/etcd/client.js';
import { commitOps, rangePrefix } from '../../src/adapters/etcd/kv.js';
import { Mirror, type MirrorSink } from '../../src/adapters/etcd/mirror.js';
import { PvsError } from '../../src/core/errors.js';
import { Keyspace } from '../../src/core/keyspace.js';
import type { DirectoryEvent } from '../../src/core/directory/events.js';
import { captureLog } from '../support/bridge-harness.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { freePorts } from '../support/free-ports.js';
import { startPvsync, until, type PvsyncProcess } from '../support/processes.js';
import { startSecureTestCluster, type Credentials, type SecureCluster } from '../support/start-secure-cluster.js';

const ROOT = '/pvsync-secure/';
const keys = new Keyspace(ROOT);
const ST_CMD = fileURLToPath(new URL('../../examples/linac-bpm/st.cmd', import.meta.url));
const TOKEN_TTL_S = 2;

async function refusal(p: Promise<unknown>): Promise<PvsError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof PvsError) return err;
    throw err;
  }
  throw new Error('expected etcd to refuse the call');
}

describe('pvsync on a secured etcd (TLS, client certificates, roles)', () => {
  let sc: SecureCluster;
  let root: Etcd3;
  let iocA: Credentials;
  const processes: PvsyncProcess[] = [];
  const clients: Etcd3[] = [];
  const client = (security: EtcdSecurity, endpoints?: string[]): Etcd3 => {
    const c = createEtcdClient(endpoints ?? sc.endpoints, { security, callTimeoutMs: 5000, dialTimeoutMs: 2000 });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    sc = await startSecureTestCluster('secure', { authTokenTtlS: TOKEN_TTL_S });
    root = sc.rootClient();
    iocA = await sc.credentials({ kind: 'ioc', iocId: 'IOCA@h1' }, ROOT);
  });

  afterAll(async () => {
    for (const p of processes) p.child.kill('SIGKILL');
    for (const c of clients) c.close();
    root?.close();
    await sc?.stop();
  });

  it('refuses a client without a certificate, or without the CA, with PVS_ETCD_TLS (not "unavailable")', async () => {
    const noCert = await refusal(rangePrefix(client(sc.caOnly), ROOT));
    expect(noCert.code).toBe('PVS_ETCD_TLS');
    expect(noCert.retryable).toBe(false);
    expect(noCert.message).toMatch(/refused our client certificate/);
    const noCa = await refusal(rangePrefix(client({}), ROOT));
    expect(noCa.code).toBe('PVS_ETCD_TLS');
    // The CLI checks the files first: a missing one is named.
    const cli = startPvsync(['archiver', 'status', '--endpoints', sc.endpoints.join(','), '--etcd-ca', '/nonexistent/ca.crt']);
    expect(await cli.exited).toBe(1);
    expect(cli.output.join('')).toMatch(/PVS_CONFIG: --etcd-ca \/nonexistent\/ca\.crt: cannot read it/);
    const plain = startPvsync(['archiver', 'status', '--endpoints', sc.endpoints.join(',')]);
    expect(await plain.exited).toBe(1);
    expect(plain.output.join('')).toMatch(/pvsync: PVS_ETCD_TLS: /);
  });

  it('publishes IOC A with IOC A\'s certificate (uploader process, flags), and withdraws it on SIGTERM', async () => {
    const up = startPvsync(['upload', '--st-cmd', ST_CMD, '--ioc-name', 'IOCA', '--host', 'h1', '--ttl', '3',
      '--root', ROOT, '--endpoints', sc.endpoints.join(','), ...iocA.flags]);
    processes.push(up);
    await until('IOC A alive', async () => (await root.get(keys.alive('IOCA@h1')).string()) !== null, 30_000);
    const info = JSON.parse((await root.get(keys.iocInfo('IOCA@h1')).string()) ?? '{}') as { state?: string; records?: number };
    expect(info.state).toBe('complete');
    expect(info.records).toBeGreaterThan(10);
    const records = await rangePrefix(root, keys.iocRecordsPrefix('IOCA@h1'));
    expect(records.kvs.length).toBe(info.records);
    up.child.kill('SIGTERM');
    expect(await up.exited).toBe(0);
    // Deleting the liveness key and revoking its lease need write permission on it: the IOC's role has it.
    expect(await root.get(keys.alive('IOCA@h1')).string()).toBeNull();
    expect(up.output.join('')).not.toMatch(/PVS_ETCD_DENIED/);
  });

  it('refuses IOC A\'s credentials on IOC B\'s keys, channels and the archiver with PVS_ETCD_DENIED', async () => {
    const a = client(iocA.security);
    for (const key of [keys.iocInfo('IOCB@h2'), keys.alive('IOCB@h2'), keys.channel('X'), `${ROOT}archiver/default/leader`]) {
      const e = await refusal(commitOps(a, [{ type: 'put', key, value: '{}' }], 'write'));
      expect({ key, code: e.code, retryable: e.retryable }).toEqual({ key, code: 'PVS_ETCD_DENIED', retryable: false });
      expect(e.message).toBe('write: etcd refused it: permission denied for this etcd user');
    }
    expect((await refusal(rangePrefix(a, keys.iocRecordsPrefix('IOCB@h2')))).code).toBe('PVS_ETCD_DENIED');
    // A prefix grant on "IOCA@h1/" does not reach an IOC whose id merely starts the same.
    expect((await refusal(commitOps(a, [{ type: 'put', key: keys.iocInfo('IOCA@h10'), value: '{}' }], 'w'))).code).toBe('PVS_ETCD_DENIED');
    await commitOps(a, [{ type: 'put', key: keys.iocInfo('IOCA@h1'), value: '{}' }], 'own key');

    // The uploader says so clearly and does not call it an outage.
    const wrong = startPvsync(['upload', '--st-cmd', ST_CMD, '--ioc-name', 'IOCB', '--host', 'h2', '--root', ROOT,
      '--endpoints', sc.endpoints.join(','), ...iocA.flags]);
    processes.push(wrong);
    await until('refusal logged', () => wrong.output.join('').includes('etcd refused the upload'), 20_000);
    const line = wrong.output.join('').split('\n').find((l) => l.includes('etcd refused the upload')) ?? '';
    expect(JSON.parse(line)).toMatchObject({ code: 'PVS_ETCD_DENIED', level: 50 });
    expect(line).not.toMatch(/unavailable/i);
    wrong.child.kill('SIGKILL');
    expect(await root.get(keys.iocInfo('IOCB@h2')).string()).toBeNull();
  });

  it('serves with the API identity: reads IOC channels, writes channels and tags, cannot write IOC keys', async () => {
    const api = await sc.credentials({ kind: 'api', archiverGroups: ['default'] }, ROOT);
    // IOC A published (and stopped) above: its channels are in the directory, Inactive.
    const [port] = await freePorts(1);
    const serve = startPvsync(['serve', '--port', String(port), '--host', '127.0.0.1', '--demo-auth', '--root', ROOT,
      '--endpoints', sc.endpoints.join(','), ...api.flags]);
    processes.push(serve);
    const base = `http://127.0.0.1:${port}`;
    await until('serve ready', async () => (await fetch(`${base}/healthz`).catch(() => null))?.status === 200, 30_000);
    const count = Number(await (await fetch(`${base}/ChannelFinder/resources/channels/count?iocid=IOCA@h1`)).text());
    expect(count).toBeGreaterThan(10);
    const auth = { authorization: `Basic ${Buffer.from('admin:adminPass').toString('base64')}`, 'content-type': 'application/json' };
    const tag = await fetch(`${base}/ChannelFinder/resources/tags/secured`, { method: 'PUT', headers: auth, body: JSON.stringify({ name: 'secured', owner: 'admin' }) });
    expect(tag.status).toBe(200);
    const ch = await fetch(`${base}/ChannelFinder/resources/channels/SEC:TEST`, {
      method: 'PUT', headers: auth, body: JSON.stringify({ name: 'SEC:TEST', owner: 'admin', properties: [], tags: [{ name: 'secured', owner: 'admin' }] }),
    });
    expect(ch.status).toBe(200);
    const got = await (await fetch(`${base}/ChannelFinder/resources/channels?~tag=secured`)).json() as { name: string }[];
    expect(got.map((c) => c.name)).toEqual(['SEC:TEST']);
    expect(await root.get(keys.channel('SEC:TEST')).string()).not.toBeNull();
    serve.child.kill('SIGTERM');
    await serve.exited;
    // The API's role ends at channels and definitions.
    const c = client(api.security);
    expect((await refusal(commitOps(c, [{ type: 'put', key: keys.iocInfo('IOCA@h1'), value: '{}' }], 'w'))).code).toBe('PVS_ETCD_DENIED');
    expect((await refusal(commitOps(c, [{ type: 'put', key: `${ROOT}archiver/default/leader`, value: '{}' }], 'w'))).code).toBe('PVS_ETCD_DENIED');
  });

  it('lets an archiver agent with its group\'s identity campaign, and only in its group', async () => {
    const linac = await sc.credentials({ kind: 'archiver', group: 'linac' }, ROOT);
    const agent = startPvsync(['archiver-agent', '--node', 'arch-a', '--group', 'linac', '--root', ROOT, '--ttl', '2',
      '--start', 'true', '--stop', 'true', '--health-interval', '0.2', '--endpoints', sc.endpoints.join(','), ...linac.flags]);
    processes.push(agent);
    const service = new EtcdArchiverService(root, ROOT);
    await until('arch-a active', async () => (await service.status('linac')).active?.node === 'arch-a', 30_000);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    await until('no active node', async () => (await service.status('linac')).active === null, 10_000);
    // The same identity in another group: the lease is granted (any authenticated user may), the campaign is refused.
    const c = client(linac.security);
    const lease = await grantLease(c, 2, 3000);
    const e = await refusal(new ArchiverGroupStore(c, 'other', ROOT).campaign(lease, { node: 'arch-a', since: Date.now() }));
    expect(e.code).toBe('PVS_ETCD_DENIED');
    await revokeLease(lease, 2000);
  });

  it('creates an IOC\'s user, role and certificate with `pvsync security add-ioc` (as root)', async () => {
    const out = join(sc.tlsDir, 'added');
    const rootFlags = ['--etcd-ca', join(sc.tlsDir, 'ca.crt'), '--etcd-cert', join(sc.tlsDir, 'root.crt'), '--etcd-key', join(sc.tlsDir, 'root.key')];
    const add = startPvsync(['security', 'add-ioc', 'IOCC@h3', '--out', out, '--ca-dir', sc.tlsDir, '--root', ROOT, '--json',
      '--endpoints', sc.endpoints.join(','), ...rootFlags]);
    expect(await add.exited).toBe(0);
    const result = JSON.parse(add.output.join('').slice(add.output.join('').indexOf('{'))) as { cert: string; key: string; plan: { user: string } };
    expect(result.plan.user).toBe('IOCC@h3');
    const c = client({ ca: readFileSync(join(sc.tlsDir, 'ca.crt')), cert: readFileSync(result.cert), key: readFileSync(result.key) });
    await commitOps(c, [{ type: 'put', key: keys.iocInfo('IOCC@h3'), value: '{}' }], 'own key');
    expect((await refusal(commitOps(c, [{ type: 'put', key: keys.iocInfo('IOCA@h1'), value: '{}' }], 'w'))).code).toBe('PVS_ETCD_DENIED');
    // Without root's identity the command is refused by etcd, clearly.
    const denied = startPvsync(['security', 'add-ioc', 'IOCD@h4', '--out', out, '--ca-dir', sc.tlsDir, '--root', ROOT,
      '--endpoints', sc.endpoints.join(','), ...iocA.flags]);
    expect(await denied.exited).toBe(1);
    expect(denied.output.join('')).toMatch(/pvsync: PVS_ETCD_DENIED: set up etcd user IOCD@h4: /);
  });

  describe('password login after the token expired', () => {
    let pw: Credentials;
    const waitPastTtl = (): Promise<void> => new Promise((r) => setTimeout(r, (3 * TOKEN_TTL_S + 1) * 1000));

    beforeAll(async () => {
      pw = await sc.passwordUser({
        user: 'mirror-pw', role: 'mirror-pw', permissions: [{ type: 'read', key: ROOT, prefix: true }],
      }, 'secret-pw');
    });

    it('refuses a wrong password with PVS_ETCD_AUTH', async () => {
      const e = await refusal(rangePrefix(client({ ...pw.security, password: 'wrong' }), ROOT));
      expect(e.code).toBe('PVS_ETCD_AUTH');
    });

    it('creates a new watch on a stream whose token expired (etcd3 alone cannot)', async () => {
      const prefix = `${ROOT}channels/pw-watch-`;
      const watch = async (c: Etcd3, seen: string[]): Promise<Watcher> => {
        const w = await c.watch().prefix(prefix).create();
        w.on('put', (kv) => seen.push(kv.key.toString()));
        return w;
      };
      const ours = client(pw.security);
      const seen1: string[] = [];
      const seen2: string[] = [];
      await watch(ours, seen1);
      // The same login through etcd3 without our edge, as a control: its second watch is refused.
      const bare = new Etcd3({ hosts: sc.endpoints, ...securityOptions(pw.security) });
      try {
        await watch(bare, []);
        await waitPastTtl();
        await expect(watch(bare, [])).rejects.toThrow(/invalid auth token/);
        await watch(ours, seen2);
      } finally {
        bare.close();
      }
      await root.put(`${prefix}1`).value('{}');
      await until('both watchers see the put', () => seen1.length === 1 && seen2.length === 1, 10_000);
    });

    it('keeps a mirror delivering after its watch stream reconnects with an expired token', async () => {
      const member = new URL(sc.endpoints[0] ?? '');
      const proxy = new FaultProxy({ target: member });
      await proxy.start();
      const applied: DirectoryEvent[] = [];
      const sink: MirrorSink = { clear: () => undefined, apply: (events) => { applied.push(...events); } };
      const viaProxy = client(pw.security, [`https://127.0.0.1:${proxy.port}`]);
      const { log, lines } = captureLog('debug');
      const mirror = new Mirror({ client: viaProxy, keys, sink, log });
      // On a failure, say what the mirror went through (its log), not only that it timed out.
      const withLog = (err: unknown): never => { throw new Error(`${String(err)}; mirror log: ${lines.map((l) => JSON.stringify(l)).join('\n')}`); };
      try {
        await mirror.start();
        await waitPastTtl();
        proxy.dropAll(); // the watch stream reconnects with the token it had, which etcd has forgotten
        await root.put(keys.channel('PW:AFTER')).value(JSON.stringify({ name: 'PW:AFTER', owner: 'x', properties: [], tags: [] }));
        await until('mirror applied the put', () => applied.some((e) => JSON.stringify(e).includes('PW:AFTER')), 15_000).catch(withLog);
        expect(mirror.ready).toBe(true);
        // Still following the watch (not just a re-list that happened to include the first put).
        await root.put(keys.channel('PW:LATER')).value(JSON.stringify({ name: 'PW:LATER', owner: 'x', properties: [], tags: [] }));
        await until('mirror applied the next put', () => applied.some((e) => JSON.stringify(e).includes('PW:LATER')), 10_000).catch(withLog);
      } finally {
        await mirror.stop();
        await proxy.stop();
      }
    });
  });
});
