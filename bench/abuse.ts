/**
 * Benchmark of one `pvsync serve` under hostile clients (`npm run bench:abuse`; dist/ must be built, the script
 * does it). A fresh 3-member etcd cluster holds a realistic directory: 10 IOCs × 1 000 records as the uploader writes
 * them, plus one record named `AAAA…A` (60 characters). A normal client asks ordinary queries at a steady 100 per
 * second on one keep-alive connection, first alone, then while hostile clients run at the same time, each in a
 * process of its own and from a loopback address of its own (the server limits per client address):
 * - `glob`: pathological patterns (`~name=?*?*…?*Q` against the 60-character name), 2 at a time, each loop pausing
 *   50 ms (at most 40 a second);
 * - `bad_login`: writes with wrong passwords, 4 at a time, pausing 20 ms (at most 200 a second; 401, then 429 once
 *   over `--login-attempts`);
 * - `watch`: watch streams from 8 addresses, 20 each, up to and over the caps (`--max-watches-per-client 16`,
 *   `--max-watches 64`), kept open, retried every second;
 * - `big_body`: anonymous 10 MB write bodies, 2 at a time, pausing 100 ms (at most 200 MB/s; 401 without parsing).
 * The pauses keep the attackers' own processes from taking the 2 shared cores from the server: flat out, a load
 * generator on the same machine measures the machine, not the server's defences.
 * The load generators never load etcd3 (the parent writes the keys), so their own garbage collection stays small.
 * Last line: {"bench":"abuse","p99_alone_ms":…,"p99_under_attack_ms":…,"ratio":…,…,"attackers":{kind:{status:count}}};
 * goal ratio ≤ 2. BENCH_SECONDS sets each phase's length (default 10); BENCH_ATTACKERS=kind,… runs only those.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { WriteOp } from '../src/adapters/etcd/kv.js';
import type { Keyspace } from '../src/core/keyspace.js';

const IOCS = 10;
const PER_IOC = 1000;
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const RATE = 100; // normal client's requests per second
// A request not answered by then counts as this long (normal client) or as a timeout (attackers); queueing included.
const TIMEOUT_MS = 10_000;
const BIN = fileURLToPath(new URL('../bin/pvsync.js', import.meta.url));
const LONG = 'A'.repeat(60);
const KINDS = { glob: '127.0.0.2', bad_login: '127.0.0.3', watch: '127.0.0.4', big_body: '127.0.0.20' } as const;
type Kind = keyof typeof KINDS;

const pad = (n: number, w: number): string => String(n).padStart(w, '0');
const recName = (i: number, j: number): string => `SR${pad(i, 4)}:C${Math.floor(j / 100)}:DEV${pad(j, 3)}:${j % 2 ? 'RB' : 'SP'}`;

function iocOps(keys: Keyspace, i: number): WriteOp[] {
  const iocId = `IOC${pad(i, 4)}@host${i}`;
  const now = new Date(1.7e12 + i * 1000).toISOString();
  const ops: WriteOp[] = [
    { type: 'put', key: keys.iocInfo(iocId), value: JSON.stringify({ schema: 1, iocId, iocName: `IOC${pad(i, 4)}`,
      hostName: `host${i}`, env: {}, uploadId: `u${i}`, state: 'complete', records: PER_IOC, updatedAt: now, writer: 'bench' }) },
    { type: 'put', key: keys.alive(iocId), value: JSON.stringify({ uploadId: `u${i}`, since: now, writer: 'bench' }) },
  ];
  const names = Array.from({ length: PER_IOC }, (_, j) => recName(i, j));
  if (i === 0) names.push(LONG);
  names.forEach((name, j) => ops.push({ type: 'put', key: keys.iocRecord(iocId, name), value: JSON.stringify({
    name, type: ['ai', 'ao', 'bi', 'bo'][j % 4], desc: `device ${j}`, infos: j % 10 === 0 ? { archive: 'monitor 1.0' } : {}, aliases: [] }) }));
  return ops;
}

interface Answer {
  readonly status: number;
  readonly ms: number;
}

/** One request, from its creation (queueing for a socket included) to its answer; status 0 on error, -1 on timeout. */
function send(port: number, o: { path: string; method?: string; headers?: Record<string, string | number>; body?: Buffer;
  agent?: Agent | false; from?: string }): Promise<Answer> {
  return new Promise((resolve) => {
    const t = performance.now();
    let settled = false;
    const done = (status: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ status, ms: performance.now() - t });
    };
    const req: ClientRequest = request({ host: '127.0.0.1', port, path: o.path, method: o.method ?? 'GET', headers: o.headers,
      agent: o.agent ?? false, localAddress: o.from ?? '127.0.0.1' }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode ?? 0));
      res.on('error', () => done(res.statusCode ?? 0));
    });
    const timer = setTimeout(() => {
      done(-1);
      req.destroy();
    }, TIMEOUT_MS);
    req.on('error', () => done(0));
    req.end(o.body);
  });
}

// The normal client (child process): ordinary queries, paced, for SECONDS; prints its latencies' figures.
async function measure(port: number): Promise<void> {
  const queries = [
    `/ChannelFinder/resources/channels?~name=${encodeURIComponent(recName(3, 537))}`,
    `/ChannelFinder/resources/channels?~name=${encodeURIComponent('SR0004:C3:*')}`,
    '/ChannelFinder/resources/channels?iocName=IOC0002&recordType=ai',
    `/ChannelFinder/resources/channels/count?~name=${encodeURIComponent('SR0007:*')}`,
    '/ChannelFinder/resources/tags',
  ];
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const lat: number[] = [];
  const bad: Record<string, number> = {};
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; performance.now() - t0 < SECONDS * 1000; i++) {
    const path = queries[i % queries.length] as string;
    pending.push(send(port, { path, agent }).then((a) => {
      lat.push(a.ms);
      if (a.status !== 200) bad[String(a.status)] = (bad[String(a.status)] ?? 0) + 1;
    }));
    const next = t0 + ((i + 1) * 1000) / RATE;
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  await Promise.all(pending);
  agent.destroy();
  lat.sort((a, b) => a - b);
  const q = (p: number): number => Number((lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] ?? 0).toFixed(2));
  console.log(JSON.stringify({ requests: lat.length, p50_ms: q(0.5), p99_ms: q(0.99), max_ms: q(1), not_200: bad }));
}

// A hostile client (child process) until SIGTERM; then prints how its requests were answered.
async function attack(kind: Kind, port: number): Promise<void> {
  const counts: Record<string, number> = {};
  const count = (status: number): void => {
    const k = status === -1 ? 'timeout' : status === 0 ? 'error' : String(status);
    counts[k] = (counts[k] ?? 0) + 1;
  };
  let stopping = false;
  const streams: ClientRequest[] = [];
  process.on('SIGTERM', () => {
    stopping = true;
    for (const s of streams) s.destroy();
    console.log(JSON.stringify(counts));
    process.exit(0);
  });
  const from = KINDS[kind];
  const loop = async (n: number, one: () => Promise<void>, pauseMs = 0): Promise<void> => {
    await Promise.all(Array.from({ length: n }, async () => {
      while (!stopping) {
        await one();
        if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
      }
    }));
  };
  const wrong = `Basic ${Buffer.from('writer:not-the-password').toString('base64')}`;
  const big = Buffer.alloc(10 * 2 ** 20, '{');
  switch (kind) {
    case 'glob':
      return loop(2, async () => count((await send(port, { from, path: `/ChannelFinder/resources/channels?~name=${'?*'.repeat(10)}Q` })).status), 50);
    case 'bad_login':
      return loop(4, async () => count((await send(port, { from, method: 'PUT', path: '/ChannelFinder/resources/channels/X',
        headers: { authorization: wrong, 'content-type': 'application/json' }, body: Buffer.from('{"name":"X","owner":"writer"}') })).status), 20);
    case 'big_body':
      return loop(2, async () => count((await send(port, { from, method: 'PUT', path: '/ChannelFinder/resources/channels',
        headers: { 'content-type': 'application/json', 'content-length': big.length }, body: big })).status), 100);
    case 'watch': {
      // 8 addresses × 20 streams: over the per-client cap (16) and the total (64). Refused ones retry every second.
      const open = (address: string): Promise<void> => new Promise((resolve) => {
        const req = request({ host: '127.0.0.1', port, path: '/api/v1/watch?~name=SR0001:*', localAddress: address, agent: false }, (res) => {
          count(res.statusCode ?? 0);
          if (res.statusCode === 200) {
            res.resume();
            res.on('close', () => resolve());
          } else {
            res.resume();
            res.on('end', () => setTimeout(resolve, 1000));
          }
        });
        req.on('error', () => {
          count(0);
          setTimeout(resolve, 1000);
        });
        streams.push(req);
        req.end();
      });
      const addresses = Array.from({ length: 8 }, (_, i) => `127.0.0.${4 + i}`);
      return loop(1, async () => {
        await Promise.all(addresses.flatMap((a) => Array.from({ length: 20 }, () => open(a))));
      });
    }
  }
}

// User + system CPU seconds of a process so far (clock ticks of 1/100 s).
function cpuS(pid: number | undefined): number {
  const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function runChild(args: string[]): Promise<{ child: ChildProcess; last: Promise<string> }> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const last = (async () => {
    let line = '';
    for await (const l of createInterface({ input: child.stdout as NodeJS.ReadableStream })) line = l;
    return line;
  })();
  return { child, last };
}

// The orchestrator: cluster, data, server; the normal client alone, then with the attackers.
async function main(): Promise<void> {
  const { createEtcdClient } = await import('../src/adapters/etcd/client.js');
  const { commitOps } = await import('../src/adapters/etcd/kv.js');
  const { hashPassword } = await import('../src/adapters/auth/passwords.js');
  const { Keyspace } = await import('../src/core/keyspace.js');
  const { batchOps } = await import('../src/core/upload/plan.js');
  const { freePorts } = await import('../test/support/free-ports.js');
  const { startTestCluster } = await import('../test/support/start-cluster.js');
  const cluster = await startTestCluster('bench-abuse');
  const keys = new Keyspace('/bench-abuse/v1/');
  const dir = mkdtempSync(join(tmpdir(), 'pvsync-abuse-'));
  let server: ChildProcess | null = null;
  const attackers: { kind: Kind; child: ChildProcess; last: Promise<string> }[] = [];
  try {
    const client = createEtcdClient(cluster.info.endpoints, { callTimeoutMs: 30_000 });
    for (let i = 0; i < IOCS; i++) for (const batch of batchOps(iocOps(keys, i))) await commitOps(client, batch, 'bench load');
    client.close();
    const channels = IOCS * PER_IOC + 1;
    const authFile = join(dir, 'users.yml');
    writeFileSync(authFile, `users:\n  writer:\n    password: "${await hashPassword('writer-secret')}"\n    roles: [CHANNEL]\n`);

    const [port] = (await freePorts(1)) as [number];
    server = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--host', '127.0.0.1',
      '--endpoints', cluster.info.endpoints.join(','), '--root', keys.root, '--auth-file', authFile,
      '--max-watches', '64', '--max-watches-per-client', '16', '--login-attempts', '10'],
    { env: { ...process.env, PVSYNC_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'inherit', 'inherit'] });
    const t0 = performance.now();
    while ((await send(port, { path: '/healthz', agent: false })).status !== 200) {
      if (server.exitCode !== null) throw new Error(`pvsync serve exited with ${server.exitCode}`);
      if (performance.now() - t0 > 120_000) throw new Error('pvsync serve not healthy within 120 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`${channels} channels loaded; server ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    interface Phase { requests: number; p50_ms: number; p99_ms: number; max_ms: number; not_200: Record<string, number>; server_cpu_pct: number }
    const normal = async (): Promise<Phase> => {
      const c0 = cpuS(server?.pid);
      const t = performance.now();
      const m = await runChild(['measure', String(port)]);
      const f = JSON.parse(await m.last) as Omit<Phase, 'server_cpu_pct'>;
      return { ...f, server_cpu_pct: Math.round(((cpuS(server?.pid) - c0) * 1e5) / (performance.now() - t)) };
    };
    await normal(); // warm-up (JIT, caches), not counted
    const alone = await normal();
    console.log(`alone: p50 ${alone.p50_ms} ms, p99 ${alone.p99_ms} ms, max ${alone.max_ms} ms over ${alone.requests} requests; server CPU ${alone.server_cpu_pct} %`);

    const only = process.env['BENCH_ATTACKERS']?.split(',');
    const kinds = (Object.keys(KINDS) as Kind[]).filter((k) => only === undefined || only.includes(k));
    for (const kind of kinds) attackers.push({ kind, ...(await runChild(['attack', kind, String(port)])) });
    await new Promise((r) => setTimeout(r, 2000)); // let them reach the limits
    const attacked = await normal();
    console.log(`under attack: p50 ${attacked.p50_ms} ms, p99 ${attacked.p99_ms} ms, max ${attacked.max_ms} ms over ${attacked.requests} requests; server CPU ${attacked.server_cpu_pct} %`);
    const byKind: Record<string, unknown> = {};
    for (const a of attackers) {
      a.child.kill('SIGTERM');
      byKind[a.kind] = JSON.parse((await a.last) || '{}');
      console.log(`${a.kind}: ${JSON.stringify(byKind[a.kind])}`);
    }
    console.log(JSON.stringify({ bench: 'abuse', channels, p99_alone_ms: alone.p99_ms, p99_under_attack_ms: attacked.p99_ms,
      ratio: Number((attacked.p99_ms / Math.max(alone.p99_ms, 0.01)).toFixed(2)), p50_alone_ms: alone.p50_ms,
      p50_under_attack_ms: attacked.p50_ms, max_under_attack_ms: attacked.max_ms,
      server_cpu_pct_alone: alone.server_cpu_pct, server_cpu_pct_under_attack: attacked.server_cpu_pct, normal_not_200: attacked.not_200,
      normal_requests: attacked.requests, attackers: byKind }));
  } finally {
    for (const a of attackers) if (a.child.exitCode === null) a.child.kill('SIGKILL');
    if (server !== null && server.exitCode === null) {
      const s = server;
      s.kill('SIGTERM');
      const killer = setTimeout(() => s.kill('SIGKILL'), 10_000);
      await new Promise((r) => s.once('exit', r));
      clearTimeout(killer);
    }
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'measure') await measure(Number(process.argv[3]));
else if (process.argv[2] === 'attack') await attack(process.argv[3] as Kind, Number(process.argv[4]));
else await main();
