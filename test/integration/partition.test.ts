/**
 * Issue 14: one etcd member cut off SILENTLY (network namespaces + nftables dropping everything: it accepts nothing
 * and answers nothing), the leader and then a follower, while an uploader (TTL 2 s), two API replicas and an
 * archiver pair run. Bounds are the issue's; the figures themselves are in `npm run bench:partition`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PartitionScenario, type CutReport } from '../support/partition-scenario.js';

const CUT_MS = 5000;

describe('a silent etcd member (network partition)', () => {
  let s: PartitionScenario;

  beforeAll(async () => {
    s = await PartitionScenario.start();
  }, 90_000);

  afterAll(async () => {
    await s?.stop();
  }, 60_000);

  const check = async (r: CutReport): Promise<void> => {
    const detail = `${JSON.stringify(r)}\n${await s.diagnostics()}`;
    // No channel of the live IOC turned Inactive, in etcd or in either replica.
    expect(r.livenessGapMs, detail).toBe(0);
    // The first write through each replica succeeded within 2 s of the cut.
    for (const ms of r.firstWriteMs) expect(ms, detail).toBeLessThanOrEqual(2000);
    // Neither mirror stayed behind the cluster for more than 2 s.
    for (const ms of r.mirrorStallMs) expect(ms, detail).toBeLessThanOrEqual(2000);
    // Never two active archiver nodes; the active one neither stopped nor restarted.
    expect(r.overlapSamples, detail).toBe(0);
    expect(r.activeAfter, detail).toEqual(r.activeBefore);
    expect(r.activeRunsInWindow, detail).toBe(1);
    expect(r.activeMaxGapMs, detail).toBeLessThan(1000);
    // After the heal the member rejoins and every replica equals etcd.
    expect(r.rejoinMs, detail).toBeGreaterThanOrEqual(0);
    expect(r.replicasEqualEtcd, detail).toBe(true);
  };

  it('cutting the leader off stalls nothing: liveness, writes, mirrors and the active archiver carry on', async () => {
    await check(await s.cut('leader', CUT_MS));
  }, 60_000);

  it('cutting a follower off stalls nothing either', async () => {
    await check(await s.cut('follower', CUT_MS));
  }, 60_000);
});
