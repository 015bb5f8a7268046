/**
 * The HTTP read API of pvsync: a ChannelFinder-compatible service (`/ChannelFinder/…`) plus `/healthz` and
 * `/metrics`, built without listening so tests can `inject()`. `pvsync serve` adds listen() and its own plugins.
 */
import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { DEFAULT_LIMITS, type QueryLimits } from '../../core/query/parse-query.js';
import { hasNumber, numbersAsText } from '../../core/writes/number-text.js';
import { registerArchivedPvRoute } from './archived-pv-routes.js';
import { archiverRoutes, type ArchiverRoutesOptions } from './archiver-routes.js';
import { createAuthGuard } from './auth-guard.js';
import { sharedSchemas } from './cf-schemas.js';
import { registerChannelRoutes } from './channel-routes.js';
import { registerDefinitionRoutes } from './definition-routes.js';
import type { DirectoryReader } from './directory-reader.js';
import { replyError, sendError } from './error-reply.js';
import { installHttpMetrics } from './http-metrics.js';
import { registerStatusRoutes } from './status-routes.js';
import { registerConsole } from './console-static.js';
import { registerIocRoutes } from './ioc-routes.js';
import { registerServiceRoutes, type HealthReport, type ServiceInfo } from './service-routes.js';
import { registerOpenApi, serveOpenApi } from './openapi.js';
import { registerHistoryRoutes, type HistoryDeps } from './history-routes.js';
import { registerInstallationRoutes, type InstallationDeps } from './installation-routes.js';
import { installOverloadGuard } from './overload-guard.js';
import { createTarpit, type TarpitOptions } from './tarpit.js';
import { registerWatchRoute, type WatchDeps } from './watch-route.js';
import type { WriteDeps } from './write-executor.js';
import { registerWriteRoutes } from './write-routes.js';

/** Everything the app reads from. */
export interface AppDeps {
  readonly directory: DirectoryReader;
  readonly serviceInfo: ServiceInfo;
  /** Registry the HTTP and directory metrics are added to (and served from /metrics). */
  readonly registry: Registry;
  readonly health: () => HealthReport;
  /** Request/error logger; none by default. */
  readonly logger?: Logger;
  /** Page size when `~size` is absent, and the largest `~size` accepted (default 10 000 both). */
  readonly limits?: QueryLimits;
  /**
   * Largest request body in bytes (default 32 MiB: the recceiver writes 10 000 channels per request, ~10 MB). Write
   * bodies are read only once their credentials and role passed.
   */
  readonly bodyLimit?: number;
  /** The write API (etcd, mirror, authentication); read-only without it. */
  readonly writes?: WriteDeps;
  /** The live change stream `/api/v1/watch`; absent without it. */
  readonly watch?: WatchDeps;
  /** Queries as of a past etcd revision, `/api/v1/history/…`; absent without it. */
  readonly history?: HistoryDeps;
  /**
   * The archiver election's routes (`/api/v1/archiver/…`, `/archiver/…`); absent without it. Switchovers need an
   * ADMIN user of `writes.authenticate`, checked by the same guard and login limit as writes (always 401 without writes).
   */
  readonly archiver?: Omit<ArchiverRoutesOptions, 'authorizeSwitchover'>;
  /** Several installations: `/api/v1/installations`, and writes at a secondary forwarded or refused; absent without. */
  readonly installations?: Omit<InstallationDeps, 'bodyLimit'>;
  /** How long a 429 provoked by a flood (password checks, watch streams) is held before it is sent (DEFAULT_TARPIT without). */
  readonly refusalHold?: Partial<TarpitOptions>;
  /** Requests served at once past which new ones get 503 with Retry-After (PVS_OVERLOADED); unbounded without. */
  readonly maxInFlight?: number;
  /** Directory of the built operator console (dist/console), served at `/console/` and `/`; none without. */
  readonly consoleRoot?: string;
}

/** Default of AppDeps.bodyLimit. */
export const DEFAULT_BODY_LIMIT = 32 * 2 ** 20;

/** Build the app (routes, schemas, error handling, metrics); the caller listens or injects. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const base = {
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // PV names over 100 characters are normal; fastify's default would 404 them.
    routerOptions: { maxParamLength: 4096, ignoreTrailingSlash: true },
  } as const;
  const app: FastifyInstance = deps.logger === undefined
    ? Fastify({ ...base, logger: false })
    : Fastify({ ...base, loggerInstance: deps.logger }) as unknown as FastifyInstance;

  for (const s of sharedSchemas) app.addSchema(s);

  // Clients send `Content-Type: application/json` with an empty body on GET and DELETE: read that as no body.
  // A ChannelFinder write body (strings only, no numeric field) keeps each number as the text the client sent,
  // as Jackson does: parsed once as is (so a malformed body gets the same error), again with numbers quoted.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    const cfWrite = request.routeOptions.url?.startsWith('/ChannelFinder/resources/') === true;
    void json(request, text, (err, value) => {
      if (err !== null || !cfWrite || !hasNumber(value)) done(err, value);
      else void json(request, numbersAsText(text), done);
    });
  });

  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('access-control-allow-origin', '*');
    done(null, payload);
  });
  app.setErrorHandler((err, request, reply) => sendError(err, request, reply));
  app.setNotFoundHandler((request, reply) =>
    replyError(reply, request.url, 404, 'PVS_NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0] ?? ''}`));

  if (deps.maxInFlight !== undefined) installOverloadGuard(app, deps.maxInFlight);
  // The OpenAPI document is generated from the routes: @fastify/swagger sees every route registered after it has
  // loaded, so the routes go in a plugin queued after it (skip-override: still the root scope, nothing encapsulated).
  registerOpenApi(app, deps.serviceInfo.version);
  installHttpMetrics(app, deps.registry, deps.directory);
  const routes = async (): Promise<void> => {
    const limits = deps.limits ?? DEFAULT_LIMITS;
    const hold = createTarpit(deps.refusalHold);
    // First: its hook routes the writes of a secondary before any write route sees them.
    if (deps.installations !== undefined) {
      registerInstallationRoutes(app, { ...deps.installations, bodyLimit: deps.bodyLimit ?? DEFAULT_BODY_LIMIT });
    }
    registerServiceRoutes(app, deps.serviceInfo, deps.health, deps.registry);
    registerChannelRoutes(app, deps.directory, limits);
    registerDefinitionRoutes(app, deps.directory, limits);
    registerStatusRoutes(app, deps.directory);
    const writes = deps.writes;
    if (writes === undefined && deps.archiver === undefined) registerIocRoutes(app, deps.directory);
    else {
      // Not global: it only counts password checks, through the guard's createRateLimit(), one count for all its routes.
      void app.register(rateLimit, { global: false });
      const guard = createAuthGuard(app, writes?.authenticate ?? (async () => null), writes?.loginLimit, hold);
      registerIocRoutes(app, deps.directory, guard);
      if (writes !== undefined) void app.register(async (scope) => registerWriteRoutes(scope, deps.directory, writes, guard));
      if (deps.archiver !== undefined) {
        void app.register(archiverRoutes, { ...deps.archiver, authorizeSwitchover: guard.require('ADMIN', 'switch the active archiver over') });
        const { appliance, service, defaultGroup } = deps.archiver;
        if (appliance !== undefined) registerArchivedPvRoute(app, deps.directory, { service, defaultGroup, appliance });
      }
    }
    if (deps.watch !== undefined) registerWatchRoute(app, deps.directory, deps.watch, limits, hold);
    if (deps.history !== undefined) registerHistoryRoutes(app, deps.history, limits);
    serveOpenApi(app);
    if (deps.consoleRoot !== undefined) await registerConsole(app, deps.consoleRoot);
  };
  void app.register(Object.assign(routes, { [Symbol.for('skip-override')]: true }));
  return app;
}
