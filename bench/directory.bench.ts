// Directory at scale: load N channels (~10 properties each), then time the queries of the API goals.
// Run: node --expose-gc --import tsx bench/directory.bench.ts [channels]. Ends with one JSON line of figures.
import { Directory } from '../src/core/directory/directory.js';
import type { DirectoryEvent } from '../src/core/directory/events.js';
import type { StoredRecord } from '../src/core/model.js';
import { parseChannelQuery } from '../src/core/query/parse-query.js';

const total = Number(process.argv[2] ?? 1_000_000);
const perIoc = 1000;
const iocs = Math.ceil(total / perIoc);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const types = ['ai', 'ao', 'bi', 'bo', 'calc', 'longin', 'mbbi', 'stringin'];

gc();
const heap0 = process.memoryUsage().heapUsed;
const d = new Directory({ infoWhitelist: ['archive'] });

// Build events IOC by IOC, as a snapshot would deliver them; values go through JSON.parse like the mirror's.
let applyMs = 0;
let rev = 1;
const batch: DirectoryEvent[] = [];
for (let i = 0; i < iocs; i++) {
  const iocId = `IOC${i}@host${i % 50}`;
  batch.length = 0;
  batch.push({ kind: 'iocInfo', iocId, value: JSON.parse(JSON.stringify({ schema: 1, iocId, iocName: `IOC${i}`,
    hostName: `host${i % 50}`, iocIP: `10.0.${i % 250}.${i % 200}`, env: { RSRV_SERVER_PORT: '5064' },
    uploadId: `u${i}`, state: 'complete', records: perIoc, updatedAt: new Date(1.7e12 + i * 1000).toISOString(),
    writer: 'pvsync-bench' })) });
  if (i % 10 !== 0) batch.push({ kind: 'alive', iocId, value: { uploadId: `u${i}`, since: 'x', writer: 'w' } });
  for (let j = 0; j < perIoc && i * perIoc + j < total; j++) {
    const name = `SR${String(i).padStart(4, '0')}:C${j % 30}:DEV${j}:${j % 2 ? 'RB' : 'SP'}`;
    const value = JSON.parse(JSON.stringify({ name, type: types[j % types.length], desc: `device ${j} of ioc ${i}`,
      infos: j % 10 === 0 ? { archive: 'monitor 1.0', autosaveFields: 'VAL' } : {}, aliases: [] })) as StoredRecord;
    batch.push({ kind: 'record', iocId, name, value });
  }
  const t = performance.now();
  d.apply(batch, rev++);
  applyMs += performance.now() - t;
}
batch.length = 0;
let t = performance.now();
const firstAll = d.count(parseChannelQuery({}));
const indexMs = performance.now() - t;
gc();
const heapMiB = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;

function time(params: Record<string, string>, reps: number, withTotal = false): { p50: number; p99: number; n: number } {
  const ms: number[] = [];
  let n = 0;
  for (let r = 0; r < reps; r++) {
    const s = performance.now();
    const q = parseChannelQuery(params);
    const res = d.search(q, withTotal);
    JSON.stringify(res.channels);
    n = res.channels.length;
    ms.push(performance.now() - s);
  }
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(reps * 0.5)] ?? 0, p99: ms[Math.floor(reps * 0.99)] ?? 0, n };
}

const prefix = time({ '~name': 'sr0123:c1*' }, 300);
const prefixVaried = (() => {
  const ms: number[] = [];
  for (let r = 0; r < 300; r++) {
    const s = performance.now();
    const res = d.search(parseChannelQuery({ '~name': `SR${String((r * 37) % iocs).padStart(4, '0')}:C2*` }));
    JSON.stringify(res.channels);
    ms.push(performance.now() - s);
  }
  ms.sort((a, b) => a - b);
  return { p50: ms[150] ?? 0, p99: ms[297] ?? 0 };
})();
const propFilter = time({ iocName: 'IOC77', archive: '*' }, 20);
const propFilter1000 = time({ iocName: 'IOC77' }, 20);
const page10k = time({ pvStatus: 'Inactive' }, 5);
const substr = time({ '~name': '*DEV99:*' }, 5);
t = performance.now();
const countInactive = d.count(parseChannelQuery({ pvStatus: 'Inactive' }));
const countMs = performance.now() - t;

// An IOC reboot at scale: alive flips, then one record changes, then the next query re-merges.
t = performance.now();
d.apply([{ kind: 'alive', iocId: 'IOC5@host5', value: null }], rev++);
const aliveFlipMs = performance.now() - t;
t = performance.now();
d.apply([{ kind: 'record', iocId: 'IOC5@host5', name: 'NEW:NAME', value: { name: 'NEW:NAME', type: 'ai', infos: {}, aliases: [] } }], rev);
d.count(parseChannelQuery({ '~name': 'NEW*' }));
const smallChangeMs = performance.now() - t;

const r = (x: number): number => Math.round(x * 100) / 100;
console.log(JSON.stringify({
  bench: 'directory', channels: d.size, firstAll, heapMiB: r(heapMiB), applyTotalMs: r(applyMs),
  applyPerChannelUs: r((applyMs * 1000) / total), firstIndexMs: r(indexMs),
  prefix100: { n: prefix.n, p50: r(prefix.p50), p99: r(prefix.p99) },
  prefixVaried: { p50: r(prefixVaried.p50), p99: r(prefixVaried.p99) },
  propFilter: { n: propFilter.n, p50: r(propFilter.p50), p99: r(propFilter.p99) },
  propFilter1000: { n: propFilter1000.n, p50: r(propFilter1000.p50) },
  page10k: { n: page10k.n, p50: r(page10k.p50) }, substring: { n: substr.n, p50: r(substr.p50) },
  countInactive, countMs: r(countMs), aliveFlipMs: r(aliveFlipMs), smallChangeMs: r(smallChangeMs),
}));
