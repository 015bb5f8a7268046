import type { Etcd3 } from 'etcd3';
import { describe, expect, it } from 'vitest';
import type { Mirror } from '../../../src/adapters/etcd/mirror.js';
import { mirrorHealth } from '../../../src/apps/api-runtime.js';

const client = {} as Etcd3;
const mirror = (ready: boolean, stopped: boolean, lagMs: number): Mirror => ({
  ready, stopped, revision: 7,
  lag: () => ({ ms: lagMs, revisions: lagMs > 0 ? 3 : 0, clusterRevision: 10, provenRevision: 7 }),
}) as unknown as Mirror;

describe('mirrorHealth (/healthz)', () => {
  it('is healthy while the watch is up and proven current within the bound, and reports the lag', () => {
    const h = mirrorHealth(mirror(true, false, 300), client, 2000);
    expect(h.ok).toBe(true);
    expect(h.mirror).toMatchObject({ lagSeconds: 0.3, lagRevisions: 3, maxLagSeconds: 2, revision: 7, avoidedMembers: [] });
  });

  it('turns unhealthy when the mirror lags past the bound, has no watch, or has stopped', () => {
    expect(mirrorHealth(mirror(true, false, 2001), client, 2000).ok).toBe(false);
    expect(mirrorHealth(mirror(false, false, 0), client, 2000).ok).toBe(false);
    expect(mirrorHealth(mirror(true, true, 0), client, 2000).ok).toBe(false);
  });
});
