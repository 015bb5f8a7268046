/**
 * 100 000 archive requests reconciled through the stand-in appliance (archiver-sim in this process, write-through
 * to a real MariaDB): the reconciler's time from "every channel desired" to "every PV archived and its PVTypeInfo
 * row written", beside a baseline measured in the same run on a fresh database: the same archivePV lists POSTed
 * straight to a second stand-in (no status reads, no planning). Called by bench/appliance.ts and bench:archiver-sync.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino, type Logger } from 'pino';
import { BplClient } from '../../src/adapters/archiver-bpl/bpl-client.js';
import { ArchapplStore } from '../../src/adapters/mariadb/archappl.js';
import { ArchiveReconciler } from '../../src/apps/archive-reconciler.js';
import { ArchiverSim } from '../../src/apps/archiver-sim.js';
import type { ArchiveRequest } from '../../src/core/archiver/plan.js';
import type { CfChannel } from '../../src/core/model.js';

/** What the measurement reports. */
export interface ApplianceReconcileFigures {
  readonly requests: number;
  readonly reconcileMs: number;
  readonly requestsPerS: number;
  /** The baseline: the same requests POSTed straight to a stand-in, until archived and written. */
  readonly rawMs: number;
  readonly rawRequestsPerS: number;
  /** requestsPerS / rawRequestsPerS. */
  readonly ratio: number;
}

/** Where to measure: a MariaDB server URL (databases are created and dropped here). */
export interface ApplianceReconcileOptions {
  readonly dbUrl: string;
  readonly count?: number;
  readonly log?: Logger;
}

function name(i: number): string {
  return `BENCH:SYS${String(Math.floor(i / 1000)).padStart(3, '0')}:PV${String(i % 1000).padStart(3, '0')}`;
}

function spec(i: number): string {
  return i % 3 === 0 ? 'scan@10' : i % 3 === 1 ? 'monitor@1.0' : 'default';
}

function request(i: number): ArchiveRequest {
  const s = spec(i);
  if (s === 'default') return { pv: name(i) };
  return s.startsWith('scan')
    ? { pv: name(i), samplingmethod: 'SCAN', samplingperiod: '10.0' }
    : { pv: name(i), samplingmethod: 'MONITOR', samplingperiod: '1.0' };
}

async function withSim<T>(o: ApplianceReconcileOptions, database: string, log: Logger,
  body: (mgmt: string, store: ArchapplStore) => Promise<T>): Promise<T> {
  const store = await ArchapplStore.open(o.dbUrl, database);
  const sim = new ArchiverSim({ identity: 'bench', db: o.dbUrl, database, port: 0, startupMs: 0, workflowMs: 0, env: {} }, log);
  try {
    const port = await sim.start();
    const mgmt = `http://127.0.0.1:${port}/mgmt`;
    const c = new BplClient(mgmt);
    while ((await c.startupState().catch(() => '')) !== 'STARTUP_COMPLETE') await sleep(20);
    return await body(mgmt, store);
  } finally {
    await sim.stop();
    await store.query(`DROP DATABASE IF EXISTS \`${database}\``).catch(() => undefined);
    await store.close();
  }
}

async function archivedAndWritten(mgmt: string, store: ArchapplStore, n: number): Promise<void> {
  const c = new BplClient(mgmt, { timeoutMs: 60_000 });
  for (;;) {
    const all = await c.allPvs();
    if (all.length >= n) {
      const rows = await store.query<{ n: bigint | number }[]>('SELECT COUNT(*) AS n FROM PVTypeInfo');
      const pending = await store.query<{ n: bigint | number }[]>('SELECT COUNT(*) AS n FROM ArchivePVRequests');
      if (Number(rows[0]?.n ?? 0) >= n && Number(pending[0]?.n ?? 1) === 0) return;
    }
    await sleep(50);
  }
}

/** Measure; both runs use databases of their own on `dbUrl`, dropped afterwards. */
export async function measureApplianceReconcile(o: ApplianceReconcileOptions): Promise<ApplianceReconcileFigures> {
  const n = o.count ?? 100_000;
  const log = o.log ?? pino({ level: 'warn' });
  const tag = `${process.pid}_${Date.now() % 1_000_000}`;

  const rawMs = await withSim(o, `bench_raw_${tag}`, log, async (mgmt, store) => {
    const c = new BplClient(mgmt, { timeoutMs: 60_000 });
    const t0 = performance.now();
    await c.archive(Array.from({ length: n }, (_, i) => request(i)));
    await archivedAndWritten(mgmt, store, n);
    return performance.now() - t0;
  });

  const reconcileMs = await withSim(o, `bench_rec_${tag}`, log, async (mgmt, store) => {
    const channels = new Map<string, CfChannel>();
    for (let i = 0; i < n; i++) {
      channels.set(name(i), {
        name: name(i), owner: 'pvsync', tags: [], properties: [
          { name: 'pvStatus', owner: 'pvsync', value: 'Active', channels: [] },
          { name: 'archive', owner: 'pvsync', value: spec(i), channels: [] },
        ],
      });
    }
    const r = new ArchiveReconciler({ selector: { names: [], untargeted: true }, passMs: 50, bplTimeoutMs: 60_000 }, {
      active: () => Promise.resolve({ node: 'bench', token: '1', since: 0, endpoints: { mgmt } }), store, log,
    });
    const t0 = performance.now();
    r.channelsChanged((x) => channels.get(x), null, () => channels.keys());
    const running = r.run();
    try {
      while (!r.converged) await sleep(20);
      await archivedAndWritten(mgmt, store, n);
      return performance.now() - t0;
    } finally {
      r.stop();
      await running;
    }
  });

  const requestsPerS = n / (reconcileMs / 1000);
  const rawRequestsPerS = n / (rawMs / 1000);
  return {
    requests: n, reconcileMs: Math.round(reconcileMs), requestsPerS: Math.round(requestsPerS),
    rawMs: Math.round(rawMs), rawRequestsPerS: Math.round(rawRequestsPerS),
    ratio: Math.round((requestsPerS / rawRequestsPerS) * 100) / 100,
  };
}
