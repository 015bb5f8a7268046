/**
 * Benchmark of the RecCaster bridge on a fresh 3-member etcd cluster: one simulated IOC streams 100 000 records
 * (with aliases, info tags and DESC) over one connection, and 200 simulated IOCs of 500 records each connect at
 * once. Baseline, in the same run and cluster: raw batched puts of as many keys with the same values (128 per
 * transaction, 8 in flight), measured before and after. The IOCs are our test client (test/support); the bridge
 * runs in this process. Last line is JSON.
 */
import { performance } from 'node:perf_hooks';
import { createEtcdClient } from '../src/adapters/etcd/client.js';
import { commitOps } from '../src/adapters/etcd/kv.js';
import { Keyspace } from '../src/core/keyspace.js';
import { batchOps, encodeStoredRecord, toStoredRecord, type PlannedOp } from '../src/core/upload/plan.js';
import { bridge } from '../test/support/bridge-harness.js';
import { RecCasterClient, uploadFrames, type CastRecord } from '../test/support/reccaster-client.js';
import { startTestCluster } from '../test/support/start-cluster.js';

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

async function rawPuts(client: ReturnType<typeof createEtcdClient>, recs: readonly CastRecord[], round: number): Promise<number> {
  const keys = new Keyspace(`/bench-raw/r${round}/`);
  const ops: PlannedOp[] = recs.map((r) => ({
    type: 'put', key: keys.iocRecord('big@benchhost', r.name),
    value: encodeStoredRecord(toStoredRecord({ name: r.name, type: r.type, fields: { DESC: r.desc ?? '' }, infos: { ...r.infos }, aliases: [...(r.aliases ?? [])] })),
  }));
  const batches = batchOps(ops);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < batches.length) await commitOps(client, batches[next++]!, 'raw puts');
  }));
  return ops.length / ((performance.now() - t0) / 1000);
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const cluster = await startTestCluster('bench-bridge');
const client = createEtcdClient(cluster.info.endpoints);
try {
  const big = records(BIG, 'BIG');
  const raw1 = await rawPuts(client, big, 1);
  console.log(`raw batched puts (before): ${Math.round(raw1)} keys/s`);

  const keys = new Keyspace('/bench-bridge/v1/');
  const b = await bridge(client, keys, { ttlSeconds: 10, pingIntervalMs: 30_000, frameTimeoutMs: 30_000 });
  const ioc = await RecCasterClient.connect('127.0.0.1', b.port, { env: env('big'), records: big, splitWrites: false });
  // The IOC's bytes are made before the clock starts: a real IOC sends them from another process.
  const bigFrames = [Buffer.concat(uploadFrames({ env: env('big'), records: big }, b.serverKey))];
  await ioc.greeted;
  const t0 = performance.now();
  ioc.write(bigFrames);
  await waitFor(() => b.completed() >= 1, 300_000, 'big upload');
  const bigS = (performance.now() - t0) / 1000;
  const recordsPerS = BIG / bigS;
  console.log(`one connection: ${BIG} records in ${bigS.toFixed(2)} s = ${Math.round(recordsPerS)} records/s`);
  ioc.close();

  const raw2 = await rawPuts(client, big, 2);
  console.log(`raw batched puts (after): ${Math.round(raw2)} keys/s`);

  // 200 IOCs of 500 records connecting at once.
  const many = Array.from({ length: MANY }, (_, i) => {
    const name = `ioc${String(i).padStart(3, '0')}`;
    return { name, frames: [Buffer.concat(uploadFrames({ env: env(name), records: records(EACH, `M${i}`) }, b.serverKey))] };
  });
  const t1 = performance.now();
  const clients = await Promise.all(many.map(async (m) => {
    const c = await RecCasterClient.connect('127.0.0.1', b.port, { env: env(m.name), records: [], splitWrites: false });
    await c.greeted;
    c.write(m.frames);
    return c;
  }));
  await waitFor(() => b.completed() >= 1 + MANY, 300_000, 'many uploads');
  const manyS = (performance.now() - t1) / 1000;
  console.log(`${MANY} IOCs × ${EACH} records at once: all complete in ${manyS.toFixed(2)} s = ${Math.round(MANY * EACH / manyS)} records/s`);
  for (const c of clients) c.close();
  await b.close();

  const rawKeysPerS = (raw1 + raw2) / 2;
  const ratio = recordsPerS / rawKeysPerS;
  console.log(`ratio bridge / raw: ${ratio.toFixed(2)} (goal ≥ 0.7)`);
  console.log(JSON.stringify({
    bench: 'bridge', records: BIG, records_per_s: Math.round(recordsPerS), raw_keys_per_s: Math.round(rawKeysPerS),
    ratio: Number(ratio.toFixed(3)), one_connection_s: Number(bigS.toFixed(3)),
    iocs: MANY, records_each: EACH, all_complete_s: Number(manyS.toFixed(3)),
    many_records_per_s: Math.round(MANY * EACH / manyS), many_ratio: Number((MANY * EACH / manyS / rawKeysPerS).toFixed(3)),
  }));
} finally {
  client.close();
  await cluster.stop();
}
