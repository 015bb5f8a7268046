/**
 * Benchmark of the uploader: a generated 100 000-record IOC (a 4-record template × 25 000 substitution rows) is
 * parsed and published into a fresh 3-member etcd cluster by the real IocPublisher. Baseline, in the same run and
 * cluster: raw batched puts of the same number of keys with values of the same sizes (128 per transaction, the
 * same number in flight), measured before and after the upload. Last line is JSON.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { createEtcdClient } from '../src/adapters/etcd/client.js';
import { IocPublisher } from '../src/adapters/etcd/ioc-publisher.js';
import { nodeFileSource } from '../src/adapters/fs/file-source.js';
import { parseStartup } from '../src/core/dbfile/startup.js';
import { Keyspace } from '../src/core/keyspace.js';
import { encodeStoredRecord, toStoredRecord, type PlannedOp } from '../src/core/upload/plan.js';
import { startTestCluster } from '../test/support/start-cluster.js';
import { rawBatchedPuts } from './lib/raw-puts.js';

const ROWS = 25_000;
const CONCURRENCY = 8;
const TEMPLATE = `record(ai, "$(SYS):$(DEV):VAL") {
    field(DESC, "$(DEV) position readback")
    field(EGU, "mm")
    info(archive, "monitor 1.0")
    alias("$(SYS):$(DEV):READ")
}
record(ao, "$(SYS):$(DEV):SET") {
    field(DESC, "$(DEV) setpoint")
    info(autosaveFields, "VAL")
}
record(bi, "$(SYS):$(DEV):STAT") {
    field(DESC, "$(DEV) status")
}
record(calc, "$(SYS):$(DEV):CALC") {
    field(CALC, "A*2")
}
`;

const dir = mkdtempSync(join(tmpdir(), 'pvsync-bench-upload-'));
const cluster = await startTestCluster('bench-upload');
const client = createEtcdClient(cluster.info.endpoints);
try {
  let subs = 'file "dev.template" {\n    pattern { DEV }\n';
  for (let i = 0; i < ROWS; i++) subs += `    { D${String(i).padStart(6, '0')} }\n`;
  subs += '}\n';
  writeFileSync(join(dir, 'dev.template'), TEMPLATE);
  writeFileSync(join(dir, 'devices.substitutions'), subs);
  writeFileSync(join(dir, 'st.cmd'), 'epicsEnvSet("IOCNAME", "bench")\ndbLoadTemplate("devices.substitutions", "SYS=BENCH")\niocInit()\n');
  const tp = performance.now();
  const parsed = parseStartup(join(dir, 'st.cmd'), { files: nodeFileSource(), env: {} });
  const parseS = (performance.now() - tp) / 1000;
  const n = parsed.records.length;
  console.log(`parsed ${n} records in ${parseS.toFixed(2)} s`);

  // The baseline writes the same values the uploader will write, under other keys of the same length.
  const rawKeys = new Keyspace('/bench-raw/v1/');
  const rawOps = (round: number): PlannedOp[] => parsed.records.map((r) => ({
    type: 'put', key: rawKeys.iocRecord(`bench@r${round}`, r.name), value: encodeStoredRecord(toStoredRecord(r)),
  }));
  const raw1 = await rawBatchedPuts(client, rawOps(1), CONCURRENCY);
  console.log(`raw batched puts (before): ${Math.round(raw1)} keys/s`);

  const keys = new Keyspace('/bench/v1/');
  const newPublisher = (): IocPublisher => new IocPublisher({
    client, keys, iocId: 'bench@bench', iocName: 'bench', hostName: 'bench', env: parsed.env, records: parsed.records,
    ttlSeconds: 10, writer: 'bench', log: pino({ level: 'warn' }), concurrency: CONCURRENCY,
  });
  const publisher = newPublisher();
  const tu = performance.now();
  const report = await publisher.start();
  const uploadS = (performance.now() - tu) / 1000;
  const recordsPerS = n / uploadS;
  console.log(`upload: ${report.written} records written in ${uploadS.toFixed(2)} s = ${Math.round(recordsPerS)} records/s`);
  await publisher.stop();

  const raw2 = await rawBatchedPuts(client, rawOps(2), CONCURRENCY);
  console.log(`raw batched puts (after): ${Math.round(raw2)} keys/s`);

  const again = newPublisher();
  const tr = performance.now();
  const second = await again.start();
  const restartS = (performance.now() - tr) / 1000;
  console.log(`restart with unchanged files: ${second.written} records written in ${restartS.toFixed(2)} s`);
  await again.stop();

  const rawKeysPerS = (raw1 + raw2) / 2;
  const ratio = recordsPerS / rawKeysPerS;
  console.log(`ratio upload / raw: ${ratio.toFixed(2)} (goal ≥ 0.7)`);
  console.log(JSON.stringify({
    bench: 'upload', records: n, records_per_s: Math.round(recordsPerS), raw_keys_per_s: Math.round(rawKeysPerS),
    ratio: Number(ratio.toFixed(3)), upload_s: Number(uploadS.toFixed(3)), parse_s: Number(parseS.toFixed(3)),
    restart_unchanged_s: Number(restartS.toFixed(3)), restart_written: second.written,
  }));
} finally {
  client.close();
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
