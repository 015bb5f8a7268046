import { describe, expect, it } from 'vitest';
import { Directory } from '../../../src/core/directory/directory.js';
import type { DirectoryEvent } from '../../../src/core/directory/events.js';
import { parseChannelQuery, type QueryParams } from '../../../src/core/query/parse-query.js';
import { alive, info, noRec, rec } from './build-events.js';

const TYPES = ['ai', 'ao', 'bi', 'calc'];
const iocId = (i: number): string => `IOC${i}@host${i}`;

// 3 IOCs × 500 records (the third one not alive): enough for the IOC-first path of `iocName=` filters.
function sample(): Directory {
  const d = new Directory();
  const events: DirectoryEvent[] = [];
  for (let i = 0; i < 3; i++) {
    events.push(info(iocId(i)));
    if (i < 2) events.push(alive(iocId(i)));
    for (let j = 0; j < 500; j++) {
      events.push(rec(iocId(i), `SR${i}:C${j % 7}:DEV${String(j).padStart(3, '0')}`, { type: TYPES[j % 4] as string, desc: `device ${j}` }));
    }
  }
  d.apply(events, 1);
  return d;
}

const query = (params: QueryParams) => parseChannelQuery(params, { defaultSize: 10_000, maxSize: 100_000 });

// Steps a query to its end with `between` run after every unfinished step; the answer and the steps taken.
function stepped<T>(start: () => { step(budget: number): T | null }, budget: number, between = (): void => {}): { answer: T; steps: number } {
  const q = start();
  for (let steps = 1; ; steps++) {
    const answer = q.step(budget);
    if (answer !== null) return { answer, steps };
    if (steps > 100_000) throw new Error('never finished');
    between();
  }
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('Directory queries in steps', () => {
  const d = sample();

  it.each<[string, QueryParams, boolean]>([
    ['everything', {}, true],
    ['name prefix', { '~name': 'sr1:c3*' }, false],
    ['infix glob over all names', { '~name': '*DEV1?3*' }, true],
    ['pathological glob', { '~name': '?*'.repeat(10) + 'Q' }, false],
    ['record property', { recordType: 'calc', pvStatus: 'Active' }, true],
    ['IOC-level property (IOC-first path)', { iocName: 'IOC1', recordType: 'a?' }, true],
    ['paging: size and from', { '~name': 'SR*', '~size': '40', '~from': '15' }, true],
    ['paging: search after', { '~name': 'SR*', '~size': '25', '~search_after': 'SR1:C2:DEV100' }, false],
    ['IOC-first path with search after', { iocName: 'IOC2', '~size': '10', '~search_after': 'SR2:C4:DEV200' }, true],
  ])('%s: the same page, total and count as in one go', (_label, params, withTotal) => {
    const q = query(params);
    const whole = d.searchJson(q, withTotal);
    for (const budget of [1, 7, 300]) {
      const { answer } = stepped(() => d.startSearchJson(q, withTotal), budget);
      expect(text(answer.json)).toBe(text(whole.json));
      expect([answer.length, answer.lastName, answer.total]).toEqual([whole.length, whole.lastName, whole.total]);
      expect(stepped(() => d.startCount(q), budget).answer).toBe(d.count(q));
      expect(stepped(() => d.startSearch(q, withTotal), budget).answer).toEqual(d.search(q, withTotal));
    }
  });

  it('tests at most `budget` candidates per step', () => {
    // A count of every channel walks all 1 500 names: 100 per step.
    expect(stepped(() => d.startCount(query({})), 100).steps).toBe(15);
    expect(stepped(() => d.startCount(query({})), 101).steps).toBe(15);
    expect(stepped(() => d.startCount(query({})), 1499).steps).toBe(2);
    expect(stepped(() => d.startCount(query({})), 1500).steps).toBe(1);
    // A narrow prefix is answered in its first step.
    expect(stepped(() => d.startSearchJson(query({ '~name': 'SR0:C1:DEV001' })), 100).steps).toBe(1);
  });

  it('answers for the directory as it stands after the last step when it changes in between', () => {
    const live = sample();
    const q = query({ '~name': 'SR0:*', '~size': '30' });
    let changed = false;
    const { answer } = stepped(() => live.startSearchJson(q, true), 50, () => {
      if (changed) return;
      changed = true; // once, after the first step: one channel gone, a new one in the first page
      live.apply([noRec(iocId(0), 'SR0:C0:DEV000'), rec(iocId(0), 'SR0:A:NEW')], 2);
    });
    const after = live.searchJson(q, true);
    expect(text(answer.json)).toBe(text(after.json));
    expect(answer.total).toBe(499 + 1);
    expect(text(answer.json)).toContain('"SR0:A:NEW"');
    expect(text(answer.json)).not.toContain('"SR0:C0:DEV000"');
  });

  it('is not starved by a directory that changes after every step: the second time it starts over, it runs to the end', () => {
    const live = sample();
    let n = 0;
    const { answer, steps } = stepped(() => live.startCount(query({})), 1, () => {
      n++;
      live.apply([rec(iocId(0), `SR0:EXTRA${n}`)], 2 + n);
    });
    expect(steps).toBe(3); // one step; started over, one step; started over, the whole scan
    expect(answer).toBe(1500 + 2);
    expect(answer).toBe(live.count(query({})));
  });
});
