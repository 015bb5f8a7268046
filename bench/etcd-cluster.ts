/**
 * etcd cluster benchmark (`npx tsx bench/etcd-cluster.ts`): on a throwaway 3-member cluster with the settings of
 * etcd-cluster.yml, time `up`, then RUNS times SIGKILL the leader and time until another member is leader, until a
 * put through a client on all three endpoints succeeds, and until the restarted member is healthy again; then `down`.
 * Last line: {"bench":"etcd-cluster","runs":…,"call_timeout_ms":…,"up_s":…,"down_s":…,"new_leader_s":{…},"write_gap_s":{…},"rejoin_s":{…}}
 * Environment: BENCH_RUNS (default 5), BENCH_CALL_TIMEOUT (client call deadline in ms, default 2000).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createEtcdClient } from '../src/adapters/etcd/client.js';
import type { LocalCluster } from '../src/adapters/local-etcd/local-cluster.js';
import { startTestCluster } from '../test/support/start-cluster.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const CALL_TIMEOUT_MS = Number(process.env['BENCH_CALL_TIMEOUT'] ?? 2000);

const seconds = (ms: number): number => Math.round(ms) / 1000;

function stats(xs: readonly number[]): { median: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
  return { median: seconds(median), max: seconds(s[s.length - 1] ?? NaN) };
}

const t0 = performance.now();
const started = await startTestCluster('bench');
const upMs = performance.now() - t0;
const cluster: LocalCluster = started.cluster;
const client = createEtcdClient(started.info.endpoints, { callTimeoutMs: CALL_TIMEOUT_MS, dialTimeoutMs: 1000 });
const newLeader: number[] = [];
const writeGap: number[] = [];
const rejoin: number[] = [];
let downMs: number;
try {
  await client.put('/pvsync-bench/warmup').value('1');
  for (let run = 0; run < RUNS; run++) {
    let old: string | undefined;
    while ((old = await cluster.leader()) === undefined) await sleep(10);
    const killedAt = performance.now();
    await cluster.stopMember(old, 'SIGKILL');
    const writeDone = (async () => {
      for (;;) {
        try {
          await client.put(`/pvsync-bench/run-${run}`).value('x');
          return performance.now() - killedAt;
        } catch {
          await sleep(10);
        }
      }
    })();
    for (;;) {
      const l = await cluster.leader();
      if (l !== undefined && l !== old) break;
      await sleep(10);
    }
    newLeader.push(performance.now() - killedAt);
    writeGap.push(await writeDone);
    const restartAt = performance.now();
    await cluster.startMember(old);
    await cluster.waitHealthy();
    rejoin.push(performance.now() - restartAt);
    await sleep(500); // let the rejoined member settle before the next kill
  }
} finally {
  client.close();
  const d0 = performance.now();
  await started.stop();
  downMs = performance.now() - d0;
}

process.stdout.write(`${JSON.stringify({
  bench: 'etcd-cluster', runs: RUNS, call_timeout_ms: CALL_TIMEOUT_MS, up_s: seconds(upMs), down_s: seconds(downMs),
  new_leader_s: stats(newLeader), write_gap_s: stats(writeGap), rejoin_s: stats(rejoin),
})}\n`);
