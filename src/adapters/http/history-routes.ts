/**
 * History by etcd revision: `GET /api/v1/history/channels?~revision=N&QUERY` answers a channel query as the directory
 * stood at revision N (same JSON as `/ChannelFinder/resources/channels`), and `/api/v1/history/channels/{name}
 * ?~revision=N` one channel. Each revision asked for is loaded from etcd into a directory of its own (a few are kept).
 */
import type { FastifyInstance } from 'fastify';
import { PvsError } from '../../core/errors.js';
import type { QueryLimits } from '../../core/query/parse-query.js';
import { cfChannelListSchema } from './cf-schemas.js';
import { cfSerializer } from './cf-serialize.js';
import { queryOf, sendJson } from './channel-routes.js';
import type { DirectoryReader } from './directory-reader.js';

/** Where history comes from. */
export interface HistoryDeps {
  /** The directory as it stood at `revision` (PVS_ETCD_COMPACTED once etcd has compacted it away). */
  at(revision: number): Promise<DirectoryReader>;
  /** The newest revision this replica has applied: later ones are refused. */
  currentRevision(): number;
}

const errors = { 400: { $ref: 'errorBody#' }, 404: { $ref: 'errorBody#' }, 410: { $ref: 'errorBody#' } } as const;
const REVISION = '~revision';

/** The revision asked for, and the rest of the query string for the channel query. */
function splitRevision(raw: unknown, current: number): { revision: number; rest: Record<string, unknown> } {
  const { [REVISION]: rev, ...rest } = (raw ?? {}) as Record<string, unknown>;
  const text = Array.isArray(rev) ? rev[rev.length - 1] : rev;
  const revision = typeof text === 'string' && /^[1-9][0-9]*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(revision)) throw new PvsError('PVS_QUERY', `${REVISION} must be an etcd revision (a positive integer)`);
  if (revision > current) throw new PvsError('PVS_QUERY', `${REVISION}=${revision} is beyond the newest revision ${current}`);
  return { revision, rest };
}

/** Register the history routes. */
export function registerHistoryRoutes(app: FastifyInstance, deps: HistoryDeps, limits: QueryLimits): void {
  app.get('/api/v1/history/channels', {
    schema: { response: { 200: cfChannelListSchema, ...errors } }, serializerCompiler: cfSerializer('channels'),
  }, async (request, reply) => {
    const { revision, rest } = splitRevision(request.query, deps.currentRevision());
    const q = queryOf(rest, limits);
    return sendJson(reply, (await deps.at(revision)).searchJson(q).json);
  });

  app.get('/api/v1/history/channels/:name', {
    schema: { response: { 200: { $ref: 'cfChannel#' }, ...errors } }, serializerCompiler: cfSerializer('channel'),
  }, async (request, reply) => {
    const { revision } = splitRevision(request.query, deps.currentRevision());
    const { name } = request.params as { name: string };
    const json = (await deps.at(revision)).getJson(name);
    if (json === undefined) throw new PvsError('PVS_NOT_FOUND', `channel ${JSON.stringify(name)} did not exist at revision ${revision}`);
    return sendJson(reply, json);
  });
}
