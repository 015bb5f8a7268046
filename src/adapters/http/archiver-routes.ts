/**
 * HTTP routes of the archiver election, as a fastify plugin for `pvsync serve`:
 * `GET /api/v1/archiver/status`, `POST /api/v1/archiver/switchover`, and `/archiver/{mgmt|retrieval|data}/…`
 * redirected (307, method and body kept) to the active node's published URLs, so clients keep one address.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Endpoints } from '../../core/election/records.js';
import type { ArchiverService } from '../../core/election/service.js';
import type { GroupTimeline } from '../../core/election/timeline.js';
import type { ApplianceReader } from './archived-pv-routes.js';
import type { RequestGuard } from './auth-guard.js';
import { errorBodyShape } from './cf-schemas.js';
import { replyError, sendError } from './error-reply.js';

/** Options of the plugin. */
export interface ArchiverRoutesOptions {
  readonly service: ArchiverService;
  /** Group used when a request names none. */
  readonly defaultGroup: string;
  /**
   * Runs as the switchover's `onRequest` hook, before its body is read (moving the active archiver is an operator's
   * act): `pvsync serve` passes its AuthGuard's ADMIN hook. Throws PvsError PVS_AUTH (401) or PVS_RATE_LIMITED (429)
   * to refuse; the body of a refused request is never parsed.
   */
  readonly authorizeSwitchover: RequestGuard;
  /** Longest a switchover request may wait (default 10 s). */
  readonly maxSwitchoverMs?: number;
  /** The group's takeover/switchover timeline (`GET /api/v1/archiver/timeline`); the route is absent without it. */
  readonly timeline?: (group: string) => Promise<GroupTimeline>;
  /**
   * A reader of the appliance at a mgmt URL: with it buildApp adds `GET /api/v1/archiver/pvs` (archived-pv-routes.ts,
   * beside this plugin: it reads the directory); the route is absent without it.
   */
  readonly appliance?: (mgmtUrl: string) => ApplianceReader;
}

const endpointsSchema = {
  type: 'object',
  properties: { mgmt: { type: 'string' }, retrieval: { type: 'string' }, dataRetrieval: { type: 'string' } },
} as const;

const nodeSchema = {
  type: 'object',
  properties: {
    node: { type: 'string' }, role: { type: 'string' }, healthy: { type: 'boolean' },
    checks: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, ok: { type: 'boolean' }, detail: { type: 'string' } } } },
    since: { type: 'number' }, token: { type: ['string', 'null'] }, updatedAt: { type: 'number' },
    endpoints: endpointsSchema, pid: { type: 'integer' }, host: { type: 'string' },
    resources: { type: 'array', items: { type: 'string' } },
  },
} as const;

const statusSchema = {
  type: 'object',
  properties: {
    group: { type: 'string' },
    leader: { type: ['object', 'null'], properties: { node: { type: 'string' }, token: { type: 'string' }, since: { type: 'number' } } },
    active: {
      type: ['object', 'null'],
      properties: { node: { type: 'string' }, token: { type: 'string' }, since: { type: 'number' }, endpoints: endpointsSchema },
    },
    nodes: { type: 'array', items: nodeSchema },
    switchover: {
      type: ['object', 'null'],
      properties: { id: { type: 'string' }, to: { type: 'string' }, requestedAt: { type: 'number' } },
    },
    revision: { type: 'string' },
  },
} as const;

const timelineSchema = {
  type: 'object',
  properties: {
    group: { type: 'string' }, fromRevision: { type: 'number' }, revision: { type: 'number' },
    entries: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          node: { type: 'string' }, token: { type: 'string' }, from: { type: ['string', 'null'] }, cause: { type: 'string' },
          startedAt: { type: 'number' }, activeAt: { type: 'number' }, durationMs: { type: 'number' },
          sinceLeaseExpiry: { type: 'boolean' }, endedAt: { type: ['number', 'null'] }, revision: { type: 'number' },
        },
      },
    },
  },
} as const;

const errorSchema = errorBodyShape;

/** Which published URL each `/archiver/<kind>/` prefix maps to. */
const KIND_TO_ENDPOINT = { mgmt: 'mgmt', retrieval: 'retrieval', data: 'dataRetrieval' } as const satisfies Record<string, keyof Endpoints>;

/** Join a published base URL with the rest of the path and the query string. */
export function redirectTarget(base: string, rest: string, query: string): string {
  const b = base.endsWith('/') ? base.slice(0, -1) : base;
  const r = rest.replace(/^\/+/, '');
  return `${b}${r === '' ? '' : `/${r}`}${query}`;
}

/** The plugin. Register it with `app.register(archiverRoutes, { service, defaultGroup })`. */
export const archiverRoutes: FastifyPluginAsync<ArchiverRoutesOptions> = async (app, opts) => {
  const maxMs = opts.maxSwitchoverMs ?? 10_000;
  // This plugin's scope answers every error (its guard's refusals, schema validation) with the one error body.
  app.setErrorHandler((err, req, reply) => sendError(err, req, reply));

  app.get<{ Querystring: { group?: string } }>('/api/v1/archiver/status', {
    schema: {
      querystring: { type: 'object', properties: { group: { type: 'string', minLength: 1 } }, additionalProperties: false },
      response: { 200: statusSchema, '5xx': errorSchema },
    },
  }, async (req) => opts.service.status(req.query.group ?? opts.defaultGroup));

  const timeline = opts.timeline;
  if (timeline !== undefined) {
    app.get<{ Querystring: { group?: string } }>('/api/v1/archiver/timeline', {
      schema: {
        querystring: { type: 'object', properties: { group: { type: 'string', minLength: 1 } }, additionalProperties: false },
        response: { 200: timelineSchema, '5xx': errorSchema },
      },
    }, async (req) => timeline(req.query.group ?? opts.defaultGroup));
  }

  app.post<{ Body: { group?: string; to?: string; timeoutMs?: number } | undefined }>('/api/v1/archiver/switchover', {
    // Credentials before the body: a refusal is answered here, and fastify then neither reads nor parses the body.
    onRequest: async (req, reply) => opts.authorizeSwitchover(req, reply),
    schema: {
      body: {
        type: ['object', 'null'],
        properties: {
          group: { type: 'string', minLength: 1 }, to: { type: 'string', minLength: 1 },
          timeoutMs: { type: 'integer', minimum: 100, maximum: maxMs },
        },
        // fastify's ajv strips undeclared properties silently; a mistyped "to" must fail, not hand over to anyone.
        propertyNames: { enum: ['group', 'to', 'timeoutMs'] },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            group: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, token: { type: 'string' },
            elapsedMs: { type: 'number' },
          },
        },
        '4xx': errorSchema, '5xx': errorSchema,
      },
    },
  }, async (req) => {
    const body = req.body ?? {};
    return opts.service.switchover(body.group ?? opts.defaultGroup, body.to, body.timeoutMs ?? Math.min(5000, maxMs));
  });

  app.route<{ Params: { kind: string; '*': string }; Querystring: { group?: string } }>({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
    url: '/archiver/:kind/*',
    schema: { params: { type: 'object', properties: { kind: { type: 'string', enum: Object.keys(KIND_TO_ENDPOINT) }, '*': { type: 'string' } } } },
    handler: async (req, reply) => {
      const kind = req.params.kind as keyof typeof KIND_TO_ENDPOINT;
      const qIndex = req.url.indexOf('?');
      const query = qIndex < 0 ? '' : req.url.slice(qIndex);
      const s = await opts.service.status(opts.defaultGroup);
      const base = s.active?.endpoints[KIND_TO_ENDPOINT[kind]];
      if (s.active === null || base === undefined) {
        return replyError(reply.header('retry-after', '1'), req.url, 503, 'PVS_ARCHIVER_NO_ACTIVE',
          s.active === null ? 'no archiver node is active' : `the active node publishes no ${kind} URL`);
      }
      return reply.code(307).header('x-pvsync-archiver-node', s.active.node)
        .redirect(redirectTarget(base, req.params['*'], query), 307);
    },
  });
};
