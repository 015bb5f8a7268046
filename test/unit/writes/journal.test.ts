import { describe, expect, it } from 'vitest';
import { ChangeJournal } from '../../../src/core/watch/journal.js';

describe('ChangeJournal', () => {
  it('replays every revision after a given one, in order', () => {
    const j = new ChangeJournal();
    j.record(10, null);
    j.record(11, ['a']);
    j.record(12, []);
    j.record(13, ['b', 'c']);
    expect(j.since(10)).toEqual({ kind: 'entries', entries: [{ revision: 11, names: ['a'] }, { revision: 13, names: ['b', 'c'] }] });
    expect(j.since(11)).toEqual({ kind: 'entries', entries: [{ revision: 13, names: ['b', 'c'] }] });
    expect(j.since(13)).toEqual({ kind: 'entries', entries: [] });
    expect(j.since(9)).toEqual({ kind: 'reset' });
  });

  it('drops the oldest revisions beyond its bounds and raises the floor', () => {
    const j = new ChangeJournal({ maxRevisions: 3, maxNames: 100 });
    j.record(1, null);
    for (let r = 2; r <= 10; r++) j.record(r, [`n${r}`]);
    expect(j.floor).toBe(7);
    expect(j.since(6)).toEqual({ kind: 'reset' });
    expect(j.since(7)).toMatchObject({ kind: 'entries', entries: [{ revision: 8 }, { revision: 9 }, { revision: 10 }] });
    const k = new ChangeJournal({ maxRevisions: 100, maxNames: 4 });
    k.record(1, null);
    k.record(2, ['a', 'b', 'c']);
    k.record(3, ['d', 'e']);
    expect(k.floor).toBe(2);
    expect(k.since(2)).toMatchObject({ kind: 'entries', entries: [{ revision: 3 }] });
  });

  it('restarts after a snapshot: older resumes must re-list', () => {
    const j = new ChangeJournal();
    j.record(5, null);
    j.record(6, ['a']);
    j.record(20, null);
    expect(j.since(6)).toEqual({ kind: 'reset' });
    expect(j.since(20)).toEqual({ kind: 'entries', entries: [] });
  });

  it('is extended back with revisions replayed from history, only where they meet it, within its bounds', () => {
    const j = new ChangeJournal({ maxRevisions: 4, maxNames: 100 });
    j.record(10, null);
    j.record(12, ['live']);
    expect(j.since(7)).toEqual({ kind: 'reset' });
    expect(j.backfill(5, [{ revision: 6, names: ['a'] }], 9)).toBe(false); // does not end where the journal begins
    expect(j.backfill(5, [{ revision: 6, names: ['a'] }, { revision: 8, names: [] }, { revision: 10, names: ['b'] }], 10)).toBe(true);
    expect(j.floor).toBe(5);
    expect(j.since(5)).toEqual({ kind: 'entries', entries: [
      { revision: 6, names: ['a'] }, { revision: 10, names: ['b'] }, { revision: 12, names: ['live'] }] });
    expect(j.since(4)).toEqual({ kind: 'reset' });
    for (let r = 13; r <= 15; r++) j.record(r, [`n${r}`]);
    expect(j.floor).toBe(10);
    expect(j.since(9)).toEqual({ kind: 'reset' });
  });
});
