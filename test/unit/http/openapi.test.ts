import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/adapters/http/app.js';
import { Directory } from '../../../src/core/directory/directory.js';
import { Keyspace } from '../../../src/core/keyspace.js';
import { ChangeJournal } from '../../../src/core/watch/journal.js';

const unused = (): never => { throw new Error('not called by this test'); };

describe('OpenAPI document', () => {
  const app = buildApp({
    directory: new Directory(), registry: new Registry(), health: () => ({ ok: true, etcd: null, revision: 0 }),
    serviceInfo: { version: '9.9.9', backend: () => ({ status: 'Connected' }) },
    writes: { keys: new Keyspace('/t/'), commit: unused, waitFor: unused, authenticate: unused },
    watch: { journal: new ChangeJournal(), subscribe: unused, waitFor: unused },
    history: { at: unused, currentRevision: () => 0 },
  });
  let doc: { openapi: string; info: { version: string }; paths: Record<string, Record<string, unknown>> };

  beforeAll(async () => {
    await app.ready();
    const r = await app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(r.statusCode).toBe(200);
    doc = r.json();
  });
  afterAll(() => app.close());

  it('is OpenAPI 3 with the service version', () => {
    expect(doc.openapi).toMatch(/^3\.0\.\d+$/);
    expect(doc.info.version).toBe('9.9.9');
  });

  it('describes only routes the server has, with the right methods', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => ({ method: method.toUpperCase(), url: path.replace(/\{(\w+)\}/g, ':$1') })));
    expect(documented.length).toBeGreaterThan(30);
    // hasRoute tells methods and paths apart (so a wrong entry in the document would be caught):
    expect(app.hasRoute({ method: 'PATCH', url: '/ChannelFinder/resources/channels/:name' })).toBe(false);
    expect(app.hasRoute({ method: 'GET', url: '/ChannelFinder/resources/nothing' })).toBe(false);
    const missing = documented.filter((r) => !app.hasRoute(r as Parameters<typeof app.hasRoute>[0]));
    expect(missing).toEqual([]);
  });

  it('documents every write form of channels, properties and tags', () => {
    for (const base of ['/ChannelFinder/resources/channels', '/ChannelFinder/resources/properties', '/ChannelFinder/resources/tags']) {
      expect(Object.keys(doc.paths[`${base}/{name}`] ?? {}).sort()).toEqual(['delete', 'get', 'post', 'put']);
    }
    expect(Object.keys(doc.paths['/ChannelFinder/resources/properties/{name}/{channel}'] ?? {}).sort()).toEqual(['delete', 'put']);
    expect(doc.paths['/api/v1/watch']).toHaveProperty('get');
    expect(doc.paths['/api/v1/history/channels']).toHaveProperty('get');
  });

  it('leaves out what a read-only server does not have', async () => {
    const ro = buildApp({
      directory: new Directory(), registry: new Registry(), health: () => ({ ok: true, etcd: null, revision: 0 }),
      serviceInfo: { version: '1', backend: () => ({ status: 'Connected' }) },
    });
    const d = (await ro.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json<typeof doc>();
    const methods = Object.values(d.paths).flatMap((ops) => Object.keys(ops));
    expect(new Set(methods)).toEqual(new Set(['get']));
    expect(Object.keys(d.paths).filter((k) => k.includes('watch') || k.includes('history'))).toEqual([]);
    for (const [path, ops] of Object.entries(d.paths)) {
      for (const m of Object.keys(ops)) expect(ro.hasRoute({ method: m.toUpperCase() as 'GET', url: path.replace(/\{(\w+)\}/g, ':$1') })).toBe(true);
    }
    await ro.close();
  });
});
