/**
 * `GET /ChannelFinder/resources/channels…` and `/resources/scroll…`: the channel queries of ChannelFinder, answered
 * from the in-memory directory. Every success is 200 (Phoebus treats anything else as an error).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { PvsError } from '../../core/errors.js';
import { parseChannelQuery, type QueryLimits, type QueryParams } from '../../core/query/parse-query.js';
import { cfChannelListSchema } from './cf-schemas.js';
import { cfSerializer } from './cf-serialize.js';
import type { DirectoryReader } from './directory-reader.js';

const QueryShape = z.record(z.string(), z.union([z.string(), z.array(z.string())]));
const NameParams = z.object({ name: z.string() });
const IdParams = z.object({ id: z.string() });

const errors = { 400: { $ref: 'errorBody#' }, 404: { $ref: 'errorBody#' } } as const;
const scrollSchema = {
  type: 'object',
  properties: { id: { type: ['string', 'null'] }, channels: cfChannelListSchema },
  required: ['id', 'channels'],
} as const;

/** Parse the query string of a request into a channel query (400 PVS_QUERY on bad paging parameters). */
export function queryOf(raw: unknown, limits: QueryLimits): ReturnType<typeof parseChannelQuery> {
  const shape = QueryShape.safeParse(raw ?? {});
  if (!shape.success) throw new PvsError('PVS_QUERY', 'query parameters must be strings');
  return parseChannelQuery(shape.data as QueryParams, limits);
}

/** Register the channel and scroll routes. */
export function registerChannelRoutes(app: FastifyInstance, directory: DirectoryReader, limits: QueryLimits): void {
  const base = '/ChannelFinder/resources';

  app.get(`${base}/channels`, {
    schema: { response: { 200: cfChannelListSchema, ...errors } }, serializerCompiler: cfSerializer('channels'),
  },
    (request) => directory.search(queryOf(request.query, limits)).channels);

  app.get(`${base}/channels/count`, { schema: { response: { 200: { type: 'integer' }, ...errors } } },
    (request) => directory.count(queryOf(request.query, limits)));

  app.get(`${base}/channels/combined`, {
    serializerCompiler: cfSerializer('combined'),
    schema: {
      response: {
        200: { type: 'object', properties: { channels: cfChannelListSchema, count: { type: 'integer' } },
          required: ['channels', 'count'] },
        ...errors,
      },
    },
  }, (request) => {
    // Unlike upstream (page length unless ~track_total_hits), count is always the true number of matches.
    const r = directory.search(queryOf(request.query, limits), true);
    return { channels: r.channels, count: r.total ?? r.channels.length };
  });

  app.get(`${base}/channels/:name`, {
    schema: { response: { 200: { $ref: 'cfChannel#' }, ...errors } }, serializerCompiler: cfSerializer('channel'),
  },
    (request) => {
      const { name } = NameParams.parse(request.params);
      const ch = directory.get(name);
      if (ch === undefined) throw new PvsError('PVS_NOT_FOUND', `channel ${JSON.stringify(name)} does not exist`);
      return ch;
    });

  // Scroll: `id` is the last name of the page, null once a page comes back empty.
  const scroll = (query: unknown, after: string | null): { id: string | null; channels: unknown[] } => {
    const q = queryOf(query, limits);
    const r = directory.search(after === null ? q : { ...q, searchAfter: after });
    return { id: r.channels.at(-1)?.name ?? null, channels: r.channels };
  };
  const scrollOpts = { schema: { response: { 200: scrollSchema, ...errors } }, serializerCompiler: cfSerializer('scroll') };
  app.get(`${base}/scroll`, scrollOpts,
    (request) => scroll(request.query, null));
  app.get(`${base}/scroll/:id`, scrollOpts,
    (request) => scroll(request.query, IdParams.parse(request.params).id));
}
