/**
 * Benchmark of `pvsync replicate` against etcd's own mirror tool, `etcdctl make-mirror` (Debian's etcd-client),
 * between the same two clusters in the same run: a 3-member source (the primary) and a 1-member target (the
 * secondary). Phase 1, initial copy: N keys already at the source, each tool copies them into its own target
 * prefix (keys/s). Phase 2, a steady write load at the source with both tools following: the lag from each write to
 * its arrival at the target (p50/p99), and the throughput of a burst of single-key writes. Last line is JSON.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Etcd3, IWatchResponse } from 'etcd3';
import { pino } from 'pino';
import { createEtcdClient } from '../src/adapters/etcd/client.js';
import { commitOps, type WriteOp } from '../src/adapters/etcd/kv.js';
import { Replicator } from '../src/adapters/etcd/replicator.js';
import { ReplicationKeys } from '../src/core/replication/keys.js';
import { startTestCluster } from '../test/support/start-cluster.js';

const N = Number(process.env['BENCH_KEYS'] ?? 5000);
const RATE = 200; // writes per second in the steady phase
const STEADY_S = 6;
const BURST = 2000;
const SRC_ROOT = '/bench/src/';
const DST_ROOT = '/bench/dst/';
const MM_PREFIX = '/bench/mm/';

const value = (i: number, t: number): string => JSON.stringify({ name: `BENCH:${i}`, owner: 'bench', properties: [{ name: 't', value: String(t) }], tags: [], pad: 'x'.repeat(120) });

async function count(client: Etcd3, prefix: string): Promise<number> {
  return client.getAll().prefix(prefix).count();
}

async function until(cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

function startMirror(srcEndpoints: readonly string[], dstEndpoint: string): ReturnType<typeof spawn> {
  return spawn('etcdctl', [`--endpoints=${srcEndpoints.join(',')}`, 'make-mirror', `--prefix=${SRC_ROOT}channels/`, `--dest-prefix=${MM_PREFIX}channels/`, dstEndpoint], {
    env: { ...process.env, ETCDCTL_API: '3' }, stdio: 'ignore',
  });
}

async function main(): Promise<void> {
  // etcd's data in memory where there is a /dev/shm: the bench compares the tools, not this machine's shared disk.
  if (existsSync('/dev/shm')) process.env['TMPDIR'] = '/dev/shm';
  const [src, dst] = await Promise.all([startTestCluster('bench-repl-src'), startTestCluster('bench-repl-dst', { members: 1 })]);
  const log = pino({ level: 'silent' });
  const source = createEtcdClient(src.info.endpoints, { callTimeoutMs: 20_000 });
  const target = createEtcdClient(dst.info.endpoints, { callTimeoutMs: 20_000 });
  const procs: ReturnType<typeof spawn>[] = [];
  let replicator: Replicator | null = null;
  try {
    // Phase 1: N keys at the source, batched 128 per transaction.
    const ops: WriteOp[] = Array.from({ length: N }, (_, i) => ({ type: 'put', key: `${SRC_ROOT}channels/BENCH:${i}`, value: value(i, 0) }));
    for (let i = 0; i < ops.length; i += 128) await commitOps(source, ops.slice(i, i + 128), 'load');
    console.log(`loaded ${N} keys into the source`);

    let t0 = performance.now();
    const mm = startMirror(src.info.endpoints, dst.info.endpoints[0]!);
    procs.push(mm);
    await until(async () => (await count(target, MM_PREFIX)) >= N, 120_000);
    const mmInitial = N / ((performance.now() - t0) / 1000);
    console.log(`etcdctl make-mirror: initial copy ${mmInitial.toFixed(0)} keys/s`);

    const keys = new ReplicationKeys(SRC_ROOT, DST_ROOT, 'src', 'api');
    t0 = performance.now();
    replicator = new Replicator({ source, target, keys, log, id: 'bench' });
    replicator.start();
    await until(async () => (await count(target, keys.replicaRoot)) >= N, 120_000);
    const pvInitial = N / ((performance.now() - t0) / 1000);
    console.log(`pvsync replicate: initial copy ${pvInitial.toFixed(0)} keys/s`);

    // Phase 2: both follow; arrival times of every write at both target prefixes.
    const arrivals = new Map<string, number>();
    const w = await target.watch().prefix('/bench/').create();
    w.on('data', (res: IWatchResponse) => {
      const now = performance.now();
      for (const ev of res.events) if (ev.type === 'Put') arrivals.set(ev.kv.key.toString(), now);
    });
    const sent = new Map<number, number>();
    let next = N;
    const steadyEnd = performance.now() + STEADY_S * 1000;
    while (performance.now() < steadyEnd) {
      const i = next++;
      sent.set(i, performance.now());
      source.put(`${SRC_ROOT}channels/BENCH:${i}`).value(value(i, 1)).catch((err: unknown) => { console.log(`steady put ${i}: ${String(err)}`); });
      await new Promise((r) => setTimeout(r, 1000 / RATE));
    }
    const steadyLast = next;
    await until(async () => arrivals.has(`${MM_PREFIX}channels/BENCH:${steadyLast - 1}`) && arrivals.has(`${keys.replicaRoot}channels/BENCH:${steadyLast - 1}`), 60_000).catch(async (err: unknown) => {
      const got = (prefix: string): number => [...sent.keys()].filter((i) => arrivals.has(`${prefix}channels/BENCH:${i}`)).length;
      console.log(`steady phase: ${sent.size} sent; arrived at make-mirror ${got(MM_PREFIX)}, at replicate ${got(keys.replicaRoot)}; `
        + `target holds ${await count(target, MM_PREFIX)} / ${await count(target, keys.replicaRoot)}, source ${await count(source, `${SRC_ROOT}channels/`)}`);
      throw err;
    });
    const lags = (prefix: string): number[] => [...sent].map(([i, t]) => (arrivals.get(`${prefix}channels/BENCH:${i}`) ?? NaN) - t).filter((x) => !Number.isNaN(x));
    const mmLag = lags(MM_PREFIX);
    const pvLag = lags(keys.replicaRoot);
    console.log(`steady ${RATE}/s: lag p50/p99 make-mirror ${pct(mmLag, 50).toFixed(1)}/${pct(mmLag, 99).toFixed(1)} ms, replicate ${pct(pvLag, 50).toFixed(1)}/${pct(pvLag, 99).toFixed(1)} ms`);

    // Burst: single-key writes, 32 in flight; both tools follow; time until each has the last one.
    const burstStart = performance.now();
    const first = next;
    let k = first;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (k < first + BURST) {
        const i = k++;
        await source.put(`${SRC_ROOT}channels/BENCH:${i}`).value(value(i, 2));
      }
    }));
    const done = (prefix: string): number => {
      let last = 0;
      for (let i = first; i < first + BURST; i++) last = Math.max(last, arrivals.get(`${prefix}channels/BENCH:${i}`) ?? Infinity);
      return last;
    };
    await until(async () => Number.isFinite(done(MM_PREFIX)) && Number.isFinite(done(keys.replicaRoot)), 120_000);
    const mmBurst = BURST / ((done(MM_PREFIX) - burstStart) / 1000);
    const pvBurst = BURST / ((done(keys.replicaRoot) - burstStart) / 1000);
    console.log(`burst of ${BURST} single-key revisions: make-mirror ${mmBurst.toFixed(0)} keys/s, replicate ${pvBurst.toFixed(0)} keys/s`);
    await w.cancel();
    const r2 = (x: number): number => Math.round(x * 100) / 100;
    console.log(JSON.stringify({
      bench: 'replicate', keys: N,
      initial_keys_per_s: Math.round(pvInitial), make_mirror_initial_keys_per_s: Math.round(mmInitial), initial_ratio: r2(pvInitial / mmInitial),
      burst_keys_per_s: Math.round(pvBurst), make_mirror_burst_keys_per_s: Math.round(mmBurst), burst_ratio: r2(pvBurst / mmBurst),
      steady_rate_per_s: RATE, lag_p50_ms: r2(pct(pvLag, 50)), lag_p99_ms: r2(pct(pvLag, 99)),
      make_mirror_lag_p50_ms: r2(pct(mmLag, 50)), make_mirror_lag_p99_ms: r2(pct(mmLag, 99)),
      commits: replicator.stats.commits, revisions: replicator.stats.revisions,
    }));
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    await replicator?.stop();
    source.close();
    target.close();
    await Promise.all([src.stop(), dst.stop()]);
  }
}

await main();
