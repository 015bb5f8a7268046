import { describe, expect, it } from 'vitest';
import { ReplicationKeys, replicaOf } from '../../../src/core/replication/keys.js';
import { changeBytes, convergeChanges, planCommits, type SourceRevision } from '../../../src/core/replication/plan.js';

const rev = (revision: number, n: number, size = 10): SourceRevision => ({
  revision, changes: Array.from({ length: n }, (_, i) => ({ key: `/t/k${revision}-${i}`, value: 'x'.repeat(size) })),
});

describe('replication keys', () => {
  const k = new ReplicationKeys('/src/', '/dst/', 'linac/a', 'api');
  it('maps the data type\'s keys under the per-source prefix and nothing else', () => {
    expect(k.replicaRoot).toBe('/dst/replicas/linac%2Fa/');
    expect(k.targetKey('/src/channels/X')).toBe('/dst/replicas/linac%2Fa/channels/X');
    expect(k.targetKey('/src/defs/tags/t')).toBe('/dst/replicas/linac%2Fa/defs/tags/t');
    expect(k.targetKey('/src/iocs/a/info')).toBeNull();
    expect(k.targetKey('/src/replicas/other/channels/X')).toBeNull();
    expect(k.targetKey('/elsewhere/channels/X')).toBeNull();
    expect(k.sourceKey('/dst/replicas/linac%2Fa/channels/X')).toBe('/src/channels/X');
    expect(k.checkpoint).toBe('/dst/replication/linac%2Fa/api/checkpoint');
    expect(replicaOf('/dst/', '/dst/replicas/linac%2Fa/channels/X')).toEqual({ source: 'linac/a', root: '/dst/replicas/linac%2Fa/' });
    expect(replicaOf('/dst/', '/dst/channels/X')).toBeNull();
  });
});

describe('planCommits', () => {
  const limits = { maxOps: 10, maxBytes: 10_000 };

  it('packs whole revisions while they fit, the checkpoint at the last one', () => {
    const plan = planCommits([rev(5, 3), rev(6, 3), rev(7, 3), rev(8, 3)], 4, limits);
    expect(plan.map((c) => [c.changes.length, c.revision, c.pending, c.completes])).toEqual([
      [9, 7, undefined, 3], [3, 8, undefined, 1],
    ]);
  });

  it('splits a revision too big for one transaction; only its last part claims it', () => {
    const plan = planCommits([rev(5, 2), rev(6, 25), rev(7, 1)], 4, limits);
    expect(plan.map((c) => [c.changes.length, c.revision, c.pending])).toEqual([
      [2, 5, undefined], [10, 5, 6], [10, 5, 6], [5, 6, undefined], [1, 7, undefined],
    ]);
    expect(plan.flatMap((c) => c.changes).length).toBe(28);
  });

  it('splits by bytes too and keeps every part within the limit', () => {
    const big = rev(9, 8, 3000);
    const plan = planCommits([big], 8, limits);
    for (const c of plan) expect(c.changes.reduce((n, x) => n + changeBytes(x), 0)).toBeLessThanOrEqual(limits.maxBytes);
    expect(plan.at(-1)?.revision).toBe(9);
    expect(plan.slice(0, -1).every((c) => c.pending === 9 && c.revision === 8)).toBe(true);
  });

  it('never puts one key twice in a transaction: a revision touching a key already in the batch starts the next', () => {
    const same = (revision: number): SourceRevision => ({ revision, changes: [{ key: '/t/a', value: String(revision) }] });
    const plan = planCommits([same(1), rev(2, 2), same(3), same(4)], 0, limits);
    expect(plan.map((c) => [c.changes.length, c.revision])).toEqual([[3, 2], [1, 3], [1, 4]]);
  });

  it('commits an empty re-list (checkpoint only)', () => {
    expect(planCommits([{ revision: 12, changes: [] }], 0)).toEqual([{ changes: [], revision: 12, completes: 1 }]);
  });
});

describe('convergeChanges', () => {
  it('puts what differs or is missing and deletes what vanished', () => {
    const src = new Map([['a', '1'], ['b', '2'], ['c', '3']]);
    const dst = new Map([['a', '1'], ['b', 'old'], ['z', '9']]);
    expect(convergeChanges(src, dst)).toEqual([{ key: 'b', value: '2' }, { key: 'c', value: '3' }, { key: 'z', value: null }]);
  });
});
