/**
 * The OpenAPI 3.0 description of the API, served at `GET /api/v1/openapi.json`. Written by hand from the same
 * shapes as the routes (cf-schemas.ts); docs/api.md has the prose.
 */
import { cfChannelSchema, cfPropertySchema, cfTagSchema, errorBodySchema } from './cf-schemas.js';

type Op = Record<string, unknown>;

const ref = (name: string): Op => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Op): Op => ({ content: { 'application/json': { schema } } });
const list = (name: string): Op => ({ type: 'array', items: ref(name) });
const ok = (description: string, schema?: Op): Op => ({ 200: { description, ...(schema === undefined ? {} : json(schema)) } });
const errs = (...codes: number[]): Op => Object.fromEntries(codes.map((c) => [c, { description: String(c), ...json(ref('Error')) }]));
const query: Op = { name: 'query', in: 'query', style: 'form', explode: true, schema: { type: 'object', additionalProperties: { type: 'string' } },
  description: '~name, ~tag, PROPERTY=VALUE (globs, `!` negates), ~size, ~from, ~search_after, ~track_total_hits' };
const p = (name: string): Op => ({ name, in: 'path', required: true, schema: { type: 'string' } });
const basic = [{ basic: [] }];

function write(summary: string, params: Op[], body: Op | null, answer: Op): Op {
  return { summary, security: basic, parameters: params, ...(body === null ? {} : { requestBody: json(body) }),
    responses: { ...answer, ...errs(400, 401, 404, 413, 429, 503) } };
}

function definitionPaths(path: string, shape: string, what: string): Record<string, Op> {
  const b = `/ChannelFinder/resources/${path}`;
  return {
    [b]: {
      get: { summary: `every ${what} definition`, responses: ok('definitions', list(shape)) },
      put: write(`create or replace ${what}s`, [], list(shape), ok('created', list(shape))),
      post: write(`merge ${what}s`, [], list(shape), ok('updated', list(shape))),
    },
    [`${b}/{name}`]: {
      get: { summary: `one ${what}`, parameters: [p('name'), { name: 'withChannels', in: 'query', schema: { type: 'boolean' } }],
        responses: { ...ok(what, ref(shape)), ...errs(404) } },
      put: write(`create or replace a ${what}, exclusively on the payload's channels`, [p('name')], ref(shape), ok('created', ref(shape))),
      post: write(`merge or rename a ${what}`, [p('name')], ref(shape), ok('updated', ref(shape))),
      delete: write(`delete a ${what} and strip it from every channel`, [p('name')], null, ok('deleted')),
    },
    [`${b}/{name}/{channel}`]: {
      put: write(`add a ${what} to one channel`, [p('name'), p('channel')], path === 'properties' ? ref(shape) : null, ok('added', ref(shape))),
      delete: write(`remove a ${what} from one channel`, [p('name'), p('channel')], null, ok('removed')),
    },
  };
}

/** Which optional parts of the API a server has (absent parts are left out of its document). */
export interface ApiParts {
  readonly writes: boolean;
  readonly watch: boolean;
  readonly history: boolean;
}

/** The OpenAPI document of a server with the given parts. */
export function openApiDocument(version: string, parts: ApiParts = { writes: true, watch: true, history: true }): Op {
  const doc = fullDocument(version);
  const paths = doc['paths'] as Record<string, Record<string, unknown>>;
  for (const [path, ops] of Object.entries(paths)) {
    if (!parts.writes) for (const m of ['put', 'post', 'delete']) delete ops[m];
    const absent = (!parts.watch && path === '/api/v1/watch') || (!parts.history && path.startsWith('/api/v1/history/'));
    if (absent || Object.keys(ops).length === 0) delete paths[path];
  }
  return doc;
}

function fullDocument(version: string): Op {
  const c = '/ChannelFinder/resources/channels';
  const strip = (s: Op): Op => JSON.parse(JSON.stringify(s).replace(/"(\w+)#"/g, '"#/components/schemas/$1"').replace(/"\$id":"\w+",?/g, '')) as Op;
  return {
    openapi: '3.0.3',
    info: { title: 'pvsync ChannelFinder API', version, description: 'ChannelFinder-compatible directory of EPICS PVs on etcd (docs/api.md)' },
    components: {
      securitySchemes: { basic: { type: 'http', scheme: 'basic' } },
      schemas: {
        cfChannel: strip(cfChannelSchema), cfProperty: strip(cfPropertySchema), cfTag: strip(cfTagSchema), Error: strip(errorBodySchema),
      },
    },
    paths: {
      '/ChannelFinder': { get: { summary: 'service info', responses: ok('info') } },
      [c]: {
        get: { summary: 'query channels', parameters: [query], responses: { ...ok('channels', list('cfChannel')), ...errs(400) } },
        put: write('create or replace channels', [], list('cfChannel'), ok('channels', list('cfChannel'))),
        post: write('merge channels', [], list('cfChannel'), ok('channels', list('cfChannel'))),
        delete: write('delete channels (JSON list of names)', [], { type: 'array', items: { type: 'string' } }, ok('deleted')),
      },
      [`${c}/count`]: { get: { summary: 'count matches', parameters: [query], responses: ok('count', { type: 'integer' }) } },
      [`${c}/combined`]: { get: { summary: 'one page and the count', parameters: [query], responses: ok('page and count', {
        type: 'object', properties: { channels: list('cfChannel'), count: { type: 'integer' } } }) } },
      [`${c}/{name}`]: {
        get: { summary: 'one channel (exact, case-sensitive)', parameters: [p('name')], responses: { ...ok('channel', ref('cfChannel')), ...errs(404) } },
        put: write('create or replace a channel', [p('name')], ref('cfChannel'), ok('channel', ref('cfChannel'))),
        post: write('merge into a channel (a different body name renames)', [p('name')], ref('cfChannel'), ok('channel', ref('cfChannel'))),
        delete: write('delete a channel', [p('name')], null, ok('deleted')),
      },
      '/ChannelFinder/resources/scroll': { get: { summary: 'first page of a scroll', parameters: [query], responses: ok('page', {
        type: 'object', properties: { id: { type: 'string', nullable: true }, channels: list('cfChannel') } }) } },
      '/ChannelFinder/resources/scroll/{id}': { get: { summary: 'next page after the name `id`', parameters: [p('id'), query], responses: ok('page') } },
      ...definitionPaths('properties', 'cfProperty', 'property'),
      ...definitionPaths('tags', 'cfTag', 'tag'),
      '/api/v1/watch': { get: { summary: 'Server-Sent Events of matching channel changes; resume with Last-Event-ID', parameters: [query,
        { name: 'Last-Event-ID', in: 'header', schema: { type: 'integer' } }],
      responses: { 200: { description: 'text/event-stream' }, ...errs(400, 429, 503) } } },
      '/api/v1/history/channels': { get: { summary: 'query channels as they stood at an etcd revision (`~revision=N`, plus the channel query)',
        parameters: [{ name: '~revision', in: 'query', required: true, schema: { type: 'integer' } }, query],
        responses: { ...ok('channels', list('cfChannel')), ...errs(400), 410: { description: 'revision compacted by etcd' } } } },
      '/api/v1/history/channels/{name}': { get: { summary: 'one channel as it stood at an etcd revision (`~revision=N`)',
        parameters: [p('name'), { name: '~revision', in: 'query', required: true, schema: { type: 'integer' } }],
        responses: { ...ok('channel', ref('cfChannel')), ...errs(404), 410: { description: 'revision compacted by etcd' } } } },
      '/api/v1/conflicts': { get: { summary: 'names served by two or more live IOCs', responses: ok('conflicts') } },
      '/api/v1/openapi.json': { get: { summary: 'this document', responses: ok('OpenAPI') } },
      '/healthz': { get: { summary: 'health (200 or 503)', responses: ok('healthy') } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: ok('metrics') } },
    },
  };
}
