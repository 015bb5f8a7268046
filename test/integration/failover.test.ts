/**
 * The failover client (src/adapters/cf-client) with real servers: installation "near" (the suite's 3-member etcd,
 * two `pvsync serve` processes) and "far" (a 1-member etcd, one `pvsync serve`), `pvsync replicate` copying near's
 * API data to far, writes made at near's etcd all along. Proves, for sessions in the middle of their work:
 * - a scroll whose server is killed continues at far, and returns to near (its next pages and the next session)
 *   once near's server is back, every channel exactly once, in order, with channels removed and added behind and
 *   ahead of it meanwhile;
 * - likewise when near is cut off behind a blackholing proxy (connections accepted, nothing answered): after the one
 *   page that timed out, no page waits on near again until a background probe finds it answering;
 * - a watch stream whose server is killed resumes exactly at near's other server (each change once, no reset);
 *   frozen there (SIGSTOP: silent, not closed) it moves to far with a `reset`, and back to near with a `reset` when
 *   near's first server returns; a consumer that re-lists only on `reset` ends equal to what was written.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { FailoverClient, type ClientChannel, type WatchEvent } from '../../src/adapters/cf-client/failover-client.js';
import { compareNames } from '../../src/core/directory/name-order.js';
import { Keyspace } from '../../src/core/keyspace.js';
import { basic, startReplica, type Replica } from '../support/api-replica.js';
import { testEndpoints, uniqueRoot } from '../support/cluster.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { freePorts } from '../support/free-ports.js';
import { startReplicator, writeInstallations, type TestInstallation } from '../support/installations.js';
import { startPvsync, until, type PvsyncProcess } from '../support/processes.js';
import { startTestCluster, type StartedCluster } from '../support/start-cluster.js';

const R = '/ChannelFinder/resources';
const url = (port: number): string => `http://127.0.0.1:${port}`;
const pad = (i: number, n = 3): string => String(i).padStart(n, '0');
const valueOf = (ch: ClientChannel): string | undefined => ch.properties?.find((p) => p.name === 'v')?.value;

describe('failover client with real installations', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pvsync-failover-'));
  let far: StartedCluster;
  let writer: Replica;
  let near: TestInstallation;
  let file: string;
  let ports: number[];
  const servers = new Map<string, PvsyncProcess>();
  const others: PvsyncProcess[] = [];

  const serve = (name: string, port: number): PvsyncProcess => {
    const p = startPvsync(['serve', '--installations', file, '--installation', name, '--port', String(port), '--host', '127.0.0.1',
      '--demo-auth', '--watch-heartbeat', '1']);
    servers.set(url(port), p);
    return p;
  };
  const healthy = async (port: number): Promise<boolean> => {
    const res = await fetch(`${url(port)}/healthz`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
    return res?.status === 200;
  };
  const kill = async (port: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const p = servers.get(url(port))!;
    p.child.kill(signal);
    await p.exited;
  };
  const write = async (method: 'PUT' | 'DELETE', path: string, payload?: object): Promise<void> => {
    const res = await writer.app.inject({ method, url: `${R}${path}`, headers: { authorization: basic('admin') }, ...(payload === undefined ? {} : { payload }) });
    expect(res.statusCode, `${method} ${path}: ${res.body}`).toBe(200);
  };
  const chan = (name: string, v: string): object => ({ name, owner: 'admin', properties: [{ name: 'v', owner: 'admin', value: v }], tags: [] });
  /** The names matching `glob` at one server, with their `v`. */
  const stateAt = async (port: number, glob: string): Promise<Map<string, string>> => {
    const res = await fetch(`${url(port)}${R}/channels?~name=${glob}`, { signal: AbortSignal.timeout(5000) });
    return new Map(((await res.json()) as ClientChannel[]).map((c) => [c.name, valueOf(c) ?? '']));
  };
  const same = (a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

  beforeAll(async () => {
    far = await startTestCluster('failover-far', { members: 1 });
    ports = await freePorts(3);
    const [n1, n2, f1] = ports as [number, number, number];
    near = { name: 'near', endpoints: testEndpoints(), root: uniqueRoot('failover-near'), api: [url(n1), url(n2)] };
    const farInst = { name: 'far', endpoints: far.info.endpoints, root: uniqueRoot('failover-far'), api: [url(f1)] };
    file = writeInstallations(dir, near, farInst);
    writer = await startReplica(new Keyspace(near.root));
    await write('PUT', '/properties/v', { name: 'v', owner: 'admin' });
    await write('PUT', '/channels', Array.from({ length: 120 }, (_, i) => chan(`FS:${pad(i)}`, '0')));
    others.push(startReplicator(file, 'api', 'near', 'far'));
    serve('near', n1);
    serve('near', n2);
    serve('far', f1);
    await until('three servers healthy', async () => (await healthy(n1)) && (await healthy(n2)) && (await healthy(f1)), 60_000);
    await until('far holds the replica', async () => (await stateAt(f1, 'FS:*')).size === 120, 30_000);
  });

  afterAll(async () => {
    const all = [...servers.values(), ...others];
    for (const p of all) {
      p.child.kill('SIGCONT');
      p.child.kill('SIGKILL');
    }
    await Promise.all(all.map((p) => p.exited));
    await writer?.stop();
    await far?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Run a scroll of FS:* in pages of 10, calling `at(k)` after the k-th channel; returns names and who served each. */
  const scroll = async (client: FailoverClient, at: (k: number) => Promise<void>): Promise<{ names: string[]; by: string[]; gaps: number[] }> => {
    const names: string[] = [];
    const by: string[] = [];
    const gaps: number[] = [];
    let t = Date.now();
    let page = '';
    for await (const ch of client.scroll('~name=FS:*', 10)) {
      if (names.length % 10 === 0) {
        // The first channel of a page: it just came, from the endpoint in use.
        gaps.push(Date.now() - t);
        page = client.current.installation;
      }
      names.push(ch.name);
      by.push(page);
      await at(names.length);
      t = Date.now();
    }
    return { names, by, gaps };
  };
  const runs = (by: readonly string[]): string[] => by.filter((x, i) => i === 0 || by[i - 1] !== x);

  it('a scroll whose server is killed continues at far and comes back when near returns, each channel once', async () => {
    const [n1, , f1] = ports as [number, number, number];
    const moves: string[] = [];
    const client = new FailoverClient({
      endpoints: [{ installation: 'near', url: url(n1) }, { installation: 'far', url: url(f1) }],
      timeoutMs: 3000, probeBaseMs: 100, probeCapMs: 800, onMove: (from, to) => moves.push(`${from.installation}->${to.installation}`),
    });
    onTestFinished(async () => {
      // The data as it was, and near's server up, for the next test.
      client.close();
      await write('PUT', '/channels', ['FS:003', 'FS:010', 'FS:070'].map((n) => chan(n, '0')));
      for (const n of ['FS:0005', 'FS:050a', 'FS:119z']) await writer.app.inject({ method: 'DELETE', url: `${R}/channels/${n}`, headers: { authorization: basic('admin') } });
      const last = servers.get(url(n1))!.child;
      if (last.exitCode !== null || last.signalCode !== null) serve('near', n1);
      await until('far is back to 120', async () => (await stateAt(f1, 'FS:*')).size === 120 && (await healthy(n1)), 30_000);
    });
    const { names, by } = await scroll(client, async (k) => {
      if (k === 25) await kill(n1);
      if (k === 35) {
        // Behind the cursor: two removed and one added (offsets shift); ahead of it: one removed, two added.
        await write('DELETE', '/channels/FS:003');
        await write('DELETE', '/channels/FS:010');
        await write('PUT', '/channels/FS:0005', chan('FS:0005', '1'));
        await write('DELETE', '/channels/FS:070');
        await write('PUT', '/channels/FS:050a', chan('FS:050a', '1'));
        await write('PUT', '/channels/FS:119z', chan('FS:119z', '1'));
        await until('far shows the changes', async () => (await stateAt(f1, 'FS:*')).has('FS:119z'));
      }
      if (k === 55) {
        serve('near', n1);
        await until('the client moved back to near', () => client.current.installation === 'near', 30_000);
      }
    });
    const expected = [...Array.from({ length: 120 }, (_, i) => `FS:${pad(i)}`).filter((n) => n !== 'FS:070'), 'FS:050a', 'FS:119z'].sort(compareNames);
    expect(names).toEqual(expected);
    expect(new Set(names).size).toBe(names.length);
    // Pages 1–3 from near, 4–6 from far (the kill came mid-page 3), the rest from near's restarted server.
    expect(by.slice(0, 30).every((x) => x === 'near')).toBe(true);
    expect(by.slice(30, 60).every((x) => x === 'far')).toBe(true);
    expect(by.slice(60).every((x) => x === 'near')).toBe(true);
    expect(moves).toEqual(['near->far', 'far->near']);
    // The next session starts at near.
    expect((await client.get(`${R}/channels/count?~name=FS:*`)).endpoint.installation).toBe('near');
  });

  it('a scroll cut off behind a blackholing proxy goes on at far without waiting on near, and comes back', async () => {
    const [n1, , f1] = ports as [number, number, number];
    const proxy = new FaultProxy({ target: { host: '127.0.0.1', port: n1 } });
    await proxy.start();
    const timeoutMs = 1500;
    const moves: string[] = [];
    const client = new FailoverClient({
      endpoints: [{ installation: 'near', url: proxy.url }, { installation: 'far', url: url(f1) }],
      timeoutMs, probeBaseMs: 100, probeCapMs: 400, onMove: (from, to) => moves.push(`${from.installation}->${to.installation}`),
    });
    try {
      const { names, by, gaps } = await scroll(client, async (k) => {
        if (k === 25) proxy.pause('both');
        // Paced so that probes of near come due (and hang) while far serves the pages.
        if (k > 30 && k <= 70 && k % 10 === 0) await new Promise((r) => setTimeout(r, 250));
        if (k === 70) {
          proxy.resume('both');
          await until('the client moved back to near', () => client.current.installation === 'near', 20_000);
        }
      });
      expect(names).toEqual(Array.from({ length: 120 }, (_, i) => `FS:${pad(i)}`));
      expect(runs(by)).toEqual(['near', 'far', 'near']);
      expect(by.slice(0, 30).every((x) => x === 'near') && by.slice(30, 70).every((x) => x === 'far')).toBe(true);
      // Page 4 waited for near's deadline; pages 5–7 came from far while near's probes hung, none waiting on one.
      expect(gaps[3]).toBeGreaterThanOrEqual(timeoutMs - 50);
      for (const g of gaps.slice(4, 7)) expect(g).toBeLessThan(timeoutMs);
      expect(moves).toEqual(['near->far', 'far->near']);
    } finally {
      client.close();
      await proxy.stop();
    }
  });

  it('a watch stream resumes exactly within near, moves to far with a reset when frozen, and back with a reset', async () => {
    const [n1, n2, f1] = ports as [number, number, number];
    const moves: string[] = [];
    const client = new FailoverClient({
      endpoints: [{ installation: 'near', url: url(n1) }, { installation: 'near', url: url(n2) }, { installation: 'far', url: url(f1) }],
      timeoutMs: 2000, watchIdleMs: 3000, probeBaseMs: 100, probeCapMs: 800,
      onMove: (from, to, why) => moves.push(`${from.url}->${to.url} (${why})`),
    });
    // What was written, and the consumer's view: re-listed on the first sync and after each reset, else changes applied.
    const truth = new Map<string, string>();
    const view = new Map<string, string>();
    const seq: string[] = [];
    const problems: string[] = [];
    const changed: string[] = [];
    let needList = true;
    let chain: Promise<void> = Promise.resolve();
    const handler = (ev: WatchEvent): void => {
      if (ev.type !== 'progress' && ev.type !== 'change') seq.push(`${ev.installation}:${ev.type}`);
      if (ev.type === 'reset') needList = true;
      else if (ev.type === 'sync') {
        if (!needList) problems.push(`a sync without a reset before it, at ${ev.installation}`);
        needList = false;
        const at = client.current.url; // the server that sent this sync
        chain = chain.then(async () => {
          const res = await fetch(`${at}${R}/channels?~name=FW:*`, { signal: AbortSignal.timeout(5000) });
          view.clear();
          for (const c of (await res.json()) as ClientChannel[]) view.set(c.name, valueOf(c) ?? '');
        }).catch((err: unknown) => void problems.push(`re-list at ${at}: ${String(err)}`));
      } else if (ev.type === 'change') {
        const d = ev.data as { channels: ClientChannel[]; removed: string[] };
        chain = chain.then(() => {
          for (const c of d.channels) {
            view.set(c.name, valueOf(c) ?? '');
            changed.push(`${c.name}=${valueOf(c)}`);
          }
          for (const n of d.removed) view.delete(n);
        });
      }
    };
    const put = async (name: string, v: string): Promise<void> => {
      await write('PUT', `/channels/${name}`, chan(name, v));
      truth.set(name, v);
    };
    const del = async (name: string): Promise<void> => {
      await write('DELETE', `/channels/${name}`);
      truth.delete(name);
    };
    const converged = (what: string): Promise<void> => until(what, async () => {
      await chain;
      return same(view, truth);
    }, 30_000);
    const stop = new AbortController();
    const watching = client.watch('~name=FW:*', handler, stop.signal);
    try {
      await until('the watch is synced at near', () => seq.includes('near:sync'));
      // 1. near's first server killed mid-burst: the stream resumes at its second server with Last-Event-ID.
      for (let i = 0; i < 40; i++) {
        if (i === 15) await kill(n1);
        await put(`FW:${pad(i, 4)}`, 'a');
      }
      await converged('every creation seen through near');
      expect(client.current.url).toBe(url(n2));
      expect(seq).toEqual(['near:sync']);
      expect(changed).toEqual(Array.from({ length: 40 }, (_, i) => `FW:${pad(i, 4)}=a`)); // each once, in order
      // 2. near's second server frozen: its stream goes silent; changes meanwhile must not be lost at far.
      servers.get(url(n2))!.child.kill('SIGSTOP');
      for (let i = 40; i < 50; i++) await put(`FW:${pad(i, 4)}`, 'b');
      for (let i = 0; i < 5; i++) await put(`FW:${pad(i, 4)}`, 'b');
      for (let i = 10; i < 13; i++) await del(`FW:${pad(i, 4)}`);
      await until('the stream moved to far', () => seq.includes('far:sync'), 20_000);
      await converged('far shows every change');
      // 3. near's first server back: the client returns there with a reset; writes go on during the move.
      const back = serve('near', n1);
      const deadline = Date.now() + 45_000;
      for (let i = 50; !seq.includes('near:reset') || i < 70; i++) {
        await put(`FW:${pad(i, 4)}`, 'c');
        if (i % 4 === 0) await del(`FW:${pad(i - 20, 4)}`);
        if (i % 3 === 0) await put(`FW:${pad(i - 30, 4)}`, 'c2');
        await new Promise((r) => setTimeout(r, 20));
        if (Date.now() > deadline) {
          throw new Error(`no move back to near: ${seq.join(', ')}; moves: ${moves.join(', ')}; near's first server healthy: `
            + `${await healthy(n1)}; its log: ${back.output.join('').slice(-1500)}`);
        }
      }
      await until('the stream is synced at near again', () => seq.filter((e) => e === 'near:sync').length === 2, 20_000);
      await converged('near shows every change');
      expect(client.current.url).toBe(url(n1));
      expect(seq).toEqual(['near:sync', 'far:reset', 'far:sync', 'near:reset', 'near:sync']);
      expect(problems).toEqual([]);
    } finally {
      stop.abort();
      await watching;
      client.close();
      servers.get(url(n2))!.child.kill('SIGCONT');
    }
  });
});
