/**
 * A small HTTP app for daemons that serve no API (`pvsync archiver-sync --port`): `GET /healthz` (200 when healthy,
 * else 503, with a JSON body) and `GET /metrics` (Prometheus text of a registry).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/** What the probes report. */
export interface ProbeDeps {
  readonly health: () => { readonly ok: boolean } & Record<string, unknown>;
  readonly registry: Registry;
}

/** Build the app (listen or inject it). */
export function buildProbeApp(deps: ProbeDeps): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/healthz', async (_req, reply) => {
    const h = deps.health();
    return reply.code(h.ok ? 200 : 503).send(h);
  });
  app.get('/metrics', async (_req, reply) => reply.type(deps.registry.contentType).send(await deps.registry.metrics()));
  return app;
}
