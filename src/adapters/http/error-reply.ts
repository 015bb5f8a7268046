/**
 * Maps any error of a request to an HTTP status and the `{error, message, status, path}` body: PvsError codes by a
 * table, fastify's own errors (bad JSON, body too large, validation) by their status, anything else 500. A PvsError's
 * code is sent in the `X-Pvsync-Code` header.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, isPvsError, type ErrorCode, messageOf } from '../../core/errors.js';

/** The JSON body of an error reply. */
export interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly status: number;
  readonly path: string;
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
};

const ETCD_CODES = (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) => c.startsWith('PVS_ETCD_'));

/** HTTP status for an error thrown while serving a request. */
export function statusOf(err: unknown): number {
  if (isPvsError(err)) return STATUS_OF[err.code] ?? 500;
  const code = (err as Partial<FastifyError> | null)?.statusCode;
  return typeof code === 'number' && code >= 400 && code < 600 ? code : 500;
}

/** The error body for a status and message, with the request path (query string removed). */
export function errorBody(status: number, message: string, url: string): ErrorBody {
  const q = url.indexOf('?');
  return { error: STATUS_CODES[status] ?? 'Error', message, status, path: q === -1 ? url : url.slice(0, q) };
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
  if (status === 401) reply.header('www-authenticate', 'Basic realm="ChannelFinder"');
  // The body keeps ChannelFinder's exact shape; the stable code travels beside it for scripts to match on.
  if (isPvsError(err)) reply.header('x-pvsync-code', err.code);
  return reply.code(status).type('application/json').send(errorBody(status, message, request.url));
}
