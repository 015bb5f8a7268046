/**
 * Upstream's security filter, as one fastify `onRequest` hook per role: HTTP Basic credentials, then the role, before
 * the body is read. A refused request gets 401 (PVS_AUTH) or 429 (PVS_RATE_LIMITED, with Retry-After) whatever its
 * body, which is never buffered or parsed. Password checks are rate-limited per client address, one count for every
 * route the guard protects (writes and the archiver switchover alike). A refusal for being over that limit goes
 * through the app's tarpit (held back before it is sent), so a client hammering wrong passwords waits for each 429.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requireRole, type Principal, type Role } from '../../core/auth/principal.js';
import { PvsError } from '../../core/errors.js';
import { NO_TARPIT, type Tarpit } from './tarpit.js';

/**
 * The user of an `Authorization` header: null when there is none; throws PVS_AUTH when the credentials are wrong.
 * `gate` runs before a password is verified (not for a cached login) and may throw to refuse.
 */
export type Authenticate = (authorization: string | undefined, gate?: () => Promise<void>) => Promise<Principal | null>;

/** An `onRequest` hook: resolves when the request may go on, throws the PvsError to answer with otherwise. */
export type RequestGuard = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** Guards routes by role and remembers who passed. */
export interface AuthGuard {
  /** The hook for routes that need `role`; `what` completes "… needed to <what>" in refusals. */
  require(role: Role, what: string): RequestGuard;
  /** The principal a guard admitted for this request; PVS_INTERNAL when the route has no guard. */
  principal(request: FastifyRequest): Principal;
}

/** Password checks allowed per client address and window. */
export interface LoginLimit {
  readonly max: number;
  readonly windowMs: number;
}

/** Default login limit: 10 password checks a minute per client address. */
export const DEFAULT_LOGIN_LIMIT: LoginLimit = { max: 10, windowMs: 60_000 };

// A refused request's body: read and dropped up to this much, so that a client that sends its whole body before
// reading (most do) reads its 401 instead of a reset; a longer one is no longer read, and its connection is cut once
// the client has had LINGER_MS to read the answer (closing a socket with unread data resets it).
const DRAIN_BYTES = 2 ** 20;
const LINGER_MS = 1000;

/**
 * Answer a refused request at once, without reading its body beyond DRAIN_BYTES, nor beyond its first chunk when it
 * declares more (never buffered, never parsed).
 */
function dropBody(request: FastifyRequest, reply: FastifyReply): void {
  const raw = request.raw;
  const declared = Number(raw.headers['content-length'] ?? 0);
  if (raw.readableEnded || (!(declared > 0) && raw.headers['transfer-encoding'] === undefined)) return;
  // Node would close the socket right after the answer if the client asked to: keep it until the body is dealt with.
  reply.raw.shouldKeepAlive = true;
  const socket = raw.socket as Partial<typeof raw.socket> | null;
  // A body declared longer than the drain is cut off anyway: stop at its first chunk instead of reading 1 MiB of it.
  const budget = declared > DRAIN_BYTES ? 0 : DRAIN_BYTES;
  let seen = 0;
  const onData = (chunk: Buffer): void => {
    seen += chunk.length;
    if (seen <= budget) return;
    // A paused request whose buffer is full stops Node reading the socket: the rest stays with the client.
    raw.off('data', onData);
    raw.pause();
  };
  const timer = setTimeout(() => {
    done();
    socket?.destroy?.();
  }, LINGER_MS);
  timer.unref();
  function done(): void {
    clearTimeout(timer);
    raw.off('data', onData);
  }
  raw.on('data', onData);
  raw.once('end', done);
}

/**
 * The guard of `app`. Needs @fastify/rate-limit registered on `app` (with `global: false`) by the time the first
 * request comes; its limiter is made then, once, and shared by every hook.
 */
export function createAuthGuard(app: FastifyInstance, authenticate: Authenticate, limit: LoginLimit = DEFAULT_LOGIN_LIMIT,
  hold: Tarpit = NO_TARPIT): AuthGuard {
  const principals = new WeakMap<FastifyRequest, Principal>();
  let passwordChecks: ReturnType<FastifyInstance['createRateLimit']> | undefined;
  const check = async (role: Role, what: string, request: FastifyRequest, reply: FastifyReply): Promise<Principal> => {
    const p = await authenticate(request.headers.authorization, async () => {
      passwordChecks ??= app.createRateLimit({ max: limit.max, timeWindow: limit.windowMs });
      const r = await passwordChecks(request);
      if (!r.isAllowed && r.isExceeded) {
        reply.header('retry-after', String(Math.max(1, r.ttlInSeconds)));
        await hold();
        throw new PvsError('PVS_RATE_LIMITED', `too many password checks from ${request.ip}: retry in ${r.ttlInSeconds} s`, { retryable: true });
      }
    });
    if (p === null) throw new PvsError('PVS_AUTH', `authentication required: HTTP Basic credentials are needed to ${what}`);
    return requireRole(p, role, what);
  };
  return {
    require: (role, what) => async (request, reply) => {
      try {
        principals.set(request, await check(role, what, request, reply));
      } catch (err) {
        dropBody(request, reply);
        throw err;
      }
    },
    principal: (request) => {
      const p = principals.get(request);
      if (p === undefined) throw new PvsError('PVS_INTERNAL', 'guarded route without its authentication hook');
      return p;
    },
  };
}
