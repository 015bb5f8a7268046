/**
 * `pvsync replicate` between two installations on this machine: the suite's 3-member cluster as the primary and a
 * 1-member etcd as the secondary (a dedicated 1-member primary for the compaction test). Proves: under concurrent
 * writes (with a source revision too big for one target transaction) the replica equals the source per data type;
 * a replicator SIGKILLed mid-stream resumes with every source write applied exactly once, in order; a source
 * compacted while the replicator was down converges (what vanished is deleted); two replicators of one flow elect one;
 * `pvsync serve` at the secondary answers over its replicas with the same channels as the primary (each marked with
 * its installation), lists the data locations with their lag, forwards a write to the primary, and once the primary
 * is stopped keeps answering, reports its growing staleness and refuses writes naming the primary.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3, IWatchResponse, Watcher } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FailoverClient } from '../../src/adapters/cf-client/failover-client.js';
import { ReplicationKeys } from '../../src/core/replication/keys.js';
import { etcdClient, testEndpoints, uniqueRoot } from '../support/cluster.js';
import {
  checkpointOf, replicaState, sourceState, startReplicator, untilConverged, writeInstallations, type TestInstallation,
} from '../support/installations.js';
import { freePorts } from '../support/free-ports.js';
import { startPvsync, until, type PvsyncProcess } from '../support/processes.js';
import { startTestCluster, type StartedCluster } from '../support/start-cluster.js';

const channel = (name: string, v: string): string => JSON.stringify({ name, owner: 'repl', properties: [{ name: 'v', value: v }], tags: [] });
const record = (name: string, v: string): string => JSON.stringify({ name, type: 'ai', desc: v, infos: {}, aliases: [] });

describe('pvsync replicate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pvsync-repl-'));
  let secondary: StartedCluster;
  let small: StartedCluster;
  let src: Etcd3;
  let dst: Etcd3;
  let smallSrc: Etcd3;
  const procs: PvsyncProcess[] = [];
  const run = (p: PvsyncProcess): PvsyncProcess => {
    procs.push(p);
    return p;
  };
  const pair = (label: string, primary: readonly string[] = testEndpoints()): { file: string; a: TestInstallation; b: TestInstallation } => {
    const a = { name: `prim-${label}`, endpoints: primary, root: uniqueRoot(`repl-a-${label}`) };
    const b = { name: `sec-${label}`, endpoints: secondary.info.endpoints, root: uniqueRoot(`repl-b-${label}`) };
    return { file: writeInstallations(dir, a, b), a, b };
  };

  beforeAll(async () => {
    [secondary, small] = await Promise.all([startTestCluster('repl-sec', { members: 1 }), startTestCluster('repl-pri', { members: 1 })]);
    src = etcdClient();
    dst = etcdClient(secondary.info.endpoints);
    smallSrc = etcdClient(small.info.endpoints);
  });

  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    src?.close();
    dst?.close();
    smallSrc?.close();
    await Promise.all([secondary?.stop(), small?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('under concurrent writes the replica of each data type equals its source; a 128-op revision is split safely', async () => {
    const { file, a, b } = pair('conc');
    const apiKeys = new ReplicationKeys(a.root, b.root, a.name, 'api');
    const iocKeys = new ReplicationKeys(a.root, b.root, a.name, 'iocs');
    // Some data before the replicators start (the first start re-lists), then writers while they run.
    await src.put(`${a.root}channels/pre`).value(channel('pre', '0'));
    run(startReplicator(file, 'api', a.name, b.name));
    run(startReplicator(file, 'iocs', a.name, b.name));
    run(startReplicator(file, 'iocs', a.name, b.name)); // a standby of the same flow
    const writers = [
      (async () => {
        for (let i = 0; i < 300; i++) {
          const n = `C${i % 40}`;
          if (i % 7 === 6) await src.delete().key(`${a.root}channels/C${(i + 3) % 40}`);
          else await src.put(`${a.root}channels/${n}`).value(channel(n, String(i)));
        }
      })(),
      (async () => {
        for (let i = 0; i < 300; i++) await src.put(`${a.root}iocs/ioc1@h/records/R${i % 50}`).value(record(`R${i % 50}`, String(i)));
        await src.put(`${a.root}iocs/ioc1@h/info`).value('{"not":"validated by the replicator"}');
      })(),
      (async () => {
        // One source revision of 128 operations: with the checkpoint it cannot fit one target transaction.
        const ops = Array.from({ length: 128 }, (_, i) => src.put(`${a.root}iocs/big@h/records/B${i}`).value(record(`B${i}`, 'x'.repeat(2000))));
        await src.if(`${a.root}iocs/big@h/info`, 'Create', '==', 0).then(...ops).commit();
      })(),
    ];
    await Promise.all(writers);
    const apiState = await untilConverged(src, dst, apiKeys);
    const iocState = await untilConverged(src, dst, iocKeys);
    expect(apiState.size).toBeGreaterThan(20);
    expect(iocState.size).toBe(50 + 128 + 1);
    // Only the api flow's keys went under the api prefixes, and no stray keys elsewhere under the replica root.
    const all = await replicaState(dst, new ReplicationKeys(a.root, b.root, a.name, 'archiver'));
    expect(all.size).toBe(0);
    const ck = await checkpointOf(dst, iocKeys);
    expect(ck?.pending).toBeUndefined();
    // One of the two iocs replicators is elected: the flow's election key is held by exactly one.
    expect((await dst.get(iocKeys.leader).string()) ?? '').toContain('node');
  });

  it('a replicator SIGKILLed mid-stream resumes with every source write applied exactly once, in order', async () => {
    const { file, a, b } = pair('kill');
    const keys = new ReplicationKeys(a.root, b.root, a.name, 'api');
    let rep = run(startReplicator(file, 'api', a.name, b.name));
    await until('first checkpoint', async () => (await checkpointOf(dst, keys)) !== null);
    // Every put the replica receives, in target order.
    const seen: string[] = [];
    const watcher: Watcher = await dst.watch().prefix(keys.replicaRoot).create();
    watcher.on('data', (res: IWatchResponse) => {
      for (const ev of res.events) if (ev.type === 'Put') seen.push(`${ev.kv.key.toString().slice(keys.replicaRoot.length)}=${ev.kv.value.toString()}`);
    });
    const expected: string[] = [];
    const N = 400;
    let killedAt = -1;
    for (let i = 0; i < N; i++) {
      const n = `K${i % 100}`;
      const v = channel(n, String(i));
      await src.put(`${a.root}channels/${n}`).value(v);
      expected.push(`channels/${n}=${v}`);
      if (i === 150) {
        rep.child.kill('SIGKILL');
        await rep.exited;
        killedAt = (await checkpointOf(dst, keys))?.revision ?? 0;
      }
      if (i === 280) rep = run(startReplicator(file, 'api', a.name, b.name));
    }
    await untilConverged(src, dst, keys);
    await until('the watch saw every put', () => seen.length >= expected.length, 10_000);
    await new Promise((r) => setTimeout(r, 300)); // any duplicate would arrive meanwhile
    await watcher.cancel();
    expect(killedAt).toBeGreaterThan(0);
    expect(seen).toEqual(expected);
  });

  it('a source compacted while the replicator was down converges, deleting what vanished', async () => {
    const { file, a, b } = pair('compact', small.info.endpoints);
    const keys = new ReplicationKeys(a.root, b.root, a.name, 'iocs');
    const bulk = (ops: Parameters<ReturnType<Etcd3['if']>['then']>): Promise<unknown> =>
      smallSrc.if(`${a.root}none`, 'Create', '==', 0).then(...ops).commit();
    await bulk(Array.from({ length: 60 }, (_, i) => smallSrc.put(`${a.root}iocs/c@h/records/R${i}`).value(record(`R${i}`, '1'))));
    const rep = run(startReplicator(file, 'iocs', a.name, b.name));
    await untilConverged(smallSrc, dst, keys);
    rep.child.kill('SIGTERM');
    await rep.exited;
    // While it is down: changes, deletions, then a compaction of everything it would have resumed from.
    await bulk(Array.from({ length: 30 }, (_, i) => smallSrc.delete().key(`${a.root}iocs/c@h/records/R${i}`)));
    await bulk(Array.from({ length: 30 }, (_, i) => smallSrc.put(`${a.root}iocs/c@h/records/R${i + 30}`).value(record(`R${i + 30}`, '2'))));
    await smallSrc.put(`${a.root}alive/c@h`).value('{}');
    const head = Number((await smallSrc.get('x').exec()).header.revision);
    await smallSrc.kv.compact({ revision: head, physical: true });
    const rep2 = run(startReplicator(file, 'iocs', a.name, b.name));
    const state = await untilConverged(smallSrc, dst, keys);
    expect(state.size).toBe(31);
    expect([...(await replicaState(dst, keys)).keys()].some((k) => k.endsWith('/R0'))).toBe(false);
    await until('the re-list was logged', () => rep2.output.join('').includes('re-listing') || rep2.output.join('').includes('re-listed'));
    expect((await sourceState(smallSrc, a.root, 'iocs')).size).toBe(31);
  });

  it('serve at the secondary answers over its replicas, forwards writes, and outlives its primary', async () => {
    const [pPort, sPort] = await freePorts(2);
    const a = { name: 'site-a', endpoints: small.info.endpoints, root: uniqueRoot('inst-a'), api: [`http://127.0.0.1:${pPort}`] };
    const b = { name: 'site-b', endpoints: secondary.info.endpoints, root: uniqueRoot('inst-b'), api: [`http://127.0.0.1:${sPort}`] };
    const file = writeInstallations(dir, a, b);
    const now = new Date().toISOString();
    const ioc = 'ioc9@hostA';
    const ops = [
      smallSrc.put(`${a.root}iocs/${ioc}/info`).value(JSON.stringify({
        schema: 1, iocId: ioc, iocName: 'ioc9', hostName: 'hostA', env: {}, uploadId: 'u1', state: 'complete', records: 2, updatedAt: now, writer: 't',
      })),
      smallSrc.put(`${a.root}alive/${ioc}`).value(JSON.stringify({ uploadId: 'u1', since: now, writer: 't' })),
      smallSrc.put(`${a.root}iocs/${ioc}/records/A:one`).value(record('A:one', 'first')),
      smallSrc.put(`${a.root}iocs/${ioc}/records/A:two`).value(record('A:two', 'second')),
    ];
    await smallSrc.if(`${a.root}none`, 'Create', '==', 0).then(...ops).commit();
    const serveArgs = (name: string, port: number): string[] => ['serve', '--installations', file, '--installation', name, '--port', String(port), '--host', '127.0.0.1', '--demo-auth'];
    const prim = run(startPvsync(serveArgs(a.name, pPort!)));
    const sec = run(startPvsync(serveArgs(b.name, sPort!)));
    for (const t of ['api', 'iocs'] as const) run(startReplicator(file, t, a.name, b.name));
    const get = async (port: number, path: string): Promise<{ status: number; body: unknown; headers: Headers }> => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
      return { status: res.status, body: await res.json(), headers: res.headers };
    };
    const admin = `Basic ${Buffer.from('admin:adminPass').toString('base64')}`;
    const put = (port: number, name: string): Promise<Response> => fetch(`http://127.0.0.1:${port}/ChannelFinder/resources/channels/${name}`, {
      method: 'PUT', headers: { authorization: admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name, owner: 'admin', properties: [], tags: [] }), signal: AbortSignal.timeout(10_000),
    });
    await until('both servers listen', async () => (await get(pPort!, '/healthz').catch(() => null)) !== null && (await get(sPort!, '/healthz').catch(() => null)) !== null);
    expect((await put(pPort!, 'API:written')).status).toBe(200);
    // A write at the secondary is forwarded to the primary with the caller's credentials.
    const fwd = await put(sPort!, 'API:forwarded');
    expect(fwd.status).toBe(200);
    expect(fwd.headers.get('x-pvsync-forwarded-to')).toBe(a.name);
    const names = async (port: number): Promise<string> => JSON.stringify(((await get(port, '/ChannelFinder/resources/channels?~name=*')).body as { name: string }[]));
    await until('the secondary shows what the primary shows', async () => (await names(sPort!)) === (await names(pPort!)) && (await names(pPort!)).includes('API:forwarded'));
    const chans = (await get(sPort!, '/ChannelFinder/resources/channels?~name=*')).body as { name: string; properties: { name: string; value: string }[] }[];
    expect(chans.map((c) => c.name)).toEqual(['A:one', 'A:two', 'API:forwarded', 'API:written']);
    for (const c of chans) expect(c.properties.find((p) => p.name === 'installation')?.value).toBe(a.name);
    const inst = (await get(sPort!, '/api/v1/installations')).body as { installation: string; data: { type: string; primary: string; replicas: { installation: string; lagSeconds: number | null }[] }[] };
    expect(inst.installation).toBe(b.name);
    const apiLoc = inst.data.find((d) => d.type === 'api');
    expect(apiLoc?.primary).toBe(a.name);
    await until('the replicas report a lag', async () => {
      const r = (await get(sPort!, '/api/v1/installations')).body as typeof inst;
      return r.data.filter((d) => d.type !== 'archiver').every((d) => typeof d.replicas[0]?.lagSeconds === 'number');
    });

    // A client scrolling page by page at the primary when its server stops moves to the secondary mid-scroll.
    const client = new FailoverClient({ endpoints: [{ installation: a.name, url: a.api[0]! }, { installation: b.name, url: b.api[0]! }], timeoutMs: 3000 });
    // A watch session through another client at the primary: when the primary's server stops it must say `reset`.
    const watcher = new FailoverClient({ endpoints: [{ installation: a.name, url: a.api[0]! }, { installation: b.name, url: b.api[0]! }], timeoutMs: 3000 });
    const events: string[] = [];
    const stopWatch = new AbortController();
    const watching = watcher.watch('~name=*', (ev) => events.push(`${ev.installation}:${ev.type}`), stopWatch.signal);
    await until('the watch is synced at the primary', () => events.includes(`${a.name}:sync`));
    const scrolled: string[] = [];
    for await (const ch of client.scroll('~name=*', 1)) {
      scrolled.push(ch.name);
      if (scrolled.length === 2) {
        expect(client.current.installation).toBe(a.name);
        prim.child.kill('SIGTERM');
        await prim.exited;
      }
    }
    expect(scrolled).toEqual(['A:one', 'A:two', 'API:forwarded', 'API:written']);
    expect(client.current.installation).toBe(b.name);
    await until('the watch moved with a reset', () => events.includes(`${b.name}:sync`));
    stopWatch.abort();
    await watching;
    expect(events.slice(0, events.indexOf(`${b.name}:sync`) + 1).filter((e) => !e.endsWith(':progress')))
      .toEqual([`${a.name}:sync`, `${b.name}:reset`, `${b.name}:sync`]);

    // The primary goes away: the secondary keeps answering from its replicas and says how stale they are.
    await small.stop();
    await new Promise((r) => setTimeout(r, 3000));
    const after = (await get(sPort!, '/ChannelFinder/resources/channels?~name=*')).body as { name: string }[];
    expect(after.map((c) => c.name)).toEqual(['A:one', 'A:two', 'API:forwarded', 'API:written']);
    const health = (await get(sPort!, '/healthz')).body as { replicas: { type: string; lagSeconds: number }[] };
    expect(health.replicas.find((r) => r.type === 'api')!.lagSeconds).toBeGreaterThan(2.5);
    const refused = await put(sPort!, 'API:later');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('x-pvsync-code')).toBe('PVS_NOT_PRIMARY');
    expect(((await refused.json()) as { message: string }).message).toContain(a.name);
    sec.child.kill('SIGTERM');
    expect(await sec.exited).toBe(0);
  });
});
