/**
 * Partition benchmark (`npm run bench:partition`, needs root, `ip` and `nft`): the scenario of
 * test/integration/partition.test.ts (an uploader with TTL 2 s, two API replicas and an archiver pair on a 3-member
 * cluster whose members live in network namespaces), cutting the leader and then a follower off silently for
 * PARTITION_CUT seconds (default 5), PARTITION_RUNS times each (default 1). Last line:
 * {"bench":"partition","cut_s":…,"runs":…,"leader":{"first_write_s":…,"max_mirror_stall_s":…,"max_liveness_gap_s":…,
 *  "rejoin_s":…},"follower":{…},"archiver_restarts":…,"overlap_samples":…}
 * first_write_s is the later of the two replicas' first successful writes after the cut (worst run); stalls and gaps
 * are the worst over replicas and runs.
 */
import { PartitionScenario, type CutReport } from '../test/support/partition-scenario.js';

const CUT_S = Number(process.env['PARTITION_CUT'] ?? 5);
const RUNS = Number(process.env['PARTITION_RUNS'] ?? 1);

const s3 = (ms: number): number => Math.round(ms) / 1000;

async function main(): Promise<void> {
  const s = await PartitionScenario.start();
  const reports: CutReport[] = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      for (const role of ['leader', 'follower'] as const) {
        const r = await s.cut(role, CUT_S * 1000);
        reports.push(r);
        process.stdout.write(`${role} cut #${run} (${r.member}): first write ${r.firstWriteMs.join(' / ')} ms, `
          + `mirror stall ${r.mirrorStallMs.join(' / ')} ms, liveness gap ${r.livenessGapMs} ms, rejoin ${r.rejoinMs} ms, `
          + `active ${r.activeBefore.node} → ${r.activeAfter?.node ?? '-'} (${r.activeRunsInWindow} run, max gap ${r.activeMaxGapMs} ms), `
          + `replicas equal etcd: ${r.replicasEqualEtcd}\n`);
      }
    }
  } finally {
    await s.stop();
  }
  const figures = (role: 'leader' | 'follower'): Record<string, number> => {
    const rs = reports.filter((r) => r.role === role);
    return {
      first_write_s: s3(Math.max(...rs.flatMap((r) => r.firstWriteMs))),
      max_mirror_stall_s: s3(Math.max(...rs.flatMap((r) => r.mirrorStallMs))),
      max_liveness_gap_s: s3(Math.max(...rs.map((r) => r.livenessGapMs))),
      rejoin_s: s3(Math.max(...rs.map((r) => r.rejoinMs))),
    };
  };
  process.stdout.write(JSON.stringify({
    bench: 'partition', cut_s: CUT_S, runs: RUNS, leader: figures('leader'), follower: figures('follower'),
    archiver_restarts: reports.filter((r) => r.activeRunsInWindow !== 1 || r.activeAfter?.token !== r.activeBefore.token).length,
    overlap_samples: reports.reduce((a, r) => a + r.overlapSamples, 0),
  }) + '\n');
}

await main();
