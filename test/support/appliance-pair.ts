/**
 * The KOMAC archiver pair for tests: two `pvsync archiver-agent` processes (archiver-harness) whose start hook runs
 * `pvsync archiver-sim` with the SAME appliance identity, one shared MariaDB database and one data directory, and
 * whose stop hook stops it. Plus readers of the per-PV sample files (Δt gaps).
 */
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArchiverHarness, type HarnessOptions } from './archiver-harness.js';
import { freePorts } from './free-ports.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Options of a pair. */
export interface PairOptions extends Omit<HarnessOptions, 'service'> {
  readonly db: string;
  readonly database: string;
  readonly identity: string;
}

/** A started pair and where its appliances listen. */
export interface AppliancePair {
  readonly harness: ArchiverHarness;
  readonly dataDir: string;
  readonly ports: ReadonlyMap<string, number>;
  mgmtUrl(node: string): string;
}

/** Start the pair (node order decides who usually wins). */
export async function startAppliancePair(o: PairOptions): Promise<AppliancePair> {
  const nodes = o.nodes ?? ['a', 'b'];
  const free = await freePorts(nodes.length);
  const ports = new Map(nodes.map((n, i) => [n, free[i] ?? 0]));
  const mgmtUrl = (n: string): string => `http://127.0.0.1:${ports.get(n) ?? 0}/mgmt`;
  let dataDir = '';
  const harness = await ArchiverHarness.start({
    ...o, nodes,
    service: {
      // The built CLI (npm test builds first): it starts in half the time of a tsx run.
      command: (n) => `node ${q(join(REPO, 'bin/pvsync.js'))} archiver-sim --identity ${q(o.identity)} `
        + `--db ${q(o.db)} --database ${q(o.database)} --port ${ports.get(n) ?? 0} --data "$PAIR_DATA_DIR" --node ${q(n)} `
        + '--startup-ms 300 --workflow-ms 200 --no-ca --pid-file "$STANDIN_PID_FILE"',
      mgmtUrl,
    },
    env: (dir) => {
      dataDir = join(dir, 'data');
      return { PAIR_DATA_DIR: dataDir };
    },
  });
  await mkdir(dataDir, { recursive: true });
  return { harness, dataDir, ports, mgmtUrl };
}

/** One sample line of archiver-sim. */
export interface PvSample {
  readonly t: number;
  readonly node: string;
  readonly method: string;
  readonly period: number;
}

/** Every PV's samples in the data directory, by PV name, in time order. */
export async function readSamples(dataDir: string): Promise<Map<string, PvSample[]>> {
  const out = new Map<string, PvSample[]>();
  for (const f of await readdir(dataDir).catch(() => [])) {
    if (!f.endsWith('.jsonl')) continue;
    const lines = (await readFile(join(dataDir, f), 'utf8')).split('\n').filter((l) => l !== '');
    const s = lines.map((l) => JSON.parse(l) as PvSample).sort((a, b) => a.t - b.t);
    out.set(decodeURIComponent(f.slice(0, -'.jsonl'.length)), s);
  }
  return out;
}

/** The largest Δt between consecutive samples of one PV after `from` (ms), and who sampled before and after it. */
export function largestGap(samples: readonly PvSample[], from: number): { gapMs: number; before: string; after: string } | null {
  let best: { gapMs: number; before: string; after: string } | null = null;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    if (a === undefined || b === undefined || b.t < from) continue;
    const gap = b.t - a.t;
    if (best === null || gap > best.gapMs) best = { gapMs: gap, before: a.node, after: b.node };
  }
  return best;
}
