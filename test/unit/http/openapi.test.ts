import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/adapters/http/app.js';
import { Directory } from '../../../src/core/directory/directory.js';
import { Keyspace } from '../../../src/core/keyspace.js';
import { ChangeJournal } from '../../../src/core/watch/journal.js';

const unused = (): never => { throw new Error('not called by this test'); };

// A server with writes, watch and history; `more` adds other parts of AppDeps.
const writableApp = (more: Partial<Parameters<typeof buildApp>[0]> = {}): ReturnType<typeof buildApp> => buildApp({
  directory: new Directory(), registry: new Registry(), health: () => ({ ok: true, etcd: null, revision: 0 }),
  serviceInfo: { version: '9.9.9', backend: () => ({ status: 'Connected' }) },
  writes: { keys: new Keyspace('/t/'), commit: unused, waitFor: unused, authenticate: unused },
  watch: { journal: new ChangeJournal(), subscribe: unused, waitFor: unused },
  history: { at: unused, currentRevision: () => 0 },
  ...more,
});

describe('OpenAPI document', () => {
  const app = writableApp();
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

describe('OpenAPI document generated from the routes', () => {
  const routes: Array<{ method: string; url: string }> = [];
  const app = writableApp({
    archiver: { service: { status: unused, switchover: unused }, defaultGroup: 'default', appliance: unused },
    installations: { report: unused, writes: [] },
  });
  // buildApp queues its routes after @fastify/swagger, so this hook sees every one of them.
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method: String(method), url: r.url });
  });
  // fastify's url pattern as OpenAPI spells it: `:name` is `{name}`, a trailing wildcard `*` is `{*}`.
  const pathOf = (url: string): string => url.replace(/:(\w+)/g, '{$1}').replace(/\*$/, '{*}');
  type Operation = { summary?: string; security?: unknown; responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> };
  let doc: { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

  beforeAll(async () => {
    await app.ready();
    doc = (await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
  });
  afterAll(() => app.close());

  it('has every route fastify registered, each with a summary', () => {
    // HEAD routes are fastify's automatic twins of GET routes; the document leaves them out.
    const walked = routes.filter((r) => r.method !== 'HEAD');
    expect(walked.length).toBeGreaterThan(40);
    // The hook saw them all: fastify's own routing table holds no route registered out of the hook's (and swagger's) sight.
    const table = [...app.printRoutes({ commonPrefix: false }).matchAll(/\(([A-Z, ]+)\)/g)]
      .flatMap((m) => (m[1] ?? '').split(', ')).filter((m) => m !== 'HEAD');
    expect(table.length).toBe(walked.length);
    const missing = walked.filter((r) => doc.paths[pathOf(r.url)]?.[r.method.toLowerCase()] === undefined);
    expect(missing).toEqual([]);
    const unsummarized = walked.filter((r) => !(doc.paths[pathOf(r.url)]?.[r.method.toLowerCase()]?.summary ?? ''));
    expect(unsummarized).toEqual([]);
    for (const url of ['/api/v1/archiver/status', '/api/v1/archiver/switchover', '/archiver/{kind}/{*}', '/api/v1/watch',
      '/api/v1/history/channels', '/api/v1/conflicts', '/api/v1/archiver/pvs', '/api/v1/installations', '/healthz', '/metrics']) {
      expect(doc.paths, url).toHaveProperty([url]);
    }
  });

  it('describes bodies and replies from the route schemas, writes with HTTP Basic', () => {
    expect(doc.components.schemas).toHaveProperty('cfChannel');
    expect(doc.components.schemas).toHaveProperty('errorBody');
    const status = doc.paths['/api/v1/archiver/status']?.['get']?.responses?.['200']?.content?.['application/json']?.schema;
    expect(JSON.stringify(status)).toContain('"switchover"');
    const reply = (path: string): string => JSON.stringify(doc.paths[path]?.['get']?.responses?.['200']?.content?.['application/json']?.schema);
    expect(reply('/api/v1/archiver/pvs')).toContain('"nextAfter"');
    expect(reply('/api/v1/installations')).toContain('"staleAfterSeconds"');
    expect(doc.paths['/api/v1/archiver/switchover']?.['post']?.security).toEqual([{ basic: [] }]);
    expect(doc.paths['/ChannelFinder/resources/channels/{name}']?.['put']?.security).toEqual([{ basic: [] }]);
    expect(doc.paths['/ChannelFinder/resources/channels/{name}']?.['get']?.security).toBeUndefined();
    // Every $ref points at a schema the document has.
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(refs.length).toBeGreaterThan(10);
    expect(refs.filter((r) => !(r in doc.components.schemas))).toEqual([]);
  });
});
