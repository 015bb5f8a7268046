import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/adapters/http/app.js';
import { Directory } from '../../../src/core/directory/directory.js';
import { alive, info, rec } from '../directory/build-events.js';

describe('GET /api/v1/conflicts', () => {
  it('lists names served by two live IOCs, and forgets them when one dies', async () => {
    const d = new Directory();
    d.apply([
      info('A@h', { updatedAt: '2024-01-01T00:00:00.000Z' }), alive('A@h'), rec('A@h', 'DUP', {}), rec('A@h', 'ONLY:A', {}),
      info('B@h', { updatedAt: '2024-01-02T00:00:00.000Z' }), alive('B@h'), rec('B@h', 'DUP', {}),
    ], 7);
    const app = buildApp({
      directory: d, registry: new Registry(), health: () => ({ ok: true, etcd: null, revision: 7 }),
      serviceInfo: { version: 't', backend: () => ({ status: 'Connected' }) },
    });
    const r = await app.inject({ method: 'GET', url: '/api/v1/conflicts' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ revision: 7, conflicts: [{ name: 'DUP', iocIds: ['A@h', 'B@h'] }] });
    d.apply([{ kind: 'alive', iocId: 'B@h', value: null }], 8);
    expect((await app.inject({ method: 'GET', url: '/api/v1/conflicts' })).json()).toEqual({ revision: 8, conflicts: [] });
    await app.close();
  });
});
