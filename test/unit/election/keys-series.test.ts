import { describe, expect, it } from 'vitest';
import { ArchiverKeys } from '../../../src/core/election/keys.js';
import { failoverFigures, maxGapMs, overlapSamples, parseSamples, runsOf, type Sample } from '../../support/failover-series.js';

describe('ArchiverKeys', () => {
  const k = new ArchiverKeys('ha/1', '/r/');
  it('puts everything of a group under <root>archiver/<group>/ with the group escaped', () => {
    expect(k.leader).toBe('/r/archiver/ha%2F1/leader');
    expect(k.active).toBe('/r/archiver/ha%2F1/active');
    expect(k.switchover).toBe('/r/archiver/ha%2F1/switchover');
    expect(k.node('n/2')).toBe('/r/archiver/ha%2F1/nodes/n%2F2');
  });
  it('parses its own keys and nothing else', () => {
    expect(k.parse(k.leader)).toEqual({ kind: 'leader' });
    expect(k.parse(k.node('n/2'))).toEqual({ kind: 'node', node: 'n/2' });
    expect(k.parse('/r/archiver/other/leader')).toBeNull();
    expect(k.parse(`${k.nodesPrefix}a/b`)).toBeNull();
  });
});

const series = (node: string, from: number, n: number, step = 100): Sample[] =>
  Array.from({ length: n }, (_, i) => ({ node, t: from + i * step, seq: i }));

describe('failover series', () => {
  it('parses lines and skips a torn last line', () => {
    expect(parseSamples('{"node":"a","t":1,"seq":0}\n{"node":"a","t":2,"seq":1}\n{"node":"a","t"')).toHaveLength(2);
  });

  it('a clean handover has no overlap; the gap is the hand-over time', () => {
    const s = [...series('a', 0, 10), ...series('b', 2000, 10)];
    expect(overlapSamples(s)).toEqual([]);
    expect(maxGapMs(s)).toBe(1100);
    const f = failoverFigures(s, 'a', 950);
    expect(f).toMatchObject({ successor: 'b', takeoverMs: 1050, overlapSamples: 0, victimTailMs: null });
  });

  it('a victim that writes once more after the successor started is an overlap', () => {
    const s = [...series('a', 0, 10), ...series('b', 2000, 10), { node: 'a', t: 2500, seq: 10 }];
    expect(overlapSamples(s).length).toBeGreaterThan(0);
  });

  it('a restarted stand-in is a new run, not an overlap', () => {
    const s = [...series('a', 0, 5), ...series('b', 1000, 5), ...series('a', 2000, 5)];
    expect(runsOf(s).map((r) => r.node)).toEqual(['a', 'b', 'a']);
    expect(overlapSamples(s)).toEqual([]);
  });
});
