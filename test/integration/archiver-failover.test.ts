/**
 * Archiver failover on the real 3-member cluster, with agent processes and stand-in archivers (archiver-harness).
 * The acceptance criteria of issue 5: no overlap ever; takeover after a crash within TTL + 1 s; a switchover that
 * completes (within a generous 3 s: the 0.5 s goal is a figure of bench/failover.ts, measured, not asserted; the
 * start hook's process launch alone took up to 0.6 s on a loaded two-core machine); an etcd member lost meanwhile
 * changes nothing. Figures (medians) come from bench/failover.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ArchiverHarness, type HarnessOptions } from '../support/archiver-harness.js';
import { testCluster, testEndpoints, uniqueRoot } from '../support/cluster.js';
import { failoverFigures, overlapSamples } from '../support/failover-series.js';

const TTL_S = 2;
let harness: ArchiverHarness | null = null;

async function start(name: string, extra: Partial<HarnessOptions> = {}): Promise<ArchiverHarness> {
  harness = await ArchiverHarness.start({ endpoints: testEndpoints(), root: uniqueRoot(name), ttlS: TTL_S, ...extra });
  return harness;
}

afterEach(async () => {
  await harness?.stop();
  harness = null;
});

describe('archiver failover', () => {
  it('a crashed active node is replaced within TTL + 1 s, and no two nodes ever write at once', async () => {
    const h = await start('ha-crash');
    const g = await h.waitSettled();
    const victim = g.active?.node ?? '';
    await sleep(800);
    const at = await h.crash(victim);
    const after = await h.waitFor((s) => s.active !== null && s.active.node !== victim, 10_000, 'takeover');
    expect(BigInt(after.active?.token ?? '0')).toBeGreaterThan(BigInt(g.active?.token ?? '0'));
    await sleep(500);
    const f = failoverFigures(await h.samples(), victim, at);
    expect(f.overlapSamples).toBe(0);
    expect(f.takeoverMs).not.toBeNull();
    expect(f.takeoverMs ?? Infinity).toBeLessThanOrEqual(TTL_S * 1000 + 1000);
  });

  it('a frozen active node is replaced, and when it wakes up it stops without writing again', async () => {
    const h = await start('ha-freeze');
    const g = await h.waitSettled();
    const victim = g.active?.node ?? '';
    await sleep(800);
    const at = await h.freeze(victim);
    await h.waitFor((s) => s.active !== null && s.active.node !== victim, 10_000, 'takeover');
    await sleep(500);
    h.thaw(victim);
    // The woken agent notices its lease deadline has passed, runs its stop hooks and goes back to standby.
    await h.waitFor((s) => s.nodes.some((n) => n.node === victim && n.role === 'standby'), 15_000, 'victim standby');
    await sleep(500);
    const f = failoverFigures(await h.samples(), victim, at);
    expect(f.overlapSamples).toBe(0);
    expect(f.victimTailMs).toBeNull(); // not one sample from the frozen node after the fault
    expect(f.successor).not.toBeNull();
  });

  it('an active node cut off from etcd stops its service by itself before the other takes over', async () => {
    const h = await start('ha-cutoff', { proxied: true });
    const g = await h.waitSettled();
    const victim = g.active?.node ?? '';
    await sleep(800);
    const at = h.cutOff(victim);
    await h.waitFor((s) => s.active !== null && s.active.node !== victim, 10_000, 'takeover');
    const samples = await h.samples();
    const lastVictim = Math.max(...samples.filter((s) => s.node === victim).map((s) => s.t));
    const firstSuccessor = Math.min(...samples.filter((s) => s.node !== victim && s.t >= at).map((s) => s.t));
    expect(lastVictim).toBeLessThan(firstSuccessor);
    h.heal(victim);
    await h.waitFor((s) => s.nodes.some((n) => n.node === victim && n.role === 'standby'), 20_000, 'victim standby');
    expect(overlapSamples(await h.samples())).toEqual([]);
  });

  it('a switchover hands over to the named node, both ways, without overlap', async () => {
    const h = await start('ha-switchover');
    for (let i = 0; i < 2; i++) {
      const g = await h.waitSettled();
      const from = g.active?.node ?? '';
      const to = h.nodes.find((n) => n !== from) ?? '';
      await sleep(500);
      const r = await h.service.switchover(h.group, to, 5000);
      expect(r).toMatchObject({ from, to });
      expect(r.elapsedMs).toBeLessThanOrEqual(3000);
    }
    await sleep(300);
    expect(overlapSamples(await h.samples())).toEqual([]);
  });

  it('switchover refuses an unknown target', async () => {
    const h = await start('ha-switchover-bad');
    await h.waitSettled();
    await expect(h.service.switchover(h.group, 'nobody', 2000)).rejects.toMatchObject({ code: 'PVS_ARCHIVER_SWITCHOVER' });
  });

  it('losing an etcd member changes nothing: same active node, same token, no overlap', async () => {
    const cluster = await testCluster();
    const h = await start('ha-member-loss');
    const g = await h.waitSettled();
    await sleep(500);
    const leader = await cluster.leader();
    const member = leader ?? cluster.memberNames[0] ?? '';
    const at = Date.now();
    await cluster.stopMember(member, 'SIGKILL');
    try {
      await sleep(3 * TTL_S * 1000);
      const now = await h.waitFor((s) => s.active !== null, 5000, 'an active node');
      expect(now.active?.node).toBe(g.active?.node);
      expect(now.active?.token).toBe(g.active?.token);
      const samples = await h.samples();
      expect(samples.filter((s) => s.t >= at && s.node !== g.active?.node)).toEqual([]);
      expect(overlapSamples(samples)).toEqual([]);
    } finally {
      await cluster.startMember(member);
      await cluster.waitHealthy();
    }
  });
});
