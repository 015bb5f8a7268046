import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/adapters/http/app.js';
import type { InstallationsReport } from '../../../src/adapters/http/installation-routes.js';
import { Directory } from '../../../src/core/directory/directory.js';
import { replicaState } from '../../../src/core/replication/staleness.js';

describe('replicaState', () => {
  it.each([
    [true, 0.4, 30, 'current'],
    [true, 30, 30, 'current'],
    [true, 30.01, 30, 'stale'],
    [true, null, 30, 'unproven'],
    [false, null, 30, 'elsewhere'],
    [false, 99, 30, 'elsewhere'],
  ] as const)('held here %s, lag %s s, bound %s s → %s', (here, lag, bound, state) => {
    expect(replicaState(here, lag, bound)).toBe(state);
  });
});

describe('GET /api/v1/installations', () => {
  it('answers the report in its documented shape', async () => {
    const report: InstallationsReport = {
      installation: 'site-b', staleAfterSeconds: 5,
      installations: [{ name: 'site-a', api: ['http://a:8080'], networks: ['10.1.0.0/16'] }, { name: 'site-b', api: ['http://b:8080'], networks: [] }],
      data: [
        { type: 'api', primary: 'site-a', replicas: [{ installation: 'site-b', lagSeconds: 7.5, revision: 12, provenAt: '2024-01-01T00:00:00.000Z', state: 'stale' }] },
        { type: 'iocs', primary: 'site-b', replicas: [{ installation: 'site-a', lagSeconds: null, revision: null, provenAt: null, state: 'elsewhere' }] },
      ],
    };
    const app = buildApp({
      directory: new Directory(), registry: new Registry(), health: () => ({ ok: true, etcd: null, revision: 0 }),
      serviceInfo: { version: 't', backend: () => ({ status: 'Connected' }) },
      installations: { report: () => ({ ...report, secret: 'not in the schema' }) as InstallationsReport, writes: [] },
    });
    const r = await app.inject({ method: 'GET', url: '/api/v1/installations' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual(report);
    await app.close();
  });
});
