/**
 * Several installations over HTTP (docs/operations.md, "Several installations"): `GET /api/v1/installations`, the
 * data-location list with each replica's lag, and the rule that a secondary never writes a replicated type itself:
 * a ChannelFinder write arriving at a secondary is forwarded to the primary with the caller's credentials, or
 * refused with PVS_NOT_PRIMARY naming the primary and why.
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

/** Where a write of the API data type goes from here. */
export interface WriteRouting {
  /** The primary of API-written data; undefined when this installation is it (writes are served here). */
  readonly primary: string | undefined;
  /** Its API base URLs, tried in order; empty to refuse instead of forwarding. */
  readonly primaryUrls: readonly string[];
  /** Longest a forwarded write may take (ms). */
  readonly timeoutMs?: number;
}

/** Options of the installation routes. */
export interface InstallationDeps {
  readonly report: () => InstallationsReport;
  readonly writes: WriteRouting;
  /** Largest request body forwarded. */
  readonly bodyLimit: number;
}

const WRITE_METHODS = new Set(['PUT', 'POST', 'DELETE']);
const HOP_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'expect']);

/** Register the data-location route and the write routing of a secondary. */
export function registerInstallationRoutes(app: FastifyInstance, deps: InstallationDeps): void {
  app.get('/api/v1/installations', { schema: { response: { 200: reportSchema } } }, () => deps.report());
  const { primary } = deps.writes;
  if (primary === undefined) return;
  app.addHook('onRequest', async (request, reply) => {
    if (!WRITE_METHODS.has(request.method) || !request.url.startsWith('/ChannelFinder/resources/')) return;
    await routeWrite(request, reply, primary, deps);
  });
}

function refuse(reply: FastifyReply, request: FastifyRequest, status: number, message: string, primary: string): FastifyReply {
  return reply.code(status).header('x-pvsync-code', 'PVS_NOT_PRIMARY').header('x-pvsync-primary', primary)
    .send(errorBody(status, 'PVS_NOT_PRIMARY', message, request.url));
}

async function routeWrite(request: FastifyRequest, reply: FastifyReply, primary: string, deps: InstallationDeps): Promise<FastifyReply> {
  const urls = deps.writes.primaryUrls;
  if (urls.length === 0) {
    return refuse(reply, request, 409,
      `this installation holds a read-only replica of channels, tags and properties: write them at their primary installation ${primary}`, primary);
  }
  let body: Buffer;
  try {
    body = await readBody(request, deps.bodyLimit);
  } catch {
    return reply.code(413).send(errorBody(413, 'PVS_BAD_REQUEST', `request body larger than ${deps.bodyLimit} bytes`, request.url));
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
        signal: AbortSignal.timeout(deps.writes.timeoutMs ?? 15_000), redirect: 'manual',
      });
      text = Buffer.from(await res.arrayBuffer());
    } catch (err) {
      failures.push(`${base}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    reply.code(res.status).header('x-pvsync-forwarded-to', primary);
    for (const h of ['content-type', 'x-pvsync-code', 'retry-after']) {
      const v = res.headers.get(h);
      if (v !== null) reply.header(h, v);
    }
    return reply.send(text);
  }
  request.log.warn({ primary, failures }, 'write not forwarded: the primary did not answer');
  return refuse(reply, request, 503,
    `this installation holds a read-only replica of channels, tags and properties; their primary installation ${primary} did not answer (${urls.join(', ')}), so the write was not made: retry later`, primary);
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
