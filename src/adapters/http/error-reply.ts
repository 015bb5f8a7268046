/**
 * The one error reply of every route. Maps any error of a request to an HTTP status and a stable code (PvsError codes
 * by a table; fastify's own errors such as bad JSON, body too large, validation or no route by their status; anything
 * else 500 PVS_INTERNAL) and sends the one body shape, `{error, message, status, path[, code]}`:
 * - the code is in the `X-Pvsync-Code` header of every error reply;
 * - pvsync's own API (`/api/…`, `/archiver/…`) also puts the `code` in the body; everywhere else (`/ChannelFinder/…`,
 *   whose clients match its four fields exactly, `/healthz`, `/metrics`) the body is exactly those four fields.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, isPvsError, type ErrorCode, messageOf } from '../../core/errors.js';

/** The JSON body of an error reply (errorBodySchema in cf-schemas.ts is its schema). */
export interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly status: number;
  readonly path: string;
  /** The stable code; only under /api/ and /archiver/ (ChannelFinder's clients know only the four fields above). */
  readonly code?: ErrorCode;
}

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  PVS_QUERY: 400,
  PVS_BAD_REQUEST: 400,
  PVS_NOT_FOUND: 404,
  PVS_AUTH: 401, // ChannelFinder answers every auth failure with 401, never 403
  PVS_ETCD_UNAVAILABLE: 503,
  PVS_ETCD_CONFLICT: 409,
  PVS_ETCD_COMPACTED: 410, // a history revision etcd no longer keeps
  PVS_ETCD_TOO_LARGE: 413,
  PVS_RATE_LIMITED: 429, // with Retry-After, set by whoever refused
  PVS_MIRROR_TIMEOUT: 503,
  PVS_ETCD_DATA: 502, // etcd holds a value this version cannot read
  PVS_ARCHIVER_NO_ACTIVE: 503, // with Retry-After
  PVS_ARCHIVER_SWITCHOVER: 409,
};

/** The code of an error that is not a PvsError (fastify's own, a bug), by its HTTP status. */
const CODE_OF_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'PVS_BAD_REQUEST', 401: 'PVS_AUTH', 404: 'PVS_NOT_FOUND', 429: 'PVS_RATE_LIMITED',
};

const ETCD_CODES = (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) => c.startsWith('PVS_ETCD_'));

/** HTTP status for an error thrown while serving a request. */
export function statusOf(err: unknown): number {
  if (isPvsError(err)) return STATUS_OF[err.code] ?? 500;
  const code = (err as Partial<FastifyError> | null)?.statusCode;
  return typeof code === 'number' && code >= 400 && code < 600 ? code : 500;
}

/** The stable code of an error thrown while serving a request. */
export function codeOf(err: unknown): ErrorCode {
  if (isPvsError(err)) return err.code;
  const status = statusOf(err);
  return CODE_OF_STATUS[status] ?? (status >= 500 ? 'PVS_INTERNAL' : 'PVS_BAD_REQUEST');
}

/** Whether a path is pvsync's own API, whose error bodies carry the code too (all others keep ChannelFinder's four fields). */
function isOwnApiPath(path: string): boolean {
  return path.startsWith('/api/') || path.startsWith('/archiver/');
}

/** The error body for a status, code and message, with the request path (query string removed). */
export function errorBody(status: number, code: ErrorCode, message: string, url: string): ErrorBody {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const body = { error: STATUS_CODES[status] ?? 'Error', message, status, path };
  return isOwnApiPath(path) ? { ...body, code } : body;
}

/**
 * The message a 5xx body carries: our own message for a PvsError we raised, only the code's description for one that
 * wraps a foreign error (gRPC or OpenSSL text names etcd's internals: hosts, users, key paths), else "internal error".
 */
export function publicMessage(err: unknown): string {
  if (!isPvsError(err)) return 'internal error';
  return err.cause === undefined ? err.message : ERROR_CODES[err.code];
}

/** Send an error reply; 5xx errors are logged with their cause, others are the client's business. */
export function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = statusOf(err);
  // etcd's own words (hosts, users, gRPC text) stay in the log: 5xx bodies and every etcd code get our message.
  const message = status >= 500 || isPvsError(err, ...ETCD_CODES) ? publicMessage(err) : messageOf(err);
  if (status >= 500) request.log.error({ err, url: request.url }, 'request failed');
  return replyError(reply, request.url, status, codeOf(err), message);
}

/** Send the error reply of a status, code and message that no thrown error carries (a 404 route, a 503 state). */
export function replyError(reply: FastifyReply, url: string, status: number, code: ErrorCode, message: string): FastifyReply {
  if (status === 401) reply.header('www-authenticate', 'Basic realm="ChannelFinder"');
  return reply.code(status).header('x-pvsync-code', code).type('application/json').send(errorBody(status, code, message, url));
}
