// HTTP read API at scale: N channels in the directory, then timed requests through fastify's inject (no socket).
// Run: node --expose-gc --import tsx bench/http.bench.ts [channels]. Ends with one JSON line of figures.
import { Registry } from 'prom-client';
import { buildApp } from '../src/adapters/http/app.js';
import { Directory } from '../src/core/directory/directory.js';
import type { DirectoryEvent } from '../src/core/directory/events.js';
import { parseChannelQuery } from '../src/core/query/parse-query.js';

const total = Number(process.argv[2] ?? 200_000);
const perIoc = 1000;
const d = new Directory();
const types = ['ai', 'ao', 'bi', 'bo', 'calc'];
for (let i = 0; i * perIoc < total; i++) {
  const iocId = `IOC${i}@host${i % 50}`;
  const events: DirectoryEvent[] = [
    { kind: 'iocInfo', iocId, value: { schema: 1, iocId, iocName: `IOC${i}`, hostName: `host${i % 50}`,
      iocIP: '10.0.0.1', env: { RSRV_SERVER_PORT: '5064' }, uploadId: 'u', state: 'complete', records: perIoc,
      updatedAt: new Date(1.7e12 + i).toISOString(), writer: 'bench' } },
    { kind: 'alive', iocId, value: { uploadId: 'u', since: 'x', writer: 'w' } },
  ];
  for (let j = 0; j < perIoc; j++) {
    const name = `SR${String(i).padStart(4, '0')}:C${j % 30}:DEV${j}`;
    events.push({ kind: 'record', iocId, name, value: { name, type: types[j % 5] ?? 'ai', desc: `device ${j}`,
      infos: { archive: 'monitor 1.0' }, aliases: [] } });
  }
  d.apply(events, i + 1);
}
const app = buildApp({ directory: d, registry: new Registry(), health: () => ({ ok: true, etcd: null, revision: 1 }),
  serviceInfo: { version: 'bench', backend: () => ({ status: 'Connected' }) } });
await app.ready();

async function timeUrl(url: string, reps: number): Promise<{ p50: number; p99: number; bytes: number }> {
  for (let w = 0; w < Math.min(reps, 20); w++) await app.inject({ method: 'GET', url }); // JIT warm-up
  const ms: number[] = [];
  let bytes = 0;
  for (let r = 0; r < reps; r++) {
    const s = performance.now();
    const res = await app.inject({ method: 'GET', url });
    ms.push(performance.now() - s);
    bytes = res.rawPayload.length;
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode}`);
  }
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(reps / 2)] ?? 0, p99: ms[Math.floor(reps * 0.99)] ?? 0, bytes };
}

// ~100 channels: three of the thirty C<n> groups of one IOC (34 records each).
const prefix = await timeUrl('/ChannelFinder/resources/channels?~name=SR0042:C1:*|SR0042:C2:*|SR0042:C3:*', 400);
const propFilter = await timeUrl('/ChannelFinder/resources/channels?iocName=IOC7&recordType=ai', 20);
const page10k = await timeUrl('/ChannelFinder/resources/channels?~name=SR00*', 10);
// The same page serialized by JSON.stringify, for comparison with fast-json-stringify.
const q = parseChannelQuery({ '~name': 'SR00*' });
let s = performance.now();
const page = d.search(q).channels;
const buildMs = performance.now() - s;
s = performance.now();
const text = JSON.stringify(page);
const stringifyMs = performance.now() - s;
const count = await timeUrl('/ChannelFinder/resources/channels/count?pvStatus=Active', 5);
await app.close();

const r = (x: number): number => Math.round(x * 100) / 100;
console.log(JSON.stringify({
  bench: 'http', channels: d.size,
  prefix: { p50: r(prefix.p50), p99: r(prefix.p99), bytes: prefix.bytes },
  propFilter: { p50: r(propFilter.p50), p99: r(propFilter.p99), bytes: propFilter.bytes },
  page10k: { p50: r(page10k.p50), p99: r(page10k.p99), bytes: page10k.bytes },
  page10kBuildMs: r(buildMs), page10kJsonStringifyMs: r(stringifyMs), jsonBytes: text.length,
  countAll: { p50: r(count.p50) },
}));
