/**
 * Service routes: `GET /ChannelFinder` (service info, used by clients as a health check), `GET /healthz` (200 when
 * healthy, 503 otherwise, with the detail either way) and `GET /metrics` (Prometheus text).
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/** Status of the backend, in the place upstream reports Elasticsearch (`elastic`). */
export interface BackendStatus {
  /** `Connected`, or why not. */
  readonly status: string;
  readonly clusterName?: string;
  readonly clusterUuid?: string;
  readonly version?: string;
}

/** What `GET /ChannelFinder` reports. */
export interface ServiceInfo {
  /** Version of this service. */
  readonly version: string;
  /** Current backend status (called per request). */
  readonly backend: () => BackendStatus;
}

/** A health report: `ok` decides 200/503; the other fields are detail for humans and probes. */
export interface HealthReport {
  readonly ok: boolean;
  readonly etcd: unknown;
  readonly revision: number;
  readonly [detail: string]: unknown;
}

const infoSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    version: { type: 'string' },
    elastic: {
      type: 'object',
      properties: {
        status: { type: 'string' }, clusterName: { type: 'string' }, clusterUuid: { type: 'string' },
        version: { type: 'string' },
      },
    },
  },
} as const;

/** Register the service info, health and metrics routes. */
export function registerServiceRoutes(
  app: FastifyInstance,
  info: ServiceInfo,
  health: () => HealthReport,
  registry: Registry,
): void {
  app.get('/ChannelFinder', { schema: { response: { 200: infoSchema } } },
    () => ({ name: 'ChannelFinder Service', version: info.version, elastic: info.backend() }));

  app.get('/healthz', (_request, reply) => {
    const report = health();
    return reply.code(report.ok ? 200 : 503).send(report);
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });
}
