/**
 * Read routes the operator console needs beyond the ChannelFinder API: `GET /api/v1/iocs` (every IOC with its status,
 * host, record count, last upload and configuration errors), `GET /api/v1/iocs/{iocId}` (one IOC with its
 * environment, errors and a page of its records), and `GET /api/v1/whoami` (the user of the request's HTTP Basic
 * credentials, so the console can show operator controls to those who may use them; 401 otherwise).
 */
import type { FastifyInstance } from 'fastify';
import { iocDetail, iocSummaries, sortedRecordNames, type IocSummary } from '../../core/directory/ioc-summary.js';
import type { IocNode } from '../../core/directory/nodes.js';
import { PvsError } from '../../core/errors.js';
import type { AuthGuard } from './auth-guard.js';
import type { DirectoryReader } from './directory-reader.js';

/** Largest page of an IOC's records. */
export const MAX_IOC_RECORDS_PAGE = 10_000;

const summaryProps = {
  iocId: { type: 'string' }, iocName: { type: 'string' }, hostName: { type: 'string' }, iocIP: { type: ['string', 'null'] },
  status: { type: 'string' }, state: { type: ['string', 'null'] }, records: { type: 'integer' }, goneRecords: { type: 'integer' },
  updatedAt: { type: ['string', 'null'] }, writer: { type: ['string', 'null'] }, errors: { type: 'integer' },
  duplicateName: { type: 'boolean' },
} as const;

const detailSchema = {
  type: 'object',
  properties: {
    ...summaryProps,
    environment: { type: 'object', additionalProperties: { type: 'string' } },
    errorList: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          code: { type: 'string' }, message: { type: 'string' }, file: { type: 'string' }, line: { type: 'integer' },
          col: { type: 'integer' }, unreadable: { type: 'string' },
        },
      },
    },
    recordPage: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' }, type: { type: 'string' }, desc: { type: 'string' },
          aliases: { type: 'array', items: { type: 'string' } }, file: { type: ['string', 'null'] },
          line: { type: ['integer', 'null'] }, gone: { type: 'boolean' },
        },
      },
    },
    nextAfter: { type: ['string', 'null'] },
  },
} as const;

/** Register the IOC routes (and whoami when a guard is given). */
export function registerIocRoutes(app: FastifyInstance, directory: DirectoryReader, guard?: AuthGuard): void {
  // Every open console asks each second: the list is made once per change of the directory (apply or clear).
  let cached: { generation: number; body: { revision: number; iocs: IocSummary[] } } | null = null;
  const list = (): { revision: number; iocs: IocSummary[] } => {
    const generation = directory.derivation.generation;
    if (cached?.generation !== generation) {
      cached = { generation, body: { revision: directory.revision, iocs: iocSummaries(directory.derivation.iocs) } };
    }
    return cached.body;
  };
  // An open IOC page asks every 2 s: sort an IOC's record names once per directory change (a few IOCs kept).
  const sortedCache = new Map<string, { generation: number; names: readonly string[] }>();
  const sorted = (ioc: IocNode): readonly string[] => {
    const generation = directory.derivation.generation;
    const hit = sortedCache.get(ioc.id);
    if (hit?.generation === generation) return hit.names;
    const names = sortedRecordNames(ioc);
    sortedCache.delete(ioc.id);
    sortedCache.set(ioc.id, { generation, names });
    if (sortedCache.size > 8) sortedCache.delete(sortedCache.keys().next().value as string);
    return names;
  };
  app.get('/api/v1/iocs', {
    schema: {
      response: {
        200: {
          type: 'object',
          properties: { revision: { type: 'number' }, iocs: { type: 'array', items: { type: 'object', properties: summaryProps } } },
        },
      },
    },
  }, list);

  app.get<{ Params: { id: string }; Querystring: { after?: string; size?: number } }>('/api/v1/iocs/:id', {
    schema: {
      querystring: {
        type: 'object',
        properties: { after: { type: 'string' }, size: { type: 'integer', minimum: 1, maximum: MAX_IOC_RECORDS_PAGE } },
        additionalProperties: false,
      },
      response: { 200: detailSchema, 400: { $ref: 'errorBody#' }, 404: { $ref: 'errorBody#' } },
    },
  }, (req) => {
    const d = iocDetail(directory.derivation.iocs, req.params.id, req.query.after ?? null, req.query.size ?? 500, sorted);
    if (d === undefined) throw new PvsError('PVS_NOT_FOUND', `no IOC ${JSON.stringify(req.params.id)}`);
    return d;
  });

  if (guard !== undefined) {
    app.get('/api/v1/whoami', {
      onRequest: guard.require('TAG', 'sign in'),
      schema: {
        response: {
          200: {
            type: 'object',
            properties: { name: { type: 'string' }, roles: { type: 'array', items: { type: 'string' } },
              groups: { type: 'array', items: { type: 'string' } } },
          },
        },
      },
    }, (req) => {
      const p = guard.principal(req);
      return { name: p.name, roles: [...p.roles], groups: [...p.groups] };
    });
  }
}
