// The derivation used on its own, without queries or JSON paging (as the archiver sink or a replicator would).
import { describe, expect, it } from 'vitest';
import { Derivation } from '../../../src/core/directory/derivation.js';
import { Directory } from '../../../src/core/directory/directory.js';
import { alive, info, noRec, rec } from './build-events.js';

const A = 'IOCA@host-a';
const B = 'IOCB@host-b';

describe('Derivation on its own', () => {
  it('derives the same channels as the directory, names in code-point order', () => {
    const events = [info(A), alive(A), rec(A, 'Z:1', { aliases: ['A:1'] }), rec(A, '\u{1F600}'), rec(A, '\uFFFD')];
    const alone = new Derivation({ owner: 'o' });
    const full = new Directory({ owner: 'o' });
    alone.apply(events, 3);
    full.apply(events, 3);
    expect(alone.names()).toEqual(['A:1', 'Z:1', '\uFFFD', '\u{1F600}']);
    for (const name of alone.names()) expect(alone.get(name)).toEqual(full.get(name));
    expect(alone.revision).toBe(3);
    expect(full.derivation.size).toBe(4);
  });

  it('reports what changed per revision, and drops slots through its hook', () => {
    const seen: (readonly string[] | null)[] = [];
    const dropped: string[] = [];
    const d = new Derivation({ onApplied: (_rev, changed) => seen.push(changed), onSlotDropped: (s) => dropped.push(s.name) });
    d.apply([info(A), alive(A), rec(A, 'X:1'), info(B), alive(B), rec(B, 'X:1', { type: 'ao' })], 1);
    d.apply([alive(B, false)], 2);
    expect(d.get('X:1')?.properties.find((p) => p.name === 'iocid')?.value).toBe(A);
    expect(d.conflicts()).toEqual([]);
    d.apply([noRec(A, 'X:1'), noRec(B, 'X:1')], 3);
    expect(seen).toEqual([null, ['X:1'], ['X:1']]);
    expect(dropped).toEqual(['X:1']);
    expect(d.size).toBe(0);
  });
});
