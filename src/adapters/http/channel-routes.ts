/**
 * `GET /ChannelFinder/resources/channels…` and `/resources/scroll…`: the channel queries of ChannelFinder, answered
 * from the in-memory directory. Every success is 200 (Phoebus treats anything else as an error). Successes are sent
 * as the JSON bytes the directory writes (fastify passes a Buffer through); errors use the route serializer.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { PvsError } from '../../core/errors.js';
import { parseChannelQuery, type QueryLimits, type QueryParams } from '../../core/query/parse-query.js';
import { cfChannelListSchema } from './cf-schemas.js';
import { cfSerializer } from './cf-serialize.js';
import type { DirectoryReader } from './directory-reader.js';
import { BufferPool } from './buffer-pool.js';
import { QueryCache } from './query-cache.js';
import { runStepped } from './stepped.js';

const QueryShape = z.record(z.string(), z.union([z.string(), z.array(z.string())]));
const NameParams = z.object({ name: z.string() });
const IdParams = z.object({ id: z.string() });

const errors = { 400: { $ref: 'errorBody#' }, 404: { $ref: 'errorBody#' } } as const;
const scrollSchema = {
  type: 'object',
  properties: { id: { type: ['string', 'null'] }, channels: cfChannelListSchema },
  required: ['id', 'channels'],
} as const;

const JSON_TYPE = 'application/json; charset=utf-8';

/** Send JSON bytes as they are (fastify passes a Buffer through untouched). */
export function sendJson(reply: FastifyReply, json: Uint8Array): FastifyReply {
  return reply.header('content-type', JSON_TYPE).send(Buffer.from(json.buffer, json.byteOffset, json.byteLength));
}

// `head` + page + `tail`, for the shapes that wrap the channel list in an object.
function wrap(head: string, page: Uint8Array, tail: string): Uint8Array {
  return Buffer.concat([Buffer.from(head), page, Buffer.from(tail)]);
}

/** Parse the query string of a request into a channel query (400 PVS_QUERY on bad paging parameters). */
export function queryOf(raw: unknown, limits: QueryLimits): ReturnType<typeof parseChannelQuery> {
  const shape = QueryShape.safeParse(raw ?? {});
  if (!shape.success) throw new PvsError('PVS_QUERY', 'query parameters must be strings');
  return parseChannelQuery(shape.data as QueryParams, limits);
}

/** Register the channel and scroll routes. */
export function registerChannelRoutes(app: FastifyInstance, directory: DirectoryReader, limits: QueryLimits): void {
  const base = '/ChannelFinder/resources';
  const pool = new BufferPool();
  const parsed = new QueryCache();

  app.get(`${base}/channels`, {
    schema: { response: { 200: cfChannelListSchema, ...errors } }, serializerCompiler: cfSerializer('channels'),
  },
    async (request, reply) => {
      let buf: Buffer | null = null;
      const q = parsed.get(request.url, () => queryOf(request.query, limits));
      const page = await runStepped(directory.startSearchJson(q, false, (n) => (buf = pool.take(n))));
      if (buf !== null) pool.giveAfter(reply.raw, buf);
      return sendJson(reply, page.json);
    });

  app.get(`${base}/channels/count`, { schema: { response: { 200: { type: 'integer' }, ...errors } } },
    (request) => runStepped(directory.startCount(queryOf(request.query, limits))));

  app.get(`${base}/channels/combined`, {
    serializerCompiler: cfSerializer('combined'),
    schema: {
      response: {
        200: { type: 'object', properties: { channels: cfChannelListSchema, count: { type: 'integer' } },
          required: ['channels', 'count'] },
        ...errors,
      },
    },
  }, async (request, reply) => {
    // Unlike upstream (page length unless ~track_total_hits), count is always the true number of matches.
    const r = await runStepped(directory.startSearchJson(queryOf(request.query, limits), true));
    return sendJson(reply, wrap('{"channels":', r.json, `,"count":${r.total ?? r.length}}`));
  });

  app.get(`${base}/channels/:name`, {
    schema: { response: { 200: { $ref: 'cfChannel#' }, ...errors } }, serializerCompiler: cfSerializer('channel'),
  },
    (request, reply) => {
      const { name } = NameParams.parse(request.params);
      const json = directory.getJson(name);
      if (json === undefined) throw new PvsError('PVS_NOT_FOUND', `channel ${JSON.stringify(name)} does not exist`);
      return sendJson(reply, json);
    });

  // Scroll: `id` is the last name of the page, null once a page comes back empty.
  const scroll = async (query: unknown, after: string | null): Promise<Uint8Array> => {
    const q = queryOf(query, limits);
    const r = await runStepped(directory.startSearchJson(after === null ? q : { ...q, searchAfter: after }));
    return wrap(`{"id":${r.lastName === null ? 'null' : JSON.stringify(r.lastName)},"channels":`, r.json, '}');
  };
  const scrollOpts = { schema: { response: { 200: scrollSchema, ...errors } }, serializerCompiler: cfSerializer('scroll') };
  app.get(`${base}/scroll`, scrollOpts,
    async (request, reply) => sendJson(reply, await scroll(request.query, null)));
  app.get(`${base}/scroll/:id`, scrollOpts,
    async (request, reply) => sendJson(reply, await scroll(request.query, IdParams.parse(request.params).id)));
}
