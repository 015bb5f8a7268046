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
 * The two phases alternate, BENCH_ROUNDS times (default 4; alone then attacked, then attacked then alone, …), in
 * each of BENCH_MODES (default `shared,pinned,niced`): `shared` leaves the 2 cores to the scheduler, `pinned` puts
 * the server on CPU 0 and every load generator on CPU 1 (taskset), `niced` runs the attackers' processes at nice 19
 * (as if on machines of their own). Each round's ratio is its attacked p99 over its own alone p99; a mode's `ratio`
 * is the median of its rounds' (`ratios` lists them all, so the machine's drift shows); its `pooled_ratio` is the p99
 * of all its attacked phases' requests together over that of all its alone phases' (ROUNDS × SECONDS × 100 requests
 * each side, so a few slow requests in one phase do not decide it). Per phase the bench also
 * reads how long the server's main thread ran and waited runnable for a core (/proc/…/schedstat), its event-loop
 * delay (its /metrics), the normal client's own waits and every processor's busy share (/proc/stat): which tells a
 * server busy with attackers' work from a server waiting for a core.
 * Last line: {"bench":"abuse","ratio":…,"pooled_ratio":…,"p99_alone_ms":…,"p99_under_attack_ms":… (of the first mode),
 * "modes":{mode:{ratio,ratios,…}},"attackers":{kind:{status:count}}}; goal ratio ≤ 2. BENCH_SECONDS sets each
 * phase's length (default 6); BENCH_ATTACKERS=kind,… runs only those; BENCH_NODE_ARGS adds node flags to the server,
 * BENCH_SERVE_ARGS flags to its `pvsync serve` (e.g. `--refusal-hold-ms 0` to compare without the tarpit).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request, type ClientRequest } from 'node:http';
import { loadavg, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { WriteOp } from '../src/adapters/etcd/kv.js';
import type { Keyspace } from '../src/core/keyspace.js';

const IOCS = 10;
const PER_IOC = 1000;
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 6);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 4);
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
  // The normal client's own lateness (its timers fire late when it waits for a core): not the server's doing.
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const w0 = sched('/proc/self/schedstat').wait;
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
  loop.disable();
  const client_wait_pct = Math.round((sched('/proc/self/schedstat').wait - w0) / ((performance.now() - t0) * 1e4));
  lat.sort((a, b) => a - b);
  const q = (p: number): number => r2(quantile(lat, p));
  console.log(JSON.stringify({ requests: lat.length, p50_ms: q(0.5), p99_ms: q(0.99), max_ms: q(1), not_200: bad, lat_ms: lat.map(r2),
    client_lag_p99_ms: Number((loop.percentile(99) / 1e6).toFixed(2)), client_lag_max_ms: Number((loop.max / 1e6).toFixed(2)), client_wait_pct }));
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

// Busy and total clock ticks of each processor (cpu0, cpu1, …) so far, from /proc/stat.
function cpuTicks(): { busy: number; total: number }[] {
  return readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d/.test(l)).map((l) => {
    const v = l.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total }; // idle and iowait are not busy
  });
}

// How the processes share the 2 cores: `shared` leaves it to the scheduler (every process on both); `pinned` puts
// the server (all its threads: event loop, libuv pool for scrypt, V8's helpers) on CPU 0 and every load generator
// (normal client and attackers) on CPU 1. The etcd members and everything else on the machine stay unpinned.
// `niced` pins nothing but runs the attackers' processes at the lowest priority (nice 19), as if they were on
// machines of their own: they get only what the server and the normal client leave; the server's work for them
// is not lowered.
type Mode = 'shared' | 'pinned' | 'niced';
const SERVER_CPUS: Record<Mode, string> = { shared: '0,1', pinned: '0', niced: '0,1' };
const CLIENT_CPUS: Record<Mode, string | null> = { shared: null, pinned: '1', niced: null };

// Nanoseconds a thread has run and waited runnable for a processor so far (/proc/…/schedstat).
function sched(path: string): { run: number; wait: number } {
  const [run, wait] = readFileSync(path, 'utf8').split(' ').map(Number);
  return { run: run ?? 0, wait: wait ?? 0 };
}

async function run(cmd: string, args: string[]): Promise<void> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${String(code)}`);
}

async function runChild(args: string[], cpus: string | null): Promise<{ child: ChildProcess; last: Promise<string> }> {
  const node = [process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...args];
  const [cmd, ...rest] = (cpus === null ? node : ['taskset', '-c', cpus, ...node]) as [string, ...string[]];
  const child = spawn(cmd, rest, { stdio: ['ignore', 'pipe', 'inherit'] });
  const last = (async () => {
    let line = '';
    for await (const l of createInterface({ input: child.stdout as NodeJS.ReadableStream })) line = l;
    return line;
  })();
  return { child, last };
}

// The server's event-loop delay since the previous call, from its /metrics (prom-client resets it on each read).
async function serverLag(port: number): Promise<{ p99_ms: number; max_ms: number }> {
  const text = await new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
  const metric = (name: string): number => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  return { p99_ms: Number(metric('nodejs_eventloop_lag_p99_seconds').toFixed(2)),
    max_ms: Number(metric('nodejs_eventloop_lag_max_seconds').toFixed(2)) };
}

interface Phase {
  requests: number; p50_ms: number; p99_ms: number; max_ms: number; not_200: Record<string, number>;
  /** Every request's latency, sorted. */
  lat_ms: number[];
  client_lag_p99_ms: number; client_lag_max_ms: number;
  server_cpu_pct: number; server_lag_p99_ms: number; server_lag_max_ms: number;
  /** The server's main thread (its event loop): share of the phase on a processor, and waiting runnable for one. */
  server_main_run_pct: number; server_main_wait_pct: number;
  /** The normal client's process: share of the phase it waited runnable for a processor. */
  client_wait_pct: number;
  /** Busy share of each processor over the phase, every process on the machine counted (other jobs too). */
  machine_busy_pct: number[];
}

/** The `p` quantile of `sorted` (ascending), as the normal client's phases report it; 0 for none. */
const quantile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const r2 = (x: number): number => Number(x.toFixed(2));

// The orchestrator: cluster, data, server; then rounds of (normal client alone, normal client under attack) in
// alternating order, in each pinning mode, so that the machine's drift shows as the spread of the rounds' ratios.
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
  let attackers: { kind: Kind; child: ChildProcess; last: Promise<string> }[] = [];
  try {
    const client = createEtcdClient(cluster.info.endpoints, { callTimeoutMs: 30_000 });
    for (let i = 0; i < IOCS; i++) for (const batch of batchOps(iocOps(keys, i))) await commitOps(client, batch, 'bench load');
    client.close();
    const channels = IOCS * PER_IOC + 1;
    const authFile = join(dir, 'users.yml');
    writeFileSync(authFile, `users:\n  writer:\n    password: "${await hashPassword('writer-secret')}"\n    roles: [CHANNEL]\n`);

    const [port] = (await freePorts(1)) as [number];
    const nodeArgs = (process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter((x) => x !== '');
    server = spawn(process.execPath, [...nodeArgs, BIN, 'serve', '--port', String(port), '--host', '127.0.0.1',
      '--endpoints', cluster.info.endpoints.join(','), '--root', keys.root, '--auth-file', authFile,
      '--max-watches', '64', '--max-watches-per-client', '16', '--login-attempts', '10',
      ...(process.env['BENCH_SERVE_ARGS'] ?? '').split(' ').filter((x) => x !== '')],
    { env: { ...process.env, PVSYNC_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'inherit', 'inherit'] });
    const t0 = performance.now();
    while ((await send(port, { path: '/healthz', agent: false })).status !== 200) {
      if (server.exitCode !== null) throw new Error(`pvsync serve exited with ${server.exitCode}`);
      if (performance.now() - t0 > 120_000) throw new Error('pvsync serve not healthy within 120 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`${channels} channels loaded; server ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const only = process.env['BENCH_ATTACKERS']?.split(',');
    const kinds = (Object.keys(KINDS) as Kind[]).filter((k) => only === undefined || only.includes(k));
    const byKind: Record<string, Record<string, number>> = {};
    const serverPid = String(server.pid);
    const normal = async (mode: Mode): Promise<Phase> => {
      await serverLag(port); // resets the server's event-loop histogram
      const c0 = cpuS(server?.pid);
      const m0 = cpuTicks();
      const t = performance.now();
      const s0 = sched(`/proc/${serverPid}/task/${serverPid}/schedstat`);
      const m = await runChild(['measure', String(port)], CLIENT_CPUS[mode]);
      const f = JSON.parse(await m.last) as Omit<Phase, 'server_cpu_pct' | 'server_lag_p99_ms' | 'server_lag_max_ms' | 'machine_busy_pct' | 'server_main_run_pct' | 'server_main_wait_pct'>;
      const ms = performance.now() - t;
      const s1 = sched(`/proc/${serverPid}/task/${serverPid}/schedstat`);
      const server_cpu_pct = Math.round(((cpuS(server?.pid) - c0) * 1e5) / ms);
      const machine_busy_pct = cpuTicks().map((c, i) => Math.round((100 * (c.busy - (m0[i]?.busy ?? 0))) / Math.max(1, c.total - (m0[i]?.total ?? 0))));
      const lag = await serverLag(port);
      return { ...f, server_cpu_pct, server_lag_p99_ms: lag.p99_ms, server_lag_max_ms: lag.max_ms, machine_busy_pct,
        server_main_run_pct: Math.round((s1.run - s0.run) / (ms * 1e4)), server_main_wait_pct: Math.round((s1.wait - s0.wait) / (ms * 1e4)) };
    };
    const underAttack = async (mode: Mode): Promise<Phase> => {
      for (const kind of kinds) attackers.push({ kind, ...(await runChild(['attack', kind, String(port), mode === 'niced' ? '19' : '0'], CLIENT_CPUS[mode])) });
      await new Promise((r) => setTimeout(r, 2000)); // let them reach the limits
      const phase = await normal(mode);
      for (const a of attackers) {
        a.child.kill('SIGTERM');
        const counts = JSON.parse((await a.last) || '{}') as Record<string, number>;
        const into = (byKind[a.kind] ??= {});
        for (const [k, n] of Object.entries(counts)) into[k] = (into[k] ?? 0) + n;
      }
      attackers = [];
      await new Promise((r) => setTimeout(r, 1000)); // the server closes the streams and sockets they left
      return phase;
    };
    const show = (label: string, p: Phase): void => console.log(`${label}: p50 ${p.p50_ms} ms, p99 ${p.p99_ms} ms, max ${p.max_ms} ms `
      + `over ${p.requests} requests; server CPU ${p.server_cpu_pct} %, its event loop late p99 ${p.server_lag_p99_ms} ms / max `
      + `${p.server_lag_max_ms} ms, on a CPU ${p.server_main_run_pct} %, waiting for one ${p.server_main_wait_pct} %; normal client late p99 `
      + `${p.client_lag_p99_ms} ms / max ${p.client_lag_max_ms} ms, waiting for a CPU ${p.client_wait_pct} %; CPUs busy ${p.machine_busy_pct.join('/')} %`);

    const modes = (process.env['BENCH_MODES'] ?? 'shared,pinned,niced').split(',') as Mode[];
    for (const mode of modes) if (!(mode in SERVER_CPUS)) throw new Error(`BENCH_MODES: unknown mode ${mode}`);
    await normal(modes[0] as Mode); // warm-up (JIT, caches), not counted
    const rounds: Record<string, { alone: Phase; attacked: Phase }[]> = {};
    for (let r = 0; r < ROUNDS; r++) {
      for (const mode of r % 2 === 0 ? modes : [...modes].reverse()) {
        await run('taskset', ['-a', '-p', '-c', SERVER_CPUS[mode], serverPid]);
        let alone: Phase;
        let attacked: Phase;
        if (r % 2 === 0) {
          alone = await normal(mode);
          attacked = await underAttack(mode);
        } else {
          attacked = await underAttack(mode);
          alone = await normal(mode);
        }
        show(`round ${r + 1} ${mode} alone`, alone);
        show(`round ${r + 1} ${mode} under attack`, attacked);
        (rounds[mode] ??= []).push({ alone, attacked });
      }
    }
    await run('taskset', ['-a', '-p', '-c', SERVER_CPUS.shared, serverPid]);
    for (const [kind, counts] of Object.entries(byKind)) console.log(`${kind}: ${JSON.stringify(counts)}`);

    const summary = (rs: { alone: Phase; attacked: Phase }[]): Record<string, unknown> => {
      const ratios = rs.map((x) => x.attacked.p99_ms / Math.max(x.alone.p99_ms, 0.01));
      // Every round's requests together: a p99 over ROUNDS × SECONDS × RATE requests, not over one phase's handful of
      // slowest, so one unlucky phase weighs as little as it should.
      const p99Of = (pick: (x: { alone: Phase; attacked: Phase }) => Phase): number => {
        const all = rs.flatMap((x) => pick(x).lat_ms).sort((a, b) => a - b);
        return quantile(all, 0.99);
      };
      const pooled = { alone: p99Of((x) => x.alone), attacked: p99Of((x) => x.attacked) };
      const of = (pick: (p: Phase) => number): [number, number] => [r2(median(rs.map((x) => pick(x.alone)))), r2(median(rs.map((x) => pick(x.attacked))))];
      return {
        ratio: r2(median(ratios)), ratios: ratios.map(r2),
        pooled_ratio: r2(pooled.attacked / Math.max(pooled.alone, 0.01)), pooled_p99_alone_ms: r2(pooled.alone), pooled_p99_under_attack_ms: r2(pooled.attacked),
        p99_alone_ms: of((p) => p.p99_ms)[0], p99_under_attack_ms: of((p) => p.p99_ms)[1],
        p50_alone_ms: of((p) => p.p50_ms)[0], p50_under_attack_ms: of((p) => p.p50_ms)[1],
        max_under_attack_ms: Math.max(...rs.map((x) => x.attacked.max_ms)),
        server_cpu_pct: of((p) => p.server_cpu_pct), server_lag_max_ms: of((p) => p.server_lag_max_ms),
        server_main_run_pct: of((p) => p.server_main_run_pct), server_main_wait_pct: of((p) => p.server_main_wait_pct),
        client_wait_pct: of((p) => p.client_wait_pct),
        client_lag_p99_ms: of((p) => p.client_lag_p99_ms), machine_busy_pct: of((p) => p.machine_busy_pct.reduce((a, b) => a + b, 0) / p.machine_busy_pct.length),
        normal_not_200: rs.reduce<Record<string, number>>((acc, x) => {
          for (const [k, n] of Object.entries(x.attacked.not_200)) acc[k] = (acc[k] ?? 0) + n;
          return acc;
        }, {}),
      };
    };
    const byMode = Object.fromEntries(Object.entries(rounds).map(([mode, rs]) => [mode, summary(rs)]));
    const head = byMode[modes[0] as Mode] as Record<string, unknown>;
    console.log(JSON.stringify({ bench: 'abuse', channels, rounds: ROUNDS, seconds: SECONDS, attacker_kinds: kinds,
      ratio: head['ratio'], pooled_ratio: head['pooled_ratio'], p99_alone_ms: head['p99_alone_ms'], p99_under_attack_ms: head['p99_under_attack_ms'],
      modes: byMode, attackers: byKind, load_average: loadavg().map(r2) }));
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
else if (process.argv[2] === 'attack') {
  setPriority(Number(process.argv[5] ?? 0));
  await attack(process.argv[3] as Kind, Number(process.argv[4]));
}
else await main();
