/**
 * Fuzzing the parser with mutated fixtures (byte flips, truncation, splicing, brace and quote insertion, deletion)
 * from a seeded PRNG, so every run is the same. Each case must parse without throwing, every diagnostic must name a
 * file, line and column, and the records of the untouched file loaded first must come out unchanged.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { memoryFileSource } from '../../../src/core/dbfile/file-source.js';
import { parseStartup } from '../../../src/core/dbfile/startup.js';

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const read = (p: string): string => readFileSync(p, 'utf8');
const POOL = [
  read('test/fixtures/dbfile/db-basics/basics.db'),
  read('test/fixtures/dbfile/errors/broken.db'),
  read('test/fixtures/dbfile/macros/macros.db'),
  read('test/fixtures/dbfile/dbd-skip/mixed.db'),
  read('test/fixtures/dbfile/substitutions/all.substitutions'),
  read('test/fixtures/dbfile/startup/st.cmd'),
  read('examples/linac-bpm/db/bpm.template'),
  read('examples/timing/triggers.substitutions'),
];
const GOOD = read('examples/linac-bpm/db/bpm-system.db');
const ALPHABET = '{}()[]",\'#$\\=:% \n\tabcXYZ019_-.*';

function mutate(text: string, rnd: () => number): string {
  const pick = (n: number): number => Math.floor(rnd() * n);
  let s = text;
  const ops = 1 + pick(3);
  for (let k = 0; k < ops; k++) {
    const at = pick(s.length + 1);
    switch (pick(5)) {
      case 0: { // byte flips
        const chars = [...s];
        for (let j = 0; j < 1 + pick(8); j++) chars[pick(chars.length)] = ALPHABET[pick(ALPHABET.length)] ?? '';
        s = chars.join('');
        break;
      }
      case 1: s = s.slice(0, at); break; // truncation
      case 2: { // splice a piece of another fixture
        const other = POOL[pick(POOL.length)] ?? '';
        const from = pick(other.length);
        s = s.slice(0, at) + other.slice(from, from + pick(200)) + s.slice(at);
        break;
      }
      case 3: s = s.slice(0, at) + '{}()"$('[pick(7)] + s.slice(at); break; // brace, paren or quote insertion
      default: s = s.slice(0, at) + s.slice(at + pick(40)); // deletion
    }
  }
  return s;
}

const TAIL = [
  'dbLoadRecords("victim.db", "P=V:,N=1,SYS=V,BPM=B1")',
  'dbLoadTemplate("victim.substitutions", "SYS=V")',
  '< victim.cmd',
  'iocInit',
].join('\n');

function ioc(rnd: () => number): Record<string, string> {
  const pick = (n: number): number => Math.floor(rnd() * n);
  const m = (t: string): string => (rnd() < 0.7 ? mutate(t, rnd) : t);
  return {
    'ioc/st.cmd': `epicsEnvSet("EPICS_DB_INCLUDE_PATH", ".")\ndbLoadRecords("good.db", "SYS=G, NBPM=3")\n${m(TAIL)}\n`,
    'ioc/good.db': GOOD,
    'ioc/victim.db': m(POOL[pick(4)] ?? ''),
    'ioc/victim.substitutions': m(POOL[4] ?? ''),
    'ioc/dev.template': m(POOL[6] ?? ''),
    'ioc/victim.cmd': m(POOL[5] ?? ''),
  };
}

describe('parser fuzz', () => {
  it('survives 6000 mutated IOCs and keeps the records of the untouched file', () => {
    const baseline = parseStartup('ioc/st.cmd', {
      files: memoryFileSource({ 'ioc/st.cmd': 'dbLoadRecords("good.db", "SYS=G, NBPM=3")\n', 'ioc/good.db': GOOD }),
    }).records;
    expect(baseline.map((r) => r.name)).toEqual(['G:BPM:COUNT', 'G:BPM:NFAULT', 'G:BPM:IOC:VERSION']);
    const rnd = prng(20240607);
    let diagnostics = 0;
    for (let i = 0; i < 6000; i++) {
      const files = ioc(rnd);
      const result = parseStartup('ioc/st.cmd', { files: memoryFileSource(files) });
      diagnostics += result.diagnostics.length;
      for (const d of result.diagnostics) {
        if (!(d.file !== '' && Number.isInteger(d.line) && d.line >= 1 && Number.isInteger(d.col) && d.col >= 1)) {
          expect.fail(`case ${i}: bad diagnostic ${JSON.stringify(d)}`);
        }
      }
      const kept = result.records.slice(0, baseline.length);
      if (JSON.stringify(kept) !== JSON.stringify(baseline)) {
        expect.fail(`case ${i}: records of good.db changed: ${JSON.stringify(kept)}`);
      }
      expect(() => JSON.stringify(result)).not.toThrow();
    }
    // the mutations really did break things
    expect(diagnostics).toBeGreaterThan(6000);
  });
});
