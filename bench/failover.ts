/**
 * Failover benchmark (`npm run bench:failover`): on a throwaway 3-member etcd cluster, run the harness's crash,
 * freeze and cut-off cases RUNS times each plus switchovers, and print medians. Last line:
 * {"bench":"failover","ttl_s":…,"crash":{"takeover_s":…,"max_gap_s":…},"freeze":{…},"cutoff":{…},
 *  "switchover_s":…,"overlap_samples":…}
 * Environment: FAILOVER_TTL (s, default 2), FAILOVER_RUNS (default 3).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ArchiverHarness } from '../test/support/archiver-harness.js';
import { failoverFigures, maxGapMs, overlapSamples } from '../test/support/failover-series.js';
import { startTestCluster } from '../test/support/start-cluster.js';

const TTL_S = Number(process.env['FAILOVER_TTL'] ?? 2);
const RUNS = Number(process.env['FAILOVER_RUNS'] ?? 3);

type Case = 'crash' | 'freeze' | 'cutoff';

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

async function oneCase(endpoints: string[], kind: Case, run: number): Promise<{ takeoverMs: number; gapMs: number; overlap: number }> {
  const h = await ArchiverHarness.start({
    endpoints, root: `/pvsync-bench/failover-${kind}-${run}-${process.pid}/`, ttlS: TTL_S, proxied: kind === 'cutoff',
  });
  try {
    const g = await h.waitSettled();
    const victim = g.active?.node ?? '';
    await sleep(1000); // a steady series before the fault
    const at = kind === 'crash' ? await h.crash(victim) : kind === 'freeze' ? await h.freeze(victim) : h.cutOff(victim);
    await h.waitFor((s) => s.active !== null && s.active.node !== victim, 4 * TTL_S * 1000 + 5000, 'takeover');
    await sleep(1000);
    if (kind === 'freeze') h.thaw(victim);
    if (kind === 'cutoff') h.heal(victim);
    await sleep(1500); // a resumed victim must not write again
    const f = failoverFigures(await h.samples(), victim, at);
    if (f.takeoverMs === null) throw new Error(`${kind}: no takeover in the series`);
    process.stdout.write(`${kind} #${run}: victim ${victim} → ${f.successor}, takeover ${f.takeoverMs} ms, `
      + `max gap ${f.maxGapMs} ms, victim tail ${f.victimTailMs ?? '-'} ms, overlap ${f.overlapSamples}\n`);
    return { takeoverMs: f.takeoverMs, gapMs: f.maxGapMs, overlap: f.overlapSamples };
  } finally {
    await h.stop();
  }
}

async function switchovers(endpoints: string[], n: number): Promise<{ ms: number[]; gapMs: number; overlap: number }> {
  const h = await ArchiverHarness.start({ endpoints, root: `/pvsync-bench/failover-switchover-${process.pid}/`, ttlS: TTL_S });
  try {
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const g = await h.waitSettled();
      await sleep(700);
      const to = h.nodes.find((x) => x !== g.active?.node);
      const r = await h.service.switchover(h.group, to, 5000);
      process.stdout.write(`switchover #${i + 1}: ${r.from} → ${r.to} in ${r.elapsedMs} ms\n`);
      ms.push(r.elapsedMs);
    }
    await sleep(500);
    const samples = await h.samples();
    return { ms, gapMs: maxGapMs(samples), overlap: overlapSamples(samples).length };
  } finally {
    await h.stop();
  }
}

async function main(): Promise<void> {
  const cluster = await startTestCluster('bench-failover');
  try {
    const endpoints = cluster.info.endpoints;
    const result: Record<Case, { takeover_s: number; max_gap_s: number }> = {} as never;
    let overlap = 0;
    for (const kind of ['crash', 'freeze', 'cutoff'] as const) {
      const rs = [];
      for (let run = 1; run <= RUNS; run++) rs.push(await oneCase(endpoints, kind, run));
      overlap += rs.reduce((a, r) => a + r.overlap, 0);
      result[kind] = {
        takeover_s: round3(median(rs.map((r) => r.takeoverMs)) / 1000),
        max_gap_s: round3(median(rs.map((r) => r.gapMs)) / 1000),
      };
    }
    const sw = await switchovers(endpoints, Math.max(3, RUNS));
    overlap += sw.overlap;
    process.stdout.write(`switchover: median ${median(sw.ms)} ms, max gap ${sw.gapMs} ms\n`);
    process.stdout.write(JSON.stringify({
      bench: 'failover', ttl_s: TTL_S, runs: RUNS, ...result,
      switchover_s: round3(median(sw.ms) / 1000), switchover_max_gap_s: round3(sw.gapMs / 1000), overlap_samples: overlap,
    }) + '\n');
  } finally {
    await cluster.stop();
  }
}

await main();
