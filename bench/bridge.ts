/**
 * Benchmark of the RecCaster bridge on a fresh 3-member etcd cluster: one simulated IOC streams 100 000 records
 * (with aliases, info tags and DESC) over one connection, and 200 simulated IOCs of 500 records each connect at
 * once. Baseline, in the same run and cluster: raw batched puts of as many keys with the same values (128 per
 * transaction, 8 in flight; bench/lib/raw-puts.ts, shared with bench:upload), in rounds around each bridge
 * measurement (BENCH_BRIDGE_ROUNDS, default 3; the ratio is the median of the rounds' ratios). The IOCs are our test
 * client (test/support); the bridge runs in this process. Beside the rates: etcd transactions per 1 000 records and
 * this process's CPU time per phase (the bridge's decoding and diffing share the machine's cores with etcd).
 * Last line is JSON.
 */
import { performance } from 'node:perf_hooks';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient } from '../src/adapters/etcd/client.js';
import { Keyspace } from '../src/core/keyspace.js';
import { encodeStoredRecord, toStoredRecord, type PlannedOp } from '../src/core/upload/plan.js';
import { bridge } from '../test/support/bridge-harness.js';
import { RecCasterClient, uploadFrames, type CastRecord } from '../test/support/reccaster-client.js';
import { startTestCluster } from '../test/support/start-cluster.js';
import { rawBatchedPuts } from './lib/raw-puts.js';

const BIG = 100_000;
const MANY = 200;
const EACH = 500;

function records(n: number, prefix: string): CastRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `${prefix}:D${String(i).padStart(6, '0')}:VAL`, type: i % 4 === 0 ? 'ai' : 'bo',
    desc: `device ${i} readback`, infos: i % 4 === 0 ? { archive: 'monitor 1.0' } : {},
    aliases: i % 4 === 0 ? [`${prefix}:D${String(i).padStart(6, '0')}:READ`] : [],
  }));
}

function env(name: string): Record<string, string> {
  return { EPICS_VERSION: 'EPICS 7.0.3.1', HOSTNAME: 'benchhost', IOCNAME: name, RSRV_SERVER_PORT: '5064' };
}

/** One phase's figures: its rate, etcd transactions, and this process's CPU time. */
interface Phase {
  readonly perS: number;
  readonly txns: number;
  readonly cpuMs: number;
}

/** Count the client's transactions (every write of the bridge and of the baseline is one). */
function countTxns(client: Etcd3): { count: number } {
  const counter = { count: 0 };
  const kv = client.kv;
  const txn = kv.txn.bind(kv);
  kv.txn = (req, options) => {
    counter.count++;
    return txn(req, options);
  };
  return counter;
}

async function measured(txns: { count: number }, run: () => Promise<number>): Promise<Phase> {
  const t = txns.count;
  const cpu = process.cpuUsage();
  const perS = await run();
  const used = process.cpuUsage(cpu);
  return { perS, txns: txns.count - t, cpuMs: (used.user + used.system) / 1000 };
}

async function rawPuts(client: Etcd3, txns: { count: number }, recs: readonly CastRecord[], round: number): Promise<Phase> {
  const keys = new Keyspace(`/bench-raw/r${round}/`);
  const ops: PlannedOp[] = recs.map((r) => ({
    type: 'put', key: keys.iocRecord('big@benchhost', r.name),
    value: encodeStoredRecord(toStoredRecord({ name: r.name, type: r.type, fields: { DESC: r.desc ?? '' }, infos: { ...r.infos }, aliases: [...(r.aliases ?? [])] })),
  }));
  return measured(txns, () => rawBatchedPuts(client, ops, 8));
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** One IOC streams BIG records over one connection to a fresh bridge under a fresh root (nothing to diff against). */
async function oneConnection(client: Etcd3, txns: { count: number }, big: readonly CastRecord[], round: number): Promise<Phase & { seconds: number }> {
  const b = await bridge(client, new Keyspace(`/bench-bridge/v${round}/`), { ttlSeconds: 10, pingIntervalMs: 30_000, frameTimeoutMs: 30_000 });
  try {
    const ioc = await RecCasterClient.connect('127.0.0.1', b.port, { env: env('big'), records: big, splitWrites: false });
    // The IOC's bytes are made before the clock starts: a real IOC sends them from another process.
    const frames = [Buffer.concat(uploadFrames({ env: env('big'), records: big }, b.serverKey))];
    await ioc.greeted;
    let seconds = 0;
    const phase = await measured(txns, async () => {
      const t0 = performance.now();
      ioc.write(frames);
      await waitFor(() => b.completed() >= 1, 300_000, 'big upload');
      seconds = (performance.now() - t0) / 1000;
      return BIG / seconds;
    });
    ioc.close();
    return { ...phase, seconds };
  } finally {
    await b.close();
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// Bridge rounds interleaved with raw rounds (raw, bridge, raw, …, raw), so that a load spike on this shared machine
// lands on one round, not on one side of the comparison; each bridge round is set beside the raw rounds around it.
const ROUNDS = Number(process.env['BENCH_BRIDGE_ROUNDS'] ?? 3);
const cluster = await startTestCluster('bench-bridge');
const client = createEtcdClient(cluster.info.endpoints);
const txns = countTxns(client);
try {
  const big = records(BIG, 'BIG');
  const raws: Phase[] = [await rawPuts(client, txns, big, 0)];
  console.log(`raw batched puts: ${Math.round(raws[0]!.perS)} keys/s`);
  const ones: (Phase & { seconds: number })[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const one = await oneConnection(client, txns, big, r);
    ones.push(one);
    console.log(`one connection: ${BIG} records in ${one.seconds.toFixed(2)} s = ${Math.round(one.perS)} records/s`);
    raws.push(await rawPuts(client, txns, big, r));
    console.log(`raw batched puts: ${Math.round(raws[r]!.perS)} keys/s`);
  }
  const ratios = ones.map((o, i) => o.perS / ((raws[i]!.perS + raws[i + 1]!.perS) / 2));

  // 200 IOCs of 500 records connecting at once.
  const b = await bridge(client, new Keyspace('/bench-bridge/many/'), { ttlSeconds: 10, pingIntervalMs: 30_000, frameTimeoutMs: 30_000 });
  const many = Array.from({ length: MANY }, (_, i) => {
    const name = `ioc${String(i).padStart(3, '0')}`;
    return { name, frames: [Buffer.concat(uploadFrames({ env: env(name), records: records(EACH, `M${i}`) }, b.serverKey))] };
  });
  let manyS = 0;
  let clients: RecCasterClient[] = [];
  const manyPhase = await measured(txns, async () => {
    const t1 = performance.now();
    clients = await Promise.all(many.map(async (m) => {
      const c = await RecCasterClient.connect('127.0.0.1', b.port, { env: env(m.name), records: [], splitWrites: false });
      await c.greeted;
      c.write(m.frames);
      return c;
    }));
    await waitFor(() => b.completed() >= MANY, 300_000, 'many uploads');
    manyS = (performance.now() - t1) / 1000;
    return MANY * EACH / manyS;
  });
  console.log(`${MANY} IOCs × ${EACH} records at once: all complete in ${manyS.toFixed(2)} s = ${Math.round(manyPhase.perS)} records/s`);
  for (const c of clients) c.close();
  await b.close();
  const rawLast = await rawPuts(client, txns, big, ROUNDS + 1);
  console.log(`raw batched puts: ${Math.round(rawLast.perS)} keys/s`);
  const manyRatio = manyPhase.perS / ((raws[ROUNDS]!.perS + rawLast.perS) / 2);

  const ratio = median(ratios);
  const rawKeysPerS = median(raws.map((r) => r.perS));
  console.log(`ratio bridge / raw: ${ratio.toFixed(2)} (median of ${ROUNDS} rounds: ${ratios.map((x) => x.toFixed(2)).join(', ')}; goal ≥ 0.7)`);
  const per1000 = (p: Phase, n: number): number => Number((p.txns / (n / 1000)).toFixed(2));
  console.log(JSON.stringify({
    bench: 'bridge', records: BIG, rounds: ROUNDS, records_per_s: Math.round(median(ones.map((o) => o.perS))),
    raw_keys_per_s: Math.round(rawKeysPerS), ratio: Number(ratio.toFixed(3)), ratios: ratios.map((x) => Number(x.toFixed(3))),
    one_connection_s: Number(median(ones.map((o) => o.seconds)).toFixed(3)),
    iocs: MANY, records_each: EACH, all_complete_s: Number(manyS.toFixed(3)),
    many_records_per_s: Math.round(manyPhase.perS), many_ratio: Number(manyRatio.toFixed(3)),
    txns_per_1000: { raw: per1000(raws[0]!, BIG), one: per1000(ones[0]!, BIG), many: per1000(manyPhase, MANY * EACH) },
    cpu_ms: { raw: Math.round(median(raws.map((r) => r.cpuMs))), one: Math.round(median(ones.map((o) => o.cpuMs))), many: Math.round(manyPhase.cpuMs) },
  }));
} finally {
  client.close();
  await cluster.stop();
}
