/**
 * Benchmark of the stepped channel scans (`npm run bench:steps`), in one process without HTTP: a directory of
 * BENCH_IOCS × 1 000 channels (default 1 000 000), an ordinary `~name=SR0421:C3:*` query due every 10 ms while two
 * loops run the pathological `~name=?*?*…?*Q` scan of every name back to back, with the channel routes' steps of
 * SCAN_STEP candidates and in one step (as before), alternating for 3 rounds of BENCH_SECONDS (default 4) each.
 * Latency is from when a query was due (a late timer is a blocked event loop), so the queueing is counted. First
 * the cost of the stepped path for queries answered in one step (sync vs stepped). Last line is JSON.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { runStepped, SCAN_STEP } from '../src/adapters/http/stepped.js';
import { Directory } from '../src/core/directory/directory.js';
import type { DirectoryEvent } from '../src/core/directory/events.js';
import { parseChannelQuery } from '../src/core/query/parse-query.js';
const pad = (n: number, w: number): string => String(n).padStart(w, '0');
const d = new Directory();
const IOCS = Number(process.env['BENCH_IOCS'] ?? 1000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 4);
const CALLS = Number(process.env['BENCH_CALLS'] ?? 50_000);
for (let i = 0; i < IOCS; i++) {
  const iocId = `IOC${pad(i, 4)}@h`;
  const ev: DirectoryEvent[] = [{ kind: 'iocInfo', iocId, value: { schema: 1, iocId, iocName: `IOC${pad(i, 4)}`, hostName: 'h', env: {}, uploadId: 'u', state: 'complete', records: 1000, updatedAt: '2024-01-01T00:00:00.000Z', writer: 'w' } },
    { kind: 'alive', iocId, value: { uploadId: 'u', since: '2024-01-01T00:00:00.000Z', writer: 'w' } }];
  for (let j = 0; j < 1000; j++) { const name = JSON.parse(JSON.stringify(`SR${pad(i, 4)}:C${Math.floor(j / 100)}:DEV${pad(j, 3)}:${j % 2 ? 'RB' : 'SP'}`)) as string; ev.push({ kind: 'record', iocId, name, value: { name, type: 'ai', infos: {}, aliases: [] } }); }
  d.apply(ev, i + 1);
}
const limits = { defaultSize: 10_000, maxSize: 100_000 };
const hostile = parseChannelQuery({ '~name': '?*'.repeat(10) + 'Q' }, limits);
const ordinary = parseChannelQuery({ '~name': 'SR0421:C3:*' }, limits);
async function phase(budget: number, ms: number): Promise<{ p50: number; p99: number; max: number; scans: number }> {
  let stop = false; let scans = 0;
  const hostileLoop = async (): Promise<void> => { while (!stop) { await runStepped(d.startSearchJson(hostile), budget); scans++; await nextTurn(); } };
  const loops = [hostileLoop(), hostileLoop()];
  const lat: number[] = [];
  const t0 = performance.now();
  for (let k = 0; performance.now() - t0 < ms; k++) {
    const due = t0 + k * 10;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    await runStepped(d.startSearchJson(ordinary), budget);
    lat.push(Math.max(0, performance.now() - due)); // a timer may fire a fraction of a ms early
  }
  stop = true; await Promise.all(loops);
  lat.sort((a, b) => a - b);
  const q = (p: number): number => Number((lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] ?? 0).toFixed(2));
  return { p50: q(0.5), p99: q(0.99), max: q(1), scans };
}
const overhead: unknown[] = [];
const rounds: unknown[] = [];
// The cost of the stepped path for a query answered in its first step: sync searchJson vs runStepped, alternating.
const exact = parseChannelQuery({ '~name': 'SR0421:C5:DEV537:RB' }, limits);
for (let r = 0; r < 3; r++) {
  let t = performance.now();
  for (let k = 0; k < CALLS; k++) d.searchJson(ordinary);
  const syncUs = ((performance.now() - t) * 1000) / CALLS;
  t = performance.now();
  for (let k = 0; k < CALLS; k++) await runStepped(d.startSearchJson(ordinary));
  const stepUs = ((performance.now() - t) * 1000) / CALLS;
  t = performance.now();
  for (let k = 0; k < CALLS; k++) d.searchJson(exact);
  const syncX = ((performance.now() - t) * 1000) / CALLS;
  t = performance.now();
  for (let k = 0; k < CALLS; k++) await runStepped(d.startSearchJson(exact));
  const stepX = ((performance.now() - t) * 1000) / CALLS;
  overhead.push({ prefix_100_us: { sync: Number(syncUs.toFixed(2)), stepped: Number(stepUs.toFixed(2)) },
    exact_us: { sync: Number(syncX.toFixed(2)), stepped: Number(stepX.toFixed(2)) } });
  console.error(`one-step queries, round ${r + 1}: ${JSON.stringify(overhead.at(-1))}`);
}
for (let r = 0; r < 3; r++) {
  const stepped = await phase(SCAN_STEP, SECONDS * 1000);
  const whole = await phase(Infinity, SECONDS * 1000);
  rounds.push({ stepped, one_step: whole });
  console.error(`under two hostile scan loops, round ${r + 1}: ${JSON.stringify(rounds.at(-1))}`);
}
console.log(JSON.stringify({ bench: 'steps', channels: d.size, step: SCAN_STEP, overhead, rounds }));
