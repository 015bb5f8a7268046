/**
 * Benchmark of the query API at scale: loads 1 000 000 channels (1 000 IOCs × 1 000 records, ~10 properties each)
 * into a fresh 3-member etcd cluster through the keyspace, starts `pvsync serve` as a real process (dist/ must be
 * built: `npm run bench:query` does it), and measures the mirror's cold start (spawn → /healthz 200) beside a raw
 * paged range of the same keys timed in the same run, resident memory, and p50/p99/requests-per-second of typical
 * queries next to a trivial route, with a bounded keep-alive load loop on loopback. `prefix_100_uncached` asks a
 * different 100-channel prefix each time, across all 1 000 000 channels, so its channels are never in the server's
 * cache of channel JSON: the cost of rendering them afresh.
 * The load generator runs in a child process of its own (`query.ts measure PORT PID`) that never loads etcd3: with
 * gRPC's and protobuf's modules in its heap (or the million keys it wrote) every garbage collection of the load
 * generator costs more, and it alone halved the requests/s of the 100-channel query. Last line is JSON.
 * BENCH_ENDPOINTS (with BENCH_ROOT) reuses a cluster loaded by an earlier run; BENCH_NODE_ARGS adds node flags to
 * the server (e.g. --cpu-prof); BENCH_ONLY=name,… runs only those queries (after the trivial route).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { WriteOp } from '../src/adapters/etcd/kv.js';
import type { Keyspace } from '../src/core/keyspace.js';

const IOCS = Number(process.env['BENCH_IOCS'] ?? 1000);
const PER_IOC = 1000;
const CONCURRENCY = 16;
const LOAD_CONNECTIONS = 4;
const SECONDS_PER_QUERY = Number(process.env['BENCH_SECONDS'] ?? 5);
const TYPES = ['ai', 'ao', 'bi', 'bo', 'calc', 'longin', 'mbbi', 'stringin'];
const BIN = fileURLToPath(new URL('../bin/pvsync.js', import.meta.url));

const pad = (n: number, w: number): string => String(n).padStart(w, '0');
const recName = (i: number, j: number): string => `SR${pad(i, 4)}:C${Math.floor(j / 100)}:DEV${pad(j, 3)}:${j % 2 ? 'RB' : 'SP'}`;

function iocOps(keys: Keyspace, i: number): WriteOp[] {
  const iocId = `IOC${pad(i, 4)}@host${i % 50}`;
  const now = new Date(1.7e12 + i * 1000).toISOString();
  const ops: WriteOp[] = [{ type: 'put', key: keys.iocInfo(iocId), value: JSON.stringify({
    schema: 1, iocId, iocName: `IOC${pad(i, 4)}`, hostName: `host${i % 50}`, iocIP: `10.0.${i % 250}.${i % 200}`,
    env: { RSRV_SERVER_PORT: '5064', PVAS_SERVER_PORT: '5075' }, uploadId: `u${i}`, state: 'complete', records: PER_IOC,
    updatedAt: now, writer: 'bench' }) }];
  if (i % 10 !== 0) ops.push({ type: 'put', key: keys.alive(iocId), value: JSON.stringify({ uploadId: `u${i}`, since: now, writer: 'bench' }) });
  for (let j = 0; j < PER_IOC; j++) {
    const name = recName(i, j);
    ops.push({ type: 'put', key: keys.iocRecord(iocId, name), value: JSON.stringify({
      name, type: TYPES[j % TYPES.length], desc: `device ${j} of ioc ${i}`,
      infos: j % 10 === 0 ? { archive: 'monitor 1.0' } : {}, aliases: [] }) });
  }
  return ops;
}

/** Per query: latency, rate, and CPU time per request of the server process and of the load generator. */
interface Figures {
  p50_ms: number; p99_ms: number; rps: number; bytes: number; results: number; server_cpu_us: number; client_cpu_us: number;
  /** Resident memory of the server once this query's load is over. */
  rss_after_mib: number;
}

let serverPid = 0;
// Resident memory of the server process in MiB.
function serverRssMiB(): number {
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${serverPid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
}

// User + system CPU seconds of the server process so far (clock ticks of 1/100 s).
function serverCpuS(): number {
  const fields = (readFileSync(`/proc/${serverPid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function load(port: number, pathOf: string | ((i: number) => string)): Promise<Figures> {
  let sent = 0;
  const nextPath = typeof pathOf === 'string' ? (): string => pathOf : (): string => pathOf(sent++);
  const agent = new Agent({ keepAlive: true, maxSockets: LOAD_CONNECTIONS });
  const lat: number[] = [];
  let bytes = 0;
  let body: Buffer[] | null = [];
  const one = (): Promise<void> => new Promise((resolve, reject) => {
    const path = nextPath();
    const t = performance.now();
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => { n += c.length; body?.push(c); });
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${path}: HTTP ${res.statusCode}`));
        lat.push(performance.now() - t);
        bytes = n;
        resolve();
      });
    });
    req.on('error', reject);
    req.end();
  });
  await one();
  const first: unknown = JSON.parse(Buffer.concat(body).toString('utf8'));
  const results = Array.isArray(first) ? first.length : 1;
  body = null;
  for (let i = 0; i < 20; i++) await one(); // warm-up
  lat.length = 0;
  const end = performance.now() + SECONDS_PER_QUERY * 1000;
  const cpu0 = serverCpuS();
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: LOAD_CONNECTIONS }, async () => {
    while (performance.now() < end) await one();
  }));
  const seconds = (performance.now() - t0) / 1000;
  const serverUs = (serverCpuS() - cpu0) * 1e6 / lat.length;
  const client = process.cpuUsage(client0);
  const clientUs = (client.user + client.system) / lat.length;
  agent.destroy();
  lat.sort((a, b) => a - b);
  const q = (p: number): number => Number((lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] ?? 0).toFixed(2));
  return { p50_ms: q(0.5), p99_ms: q(0.99), rps: Math.round(lat.length / seconds), bytes, results,
    server_cpu_us: Math.round(serverUs), client_cpu_us: Math.round(clientUs), rss_after_mib: serverRssMiB() };
}


// The load generator (child process): every query in turn against the server at `port`; one JSON line of figures.
async function measure(port: number): Promise<void> {
  const queries: Record<string, string | ((i: number) => string)> = {
    exact_name: `/ChannelFinder/resources/channels?~name=${encodeURIComponent(recName(421, 537))}`,
    prefix_100: `/ChannelFinder/resources/channels?~name=${encodeURIComponent('SR0421:C3:*')}`,
    prefix_100_uncached: (i: number) => `/ChannelFinder/resources/channels?~name=${
      encodeURIComponent(`SR${pad((i * 7919) % IOCS, 4)}:C${Math.floor(i / IOCS) % 10}:*`)}`,
    property_1000: '/ChannelFinder/resources/channels?iocName=IOC0421',
  };
  const trivial = await load(port, '/ChannelFinder');
  const cpuNote = (f: Figures): string => `CPU per request: server ${f.server_cpu_us} µs, load generator ${f.client_cpu_us} µs`;
  console.error(`trivial GET /ChannelFinder: ${trivial.rps} req/s, p50 ${trivial.p50_ms} ms; ${cpuNote(trivial)}`);
  const results: Record<string, Omit<Figures, 'bytes'>> = {};
  const only = process.env['BENCH_ONLY']?.split(',');
  for (const [name, path] of Object.entries(queries)) {
    if (only !== undefined && !only.includes(name)) continue;
    const f = await load(port, path);
    console.error(`${name}: ${f.results} channels (${f.bytes} bytes) per answer; p50 ${f.p50_ms} ms, p99 ${f.p99_ms} ms, ${f.rps} req/s; ${cpuNote(f)}; RSS ${f.rss_after_mib} MiB`);
    const { bytes: _, ...figures } = f;
    results[name] = figures;
  }
  console.log(JSON.stringify({ queries: results, trivial }));
}

// The orchestrator: cluster, data, server, then the load generator as a child process.
async function main(): Promise<void> {
  const { createEtcdClient } = await import('../src/adapters/etcd/client.js');
  const { commitOps, scanPrefix } = await import('../src/adapters/etcd/kv.js');
  const { Keyspace } = await import('../src/core/keyspace.js');
  const { batchOps } = await import('../src/core/upload/plan.js');
  const { freePorts } = await import('../test/support/free-ports.js');
  const { startTestCluster } = await import('../test/support/start-cluster.js');
  const reuse = process.env['BENCH_ENDPOINTS'];
  const cluster = reuse === undefined ? await startTestCluster('bench-query') : null;
  const endpoints = cluster?.info.endpoints ?? (reuse ?? '').split(',');
  const keys = new Keyspace(process.env['BENCH_ROOT'] ?? '/bench-query/v1/');
  let server: ReturnType<typeof spawn> | null = null;
  try {
    const tl = performance.now();
    let written = 0;
    if (cluster !== null) {
      const client = createEtcdClient(endpoints, { callTimeoutMs: 30_000 });
      let next = 0;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        for (;;) {
          const i = next++;
          if (i >= IOCS) return;
          for (const batch of batchOps(iocOps(keys, i))) {
            await commitOps(client, batch, 'bench load');
            written += batch.length;
          }
        }
      }));
      client.close();
    }
    const loadS = (performance.now() - tl) / 1000;
    const channels = IOCS * PER_IOC;
    console.log(`loaded ${written} keys (${channels} channels) in ${loadS.toFixed(1)} s`);

    // The floor under the mirror's cold start: a raw paged range of the same keys (the mirror's page size), in
    // this process, parsing nothing. Absolute times drift on a shared machine; the ratio holds.
    const rawClient = createEtcdClient(endpoints, { callTimeoutMs: 30_000 });
    const tr = performance.now();
    let rawBytes = 0;
    const raw = await scanPrefix(rawClient, keys.root, 30_000, (key, value) => { rawBytes += key.length + value.length; });
    const rawS = (performance.now() - tr) / 1000;
    rawClient.close();
    console.log(`raw paged range: ${raw.keys} keys (${(rawBytes / 2 ** 20).toFixed(0)} MiB) in ${rawS.toFixed(2)} s`);

    const [port] = (await freePorts(1)) as [number];
    const ts = performance.now();
    const nodeArgs = (process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
    server = spawn(process.execPath, [...nodeArgs, BIN, 'serve', '--port', String(port), '--host', '127.0.0.1',
      '--endpoints', endpoints.join(','), '--root', keys.root],
    { env: { ...process.env, PVSYNC_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'inherit', 'inherit'] });
    const healthy = async (): Promise<boolean> => new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/healthz', timeout: 1000 }, (res) => { res.resume(); resolve(res.statusCode === 200); });
      req.on('error', () => resolve(false));
      req.end();
    });
    while (!(await healthy())) {
      if (server.exitCode !== null) throw new Error(`pvsync serve exited with ${server.exitCode}`);
      if (performance.now() - ts > 300_000) throw new Error('pvsync serve not healthy within 300 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const coldS = (performance.now() - ts) / 1000;
    const rss = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server?.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    const rssMiB = rss();
    console.log(`cold start ${coldS.toFixed(1)} s (${(coldS / rawS).toFixed(1)}× the raw range), RSS ${rssMiB.toFixed(0)} MiB`);

    const gen = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'measure', String(port),
      String(server.pid)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let last = '';
    for await (const line of createInterface({ input: gen.stdout })) last = line;
    const code = await new Promise((r) => (gen.exitCode !== null ? r(gen.exitCode) : gen.once('exit', r)));
    if (code !== 0) throw new Error(`load generator exited with ${String(code)}`);
    const figures = JSON.parse(last) as { queries: Record<string, Omit<Figures, 'bytes'>>; trivial: Figures };
    const rssAfter = rss();
    console.log(`RSS after load ${rssAfter.toFixed(0)} MiB`);
    const t = figures.trivial;
    console.log(JSON.stringify({ bench: 'query', channels, cold_start_s: Number(coldS.toFixed(2)),
      raw_range_s: Number(rawS.toFixed(2)), cold_start_vs_raw_range: Number((coldS / rawS).toFixed(2)), rss_mib: Math.round(rssMiB),
      rss_after_load_mib: Math.round(rssAfter), load_s: Number(loadS.toFixed(1)), queries: figures.queries, trivial_rps: t.rps,
      trivial: { p50_ms: t.p50_ms, p99_ms: t.p99_ms, server_cpu_us: t.server_cpu_us, client_cpu_us: t.client_cpu_us } }));
  } finally {
    if (server !== null && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server?.once('exit', r));
    }
    await cluster?.stop();
  }
}

if (process.argv[2] === 'measure') {
  serverPid = Number(process.argv[4]);
  await measure(Number(process.argv[3]));
} else {
  await main();
}
