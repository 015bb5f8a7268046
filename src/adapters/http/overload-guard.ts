/**
 * Load shedding: past `maxInFlight` requests being served at once, a new request is answered at once with 503 and
 * `Retry-After` instead of queueing without bound, so that clients fail over to another installation (the failover
 * client does) and the requests already admitted finish in time. Watch streams (capped on their own), `/healthz`
 * and `/metrics` are not counted.
 */
import type { FastifyInstance } from 'fastify';
import { errorBody } from './error-reply.js';

const EXEMPT = ['/api/v1/watch', '/healthz', '/metrics'];

/** Install the guard; `retryAfterS` is what the refusals advise (default 1). */
export function installOverloadGuard(app: FastifyInstance, maxInFlight: number, retryAfterS = 1): void {
  let inFlight = 0;
  const counted = new WeakSet<object>();
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (EXEMPT.some((p) => path === p || path.startsWith(`${p}/`))) return;
    if (inFlight >= maxInFlight) {
      await reply.code(503).header('retry-after', String(retryAfterS)).header('x-pvsync-code', 'PVS_OVERLOADED')
        .send(errorBody(503, 'PVS_OVERLOADED', `this server is serving ${inFlight} requests at once (its limit): retry after ${retryAfterS} s or use another installation`, request.url));
      return;
    }
    inFlight++;
    counted.add(request.raw);
  });
  app.addHook('onResponse', (request, _reply, done) => {
    if (counted.delete(request.raw)) inFlight--;
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    if (counted.delete(request.raw)) inFlight--;
    done();
  });
}
