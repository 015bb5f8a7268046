/**
 * Several installations over HTTP (docs/operations.md, "Several installations"): `GET /api/v1/installations`, the
 * data-location list with each replica's lag, and the rule that a secondary never writes a replicated type itself:
 * a write of one arriving at a secondary (a ChannelFinder write, an archiver switchover) is forwarded to that type's
 * primary with the caller's credentials, or refused with PVS_NOT_PRIMARY naming the primary and why.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ReplicaState } from '../../core/replication/staleness.js';
import { errorBody } from './error-reply.js';

/** One replica of a data type: lag, checkpoint revision and last proof are known only where it is held. */
export interface ReplicaReport {
  readonly installation: string;
  readonly lagSeconds: number | null;
  readonly revision: number | null;
  readonly provenAt: string | null;
  readonly state: ReplicaState;
}

/** What `GET /api/v1/installations` returns. */
export interface InstallationsReport {
  /** The installation this server belongs to. */
  readonly installation: string;
  /** A replica held here not proven current for longer is `stale`. */
  readonly staleAfterSeconds: number;
  readonly installations: readonly { readonly name: string; readonly api: readonly string[]; readonly networks: readonly string[] }[];
  readonly data: readonly { readonly type: string; readonly primary: string; readonly replicas: readonly ReplicaReport[] }[];
}

const reportSchema = {
  type: 'object',
  properties: {
    installation: { type: 'string' }, staleAfterSeconds: { type: 'number' },
    installations: {
      type: 'array',
      items: {
        type: 'object',
        properties: { name: { type: 'string' }, api: { type: 'array', items: { type: 'string' } }, networks: { type: 'array', items: { type: 'string' } } },
      },
    },
    data: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          type: { type: 'string' }, primary: { type: 'string' },
          replicas: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                installation: { type: 'string' }, lagSeconds: { type: ['number', 'null'] }, revision: { type: ['integer', 'null'] },
                provenAt: { type: ['string', 'null'] }, state: { type: 'string', enum: ['current', 'stale', 'unproven', 'elsewhere'] },
              },
            },
          },
        },
      },
    },
  },
} as const;

/** Where the writes of one replicated data type go from a secondary of it. */
export interface WriteRouting {
  /** The data, for messages: "channels, tags and properties". */
  readonly what: string;
  /** True for a request (method, path without query) that writes it. */
  readonly matches: (method: string, path: string) => boolean;
  /** Its primary installation. */
  readonly primary: string;
  /** The primary's API base URLs, tried in order; empty to refuse instead of forwarding (409). */
  readonly primaryUrls: readonly string[];
  /** Longest a forwarded write may take (ms, default 15 000). */
  readonly timeoutMs?: number;
}

/** Options of the installation routes. */
export interface InstallationDeps {
  readonly report: () => InstallationsReport;
  /** One per data type this installation holds a replica of and must not write; none at a primary. */
  readonly writes: readonly WriteRouting[];
  /** Largest request body forwarded. */
  readonly bodyLimit: number;
}

const HOP_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'expect']);

/** Register the data-location route and the write routing of a secondary. */
export function registerInstallationRoutes(app: FastifyInstance, deps: InstallationDeps): void {
  app.get('/api/v1/installations', { schema: { response: { 200: reportSchema } } }, () => deps.report());
  if (deps.writes.length === 0) return;
  // Before any route (and its auth) sees the request: the primary judges the caller's credentials.
  app.addHook('onRequest', async (request, reply) => {
    const path = (request.url.split('?')[0] ?? '').replace(/\/+$/, '');
    const route = deps.writes.find((w) => w.matches(request.method, path));
    if (route === undefined) return undefined;
    return routeWrite(request, reply, route, deps.bodyLimit);
  });
}

function refuse(reply: FastifyReply, request: FastifyRequest, status: number, message: string, primary: string): FastifyReply {
  return reply.code(status).header('x-pvsync-code', 'PVS_NOT_PRIMARY').header('x-pvsync-primary', primary)
    .send(errorBody(status, 'PVS_NOT_PRIMARY', message, request.url));
}

async function routeWrite(request: FastifyRequest, reply: FastifyReply, route: WriteRouting, bodyLimit: number): Promise<FastifyReply> {
  const { primary, primaryUrls: urls, what } = route;
  if (urls.length === 0) {
    return refuse(reply, request, 409, `this installation holds a read-only replica of ${what}: write them at their primary installation ${primary}`, primary);
  }
  let body: Buffer;
  try {
    body = await readBody(request, bodyLimit);
  } catch {
    return reply.code(413).send(errorBody(413, 'PVS_BAD_REQUEST', `request body larger than ${bodyLimit} bytes`, request.url));
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(request.headers)) {
    if (!HOP_HEADERS.has(k) && typeof v === 'string') headers[k] = v;
  }
  headers['x-pvsync-forwarded-by'] = 'secondary';
  const failures: string[] = [];
  for (const base of urls) {
    let res: Response;
    let text: Buffer;
    try {
      res = await fetch(new URL(request.url, base), {
        method: request.method, headers, ...(body.length > 0 ? { body } : {}),
        signal: AbortSignal.timeout(route.timeoutMs ?? 15_000), redirect: 'manual',
      });
      text = Buffer.from(await res.arrayBuffer());
    } catch (err) {
      failures.push(`${base}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    reply.code(res.status).header('x-pvsync-forwarded-to', primary);
    for (const h of ['content-type', 'x-pvsync-code', 'retry-after', 'www-authenticate']) {
      const v = res.headers.get(h);
      if (v !== null) reply.header(h, v);
    }
    return reply.send(text);
  }
  request.log.warn({ primary, failures }, 'write not forwarded: the primary did not answer');
  return refuse(reply, request, 503,
    `this installation holds a read-only replica of ${what}; their primary installation ${primary} did not answer (${urls.join(', ')}), so the write was not made: retry later`, primary);
}

async function readBody(request: FastifyRequest, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request.raw) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) throw new Error('too large');
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}
