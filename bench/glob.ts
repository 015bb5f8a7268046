/**
 * Benchmark of the glob matcher alone: each pattern tested against 1 000 000 channel names (as bench/query.ts names
 * them), by compileGlob and by the backtracking RegExp it replaced (kept here only as the yardstick), alternating
 * in the same process so both see the same machine. Prints ms per 1 000 000 tests; last line is JSON.
 * BENCH_NAMES sets the number of names, BENCH_ROUNDS the rounds per pattern (the median is reported).
 */
import { performance } from 'node:perf_hooks';
import { compileGlob } from '../src/core/query/glob.js';

const NAMES = Number(process.env['BENCH_NAMES'] ?? 1_000_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);

const pad = (n: number, w: number): string => String(n).padStart(w, '0');
const built: string[] = [];
for (let i = 0; built.length < NAMES; i++) {
  for (let j = 0; j < 1000 && built.length < NAMES; j++) {
    built.push(`SR${pad(i, 4)}:C${Math.floor(j / 100)}:DEV${pad(j, 3)}:${j % 2 ? 'RB' : 'SP'}`);
  }
}
// Flat strings, as the server's names are (they come from JSON.parse), not the concatenations built above.
const names = JSON.parse(JSON.stringify(built)) as string[];
built.length = 0;

// The former implementation: a glob as an `i` RegExp, unanchored where the pattern starts or ends with a star.
function regexpGlob(pattern: string): (value: string) => boolean {
  const special = /[\\^$.*+?()[\]{}|/-]/g;
  let src = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      src += (pattern[i + 1] ?? '\\').replace(special, '\\$&');
      i++;
    } else if (c === '*') src += src.endsWith('[\\s\\S]*') ? '' : '[\\s\\S]*';
    else if (c === '?') src += '[\\s\\S]';
    else src += c.replace(special, '\\$&');
  }
  let anchored = '^' + src + '$';
  if (anchored.startsWith('^[\\s\\S]*')) anchored = anchored.slice('^[\\s\\S]*'.length);
  if (anchored.endsWith('[\\s\\S]*$')) anchored = anchored.slice(0, -'[\\s\\S]*$'.length);
  const re = new RegExp(anchored, 'i');
  return (v) => re.test(v);
}

const patterns: Record<string, string> = {
  prefix: 'SR0421:C3:*',
  prefix_short: 'sr04*',
  prefix_miss: 'XX*',
  infix: '*DEV537*',
  infix_miss: '*QQQ*',
  prefix_suffix: 'SR0421*RB',
  suffix: '*:RB',
  exact: 'SR0421:C5:DEV537:RB',
  two_infixes: '*C3*DEV5*',
  with_one: 'SR04?1:C3:*',
};

function timeOne(test: (v: string) => boolean): { ms: number; hits: number } {
  let hits = 0;
  const t = performance.now();
  for (const n of names) if (test(n)) hits++;
  return { ms: performance.now() - t, hits };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const results: Record<string, { glob_ms: number; regexp_ms: number; hits: number }> = {};
for (const [name, pattern] of Object.entries(patterns)) {
  const g = compileGlob(pattern);
  const glob = (v: string): boolean => g.test(v);
  const re = regexpGlob(pattern);
  const gm: number[] = [];
  const rm: number[] = [];
  let hits = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const a = timeOne(glob);
    const b = timeOne(re);
    if (a.hits !== b.hits) throw new Error(`${pattern}: glob ${a.hits} hits, RegExp ${b.hits}`);
    hits = a.hits;
    gm.push(a.ms);
    rm.push(b.ms);
  }
  const scale = 1_000_000 / NAMES;
  results[name] = { glob_ms: Number((median(gm) * scale).toFixed(1)), regexp_ms: Number((median(rm) * scale).toFixed(1)), hits };
  console.error(`${name} ${JSON.stringify(pattern)}: glob ${results[name].glob_ms} ms, RegExp ${results[name].regexp_ms} ms per 1M names (${hits} hits)`);
}
console.log(JSON.stringify({ bench: 'glob', names: NAMES, rounds: ROUNDS, patterns: results }));
