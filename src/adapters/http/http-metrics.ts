/**
 * Prometheus metrics of the HTTP API and the directory behind it: request counts and latency per route, channel
 * count, applied etcd revision and name conflicts, and the mirror's lag and avoided etcd members (read at scrape time).
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What the gauges read when scraped. */
export interface DirectoryGaugeSource {
  readonly size: number;
  readonly revision: number;
  conflicts(): readonly unknown[];
}

// Replaces an earlier metric of the same name (a second app on one registry, as tests do).
function fresh(registry: Registry, name: string): void {
  if (registry.getSingleMetric(name) !== undefined) registry.removeSingleMetric(name);
}

/** Register the metrics in `registry` and the hook that feeds them. */
export function installHttpMetrics(app: FastifyInstance, registry: Registry, directory: DirectoryGaugeSource): void {
  const names = ['pvsync_http_requests_total', 'pvsync_http_request_duration_seconds', 'pvsync_directory_channels',
    'pvsync_directory_revision', 'pvsync_directory_conflicts'];
  for (const n of names) fresh(registry, n);
  const requests = new Counter({
    name: 'pvsync_http_requests_total', help: 'HTTP requests answered, by method, route and status',
    labelNames: ['method', 'route', 'status'] as const, registers: [registry],
  });
  const latency = new Histogram({
    name: 'pvsync_http_request_duration_seconds', help: 'HTTP request latency, by method and route',
    labelNames: ['method', 'route'] as const, registers: [registry],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });
  new Gauge({
    name: 'pvsync_directory_channels', help: 'Channels in the in-memory directory', registers: [registry],
    collect() { this.set(directory.size); },
  });
  new Gauge({
    name: 'pvsync_directory_revision', help: 'Last etcd revision applied to the directory', registers: [registry],
    collect() { this.set(directory.revision); },
  });
  new Gauge({
    name: 'pvsync_directory_conflicts', help: 'Channel names served by two or more live IOCs at once',
    registers: [registry], collect() { this.set(directory.conflicts().length); },
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });
}

/** What the mirror gauges read when scraped. */
export interface MirrorGaugeSource {
  lag(): { readonly ms: number; readonly revisions: number };
  /** etcd members this replica's client avoids now (isolated: 1, usable: 0). */
  members(): readonly { readonly member: string; readonly isolated: boolean }[];
}

/** Register the mirror's lag and the etcd member isolation gauges in `registry`. */
export function installMirrorMetrics(registry: Registry, mirror: MirrorGaugeSource): void {
  for (const n of ['pvsync_mirror_lag_seconds', 'pvsync_mirror_lag_revisions', 'pvsync_etcd_member_isolated']) fresh(registry, n);
  new Gauge({
    name: 'pvsync_mirror_lag_seconds', help: 'Time since the mirror\'s watch was last proven current with etcd',
    registers: [registry], collect() { this.set(mirror.lag().ms / 1000); },
  });
  new Gauge({
    name: 'pvsync_mirror_lag_revisions', help: 'etcd revisions the cluster is ahead of what the mirror\'s watch has proven',
    registers: [registry], collect() { this.set(mirror.lag().revisions); },
  });
  new Gauge({
    name: 'pvsync_etcd_member_isolated', help: 'Whether this replica avoids an etcd member (silent, or without a leader)',
    labelNames: ['member'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const m of mirror.members()) this.set({ member: m.member }, m.isolated ? 1 : 0);
    },
  });
}
