/**
 * What a secondary installation serves beyond the channel directory, with real parts: installation "near" (the
 * suite's etcd, two `pvsync archiver-agent` processes in one group, one `pvsync serve`) is the primary of every
 * data type; "far" (a 1-member etcd, `pvsync serve` twice, the second with --no-forward-writes) holds replicas kept
 * by `pvsync replicate`. Proves: far's archiver status is the primary's group, read from its replica; a switchover
 * sent to far is forwarded to near with the caller's credentials (anonymous → near's 401; ADMIN → done there), far
 * writes nothing of the archiver type itself, and refuses with PVS_NOT_PRIMARY naming near when told not to forward;
 * `/api/v1/history` at far answers over its replicas as they stood at one of far's revisions; a watch stream
 * resumed at a restarted far server from before its start gets the replicated changes it missed, exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rangePrefix } from '../../src/adapters/etcd/kv.js';
import { etcdClient, testEndpoints, uniqueRoot } from '../support/cluster.js';
import { freePorts } from '../support/free-ports.js';
import { startReplicator, writeInstallations, type TestInstallation } from '../support/installations.js';
import { startPvsync, until, type PvsyncProcess } from '../support/processes.js';
import { openSse } from '../support/sse-stream.js';
import { startTestCluster, type StartedCluster } from '../support/start-cluster.js';

const ADMIN = `Basic ${Buffer.from('admin:adminPass').toString('base64')}`;
const url = (port: number): string => `http://127.0.0.1:${port}`;

interface Status {
  active: { node: string } | null;
  nodes: { node: string; role: string; healthy: boolean }[];
}

describe('a secondary installation: archiver routes, history and watch backfill over its replicas', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pvsync-replica-routes-'));
  let far: StartedCluster;
  let farEtcd: Etcd3;
  let near: TestInstallation;
  let farInst: TestInstallation;
  let file: string;
  let ports: number[];
  const procs: PvsyncProcess[] = [];
  const run = (p: PvsyncProcess): PvsyncProcess => {
    procs.push(p);
    return p;
  };
  const servers = new Map<number, PvsyncProcess>();
  const serve = (name: string, port: number, extra: string[] = []): void => {
    servers.set(port, run(startPvsync(['serve', '--installations', file, '--installation', name, '--port', String(port), '--host', '127.0.0.1', '--demo-auth', ...extra])));
  };
  const agent = (node: string): void => void run(startPvsync(['archiver-agent', '--node', node, '--group', 'default', '--root', near.root,
    '--ttl', '2', '--endpoints', testEndpoints().join(','), '--start', 'true', '--stop', 'true', '--health-cmd', 'true', '--health-interval', '0.5',
    '--mgmt-url', `http://${node}.invalid:17665/mgmt`, '--retrieval-url', `http://${node}.invalid:17668/retrieval`]));
  const getJson = async <T>(port: number, path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${url(port)}${path}`, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: (await res.json()) as T };
  };
  const healthy = async (port: number): Promise<boolean> =>
    (await fetch(`${url(port)}/healthz`, { signal: AbortSignal.timeout(2000) }).catch(() => null))?.status === 200;
  const switchover = (port: number, body: object, auth?: string): Promise<Response> => fetch(`${url(port)}/api/v1/archiver/switchover`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(auth === undefined ? {} : { authorization: auth }) },
    body: JSON.stringify(body), signal: AbortSignal.timeout(15_000),
  });
  const putChannel = async (name: string, v: string): Promise<void> => {
    const res = await fetch(`${url(ports[0]!)}/ChannelFinder/resources/channels/${name}`, {
      method: 'PUT', headers: { authorization: ADMIN, 'content-type': 'application/json' }, signal: AbortSignal.timeout(10_000),
      body: JSON.stringify({ name, owner: 'admin', properties: [{ name: 'v', owner: 'admin', value: v }], tags: [] }),
    });
    expect(res.status, await res.text()).toBe(200);
  };
  const valueAt = async (port: number, name: string): Promise<string | undefined> => {
    const r = await getJson<{ properties: { name: string; value: string }[] }>(port, `/ChannelFinder/resources/channels/${name}`);
    return r.status === 200 ? r.body.properties.find((p) => p.name === 'v')?.value : undefined;
  };

  beforeAll(async () => {
    far = await startTestCluster('replica-routes', { members: 1 });
    farEtcd = etcdClient(far.info.endpoints);
    ports = await freePorts(3);
    const [n1, f1, f2] = ports as [number, number, number];
    near = { name: 'near', endpoints: testEndpoints(), root: uniqueRoot('rr-near'), api: [url(n1)] };
    farInst = { name: 'far', endpoints: far.info.endpoints, root: uniqueRoot('rr-far'), api: [url(f1), url(f2)] };
    file = writeInstallations(dir, near, farInst);
    agent('arch-a');
    agent('arch-b');
    for (const t of ['api', 'archiver'] as const) run(startReplicator(file, t, 'near', 'far'));
    serve('near', n1);
    serve('far', f1);
    serve('far', f2, ['--no-forward-writes']);
    await until('three servers healthy', async () => (await healthy(n1)) && (await healthy(f1)) && (await healthy(f2)), 60_000);
    const res = await fetch(`${url(n1)}/ChannelFinder/resources/properties/v`, {
      method: 'PUT', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'v', owner: 'admin' }),
    });
    expect(res.status).toBe(200);
  });

  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    farEtcd?.close();
    await far?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the primary\'s archiver group and forwards a switchover there with the caller\'s credentials', async () => {
    const [n1, f1, f2] = ports as [number, number, number];
    const ready = (s: Status): boolean => s.active !== null && s.nodes.filter((n) => n.healthy).length === 2;
    let seen: unknown;
    await until('near has an active node and a healthy standby', async () => {
      const s = (await getJson<Status>(n1, '/api/v1/archiver/status')).body;
      seen = s;
      return ready(s);
    }, 30_000).catch((err: unknown) => {
      throw new Error(`${String(err)}; last status ${JSON.stringify(seen)}; agents: ${procs.slice(0, 2).map((p) => p.output.join('').slice(-800)).join(' | ')}`);
    });
    const from = (await getJson<Status>(n1, '/api/v1/archiver/status')).body.active!.node;
    const to = from === 'arch-a' ? 'arch-b' : 'arch-a';
    // far reads the group from its replica: the same active node and nodes as near.
    await until('far shows the same group', async () => {
      const s = (await getJson<Status>(f1, '/api/v1/archiver/status')).body;
      return ready(s) && s.active?.node === from;
    }, 30_000);
    expect((await getJson<Status>(f1, '/api/v1/archiver/status')).body.nodes.map((n) => n.node).sort()).toEqual(['arch-a', 'arch-b']);

    // Anonymous: near's own refusal comes back through far.
    const anon = await switchover(f1, { to });
    expect(anon.status).toBe(401);
    expect(anon.headers.get('x-pvsync-forwarded-to')).toBe('near');
    expect(anon.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect((await getJson<Status>(n1, '/api/v1/archiver/status')).body.active?.node).toBe(from);
    // ADMIN: done at near, answered through far.
    const ok = await switchover(f1, { to, timeoutMs: 8000 }, ADMIN);
    const body = (await ok.json()) as { from: string; to: string };
    expect(ok.status, JSON.stringify(body)).toBe(200);
    expect(ok.headers.get('x-pvsync-forwarded-to')).toBe('near');
    expect(body).toMatchObject({ from, to });
    expect((await getJson<Status>(n1, '/api/v1/archiver/status')).body.active?.node).toBe(to);
    await until('far\'s replica shows the new active node', async () => (await getJson<Status>(f1, '/api/v1/archiver/status')).body.active?.node === to);
    // far never wrote archiver keys of its own: what it shows is the replica.
    expect((await rangePrefix(farEtcd, `${farInst.root}archiver/`)).kvs).toHaveLength(0);

    // A server told not to forward refuses, naming the primary; nothing changes at near.
    const refused = await switchover(f2, { to: from }, ADMIN);
    expect(refused.status).toBe(409);
    expect(refused.headers.get('x-pvsync-code')).toBe('PVS_NOT_PRIMARY');
    expect(refused.headers.get('x-pvsync-primary')).toBe('near');
    expect(((await refused.json()) as { message: string }).message).toMatch(/archiver.*near/);
    expect((await getJson<Status>(n1, '/api/v1/archiver/status')).body.active?.node).toBe(to);
  });

  it('answers history over its replicas at its own revisions', async () => {
    const [, f1] = ports as [number, number, number];
    await putChannel('HIST:1', 'one');
    await until('far shows HIST:1', async () => (await valueAt(f1, 'HIST:1')) === 'one');
    const r1 = (await getJson<{ revision: number }>(f1, '/healthz')).body.revision;
    await putChannel('HIST:1', 'two');
    await putChannel('HIST:2', 'new');
    await until('far shows the changes', async () => (await valueAt(f1, 'HIST:2')) === 'new');
    expect(await valueAt(f1, 'HIST:1')).toBe('two');
    const then = await getJson<{ name: string; properties: { name: string; value: string }[] }[]>(f1, `/api/v1/history/channels?~revision=${r1}&~name=HIST:*`);
    expect(then.status).toBe(200);
    expect(then.body.map((c) => c.name)).toEqual(['HIST:1']);
    const props = Object.fromEntries(then.body[0]!.properties.map((p) => [p.name, p.value]));
    expect(props).toMatchObject({ v: 'one', installation: 'near' });
    const one = await getJson<{ properties: { name: string; value: string }[] }>(f1, `/api/v1/history/channels/HIST:1?~revision=${r1}`);
    expect(one.body.properties.find((p) => p.name === 'v')?.value).toBe('one');
  });

  it('a watch resumed at a restarted server from before its start gets the replicated changes it missed, once each', async () => {
    const [, f1, f2] = ports as [number, number, number];
    const first = await openSse(f1, '/api/v1/watch?~name=MISS:*');
    await until('sync', () => first.text().includes('event: sync'));
    const since = Number(/id: (\d+)/.exec(first.text())![1]);
    first.close();
    // The server goes; changes arrive at far's replica meanwhile; a new server starts after them.
    const old = servers.get(f1)!;
    old.child.kill('SIGTERM');
    await old.exited;
    for (let i = 0; i < 10; i++) await putChannel(`MISS:${i}`, String(i));
    await until('far\'s other server shows them', async () => (await valueAt(f2, 'MISS:9')) === '9');
    serve('far', f1);
    await until('the new server is healthy', () => healthy(f1), 30_000);
    const resumed = await openSse(f1, '/api/v1/watch?~name=MISS:*', { 'last-event-id': String(since) });
    const changed = (): string[] => [...resumed.text().matchAll(/"name":"(MISS:\d+)"/g)].map((m) => m[1]!);
    await until('every missed change', () => changed().length >= 10, 20_000);
    await new Promise((r) => setTimeout(r, 300)); // a duplicate would arrive meanwhile
    resumed.close();
    expect(resumed.status).toBe(200);
    expect(resumed.text()).not.toContain('event: reset');
    expect(changed()).toEqual(Array.from({ length: 10 }, (_, i) => `MISS:${i}`));
  });
});
