import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import { Counter } from 'prom-client';
import { brokerReadiness, openBroker, RunnerClient, type BrokerConnection } from '@domaeka/broker';
import { SecretBox, createLogger, createPool, type Pool, createMetricsRegistry, registerOpsRoutes, type Logger } from '@domaeka/core';
import { EgressDeniedError, EgressPolicy, type Resolver } from '@domaeka/calls';
import { openOrm } from './db/orm.js';
import type { ApiConfig } from './config.js';
import { brokerAdminFrom } from './bots/broker-admin.js';
import { apiErrors } from './errors.js';
import { registerBodyRules } from './http/body-rules.js';
import { registerSecurityHeaders } from './http/security-headers.js';
import { registerErrorHandler } from './http/error-handler.js';
import { registerOpenApi } from './http/openapi.js';
import { LiveHub } from './live/live-hub.js';
import { TelemetryFeed } from './live/telemetry-feed.js';
import { apiV1 } from './routes/index.js';
import { kakaoSkillRoutes } from './routes/kakao.js';
import { createServices, type ApiServices } from './wiring.js';
import type { Orm } from './db/em.js';

export const API_PREFIX = '/api/v1';

export interface BuildApiOptions {
  logger?: Logger;
  /** DNS for the save-time egress check (tests inject one; production uses the system resolver). */
  egressResolver?: Resolver;
  /** Wall clock of the daily quotas (tests inject a KST day; the dispatcher takes the same). */
  clock?: () => number;
}

export interface ApiServer {
  /** The fastify instance: routes are registered at build time, so `app.inject()` works once started. */
  app: FastifyInstance;
  /** Opens the database and broker, subscribes the dispatch waiter, then listens. */
  start(): Promise<void>;
  /** Stops listening (in-flight requests finish), then closes broker and database. */
  stop(): Promise<void>;
  /** The bound port (after `start`; config.port before). */
  readonly port: number;
  /** The wired services (after `start`), for tools and tests. */
  readonly services: ApiServices;
}

/**
 * Builds the management API without listening: `/api/v1/...` routes plus
 * `/healthz`, `/readyz` and `/metrics` at the root. Database and broker are
 * opened by `start()`; a request before that answers 503.
 */
export function buildApi(config: ApiConfig, opts: BuildApiOptions = {}): ApiServer {
  const logger = opts.logger ?? createLogger('api', config.logLevel);
  const registry = createMetricsRegistry('api');
  const requests = new Counter({
    name: 'kb_api_requests_total',
    help: 'API requests by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const secrets = new SecretBox(config.secretsKey);
  const egress = new EgressPolicy({ allow: config.egressAllow, resolver: opts.egressResolver });

  let orm: Orm | null = null;
  let dataPool: Pool | null = null;
  let conn: BrokerConnection | null = null;
  let runners: RunnerClient | null = null;
  let services: ApiServices | null = null;
  let feed: TelemetryFeed | null = null;
  let boundPort = config.port;
  const hub = new LiveHub(() => {
    if (!services) throw apiErrors.notReady();
    return services;
  }, logger, { recheckMs: config.liveRecheckMs });

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // A phone's deviceID (up to 200 chars) travels URL-encoded in a path parameter.
    routerOptions: { maxParamLength: 1000 },
    // TRUST_PROXY, off by default: whose X-Forwarded-* count (req.ip in logs; the auth routes use http/client.ts, which also trusts the web server by its secret).
    trustProxy: config.trustProxy,
  });
  registerErrorHandler(app, logger);
  registerBodyRules(app);
  registerSecurityHeaders(app);
  app.register(fastifyCookie);
  registerOpenApi(app, API_PREFIX);
  app.addHook('onResponse', async (req, reply) => {
    requests.inc({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });
  registerOpsRoutes(
    app,
    {
      broker: () => brokerReadiness(conn),
      database: async () => (orm ? orm.isConnected() : false),
    },
    registry,
  );
  app.register(apiV1, {
    prefix: API_PREFIX,
    config,
    registry,
    services: () => {
      if (!services) throw apiErrors.notReady();
      return services;
    },
  });

  // The Kakao channel's skill server sits at the root, outside /api/v1's auth: its URL's key is the credential.
  app.register(kakaoSkillRoutes, {
    services: () => {
      if (!services) throw apiErrors.notReady();
      return services;
    },
  });

  /**
   * Save-time check of a target URL. A name that does not resolve now is
   * accepted (DNS may not be set up yet); the dispatcher checks again on
   * every call. An address the policy refuses is refused here.
   */
  const guardUrl = async (url: string) => {
    const decision = await egress.checkUrl(url);
    if (!decision.ok && !decision.unresolved) throw new EgressDeniedError(decision.reason);
  };

  return {
    app,
    get port() {
      return boundPort;
    },
    get services() {
      if (!services) throw apiErrors.notReady();
      return services;
    },
    async start() {
      orm = await openOrm(config.databaseUrl);
      // The 데이터 page's tenant tables (@domaeka/tenant-data: each statement under the tenant's role).
      dataPool = createPool(config.databaseUrl, 4);
      // Connects in the background (consumers subscribe when it comes): the API listens while the broker is away.
      const broker = await openBroker({ url: config.amqpUrl, prefix: config.brokerPrefix, name: 'api', logger });
      conn = broker.conn;
      // Runner heartbeats and RPC results: lint and test runs go to the sandbox runners like the dispatcher's calls.
      runners = new RunnerClient(broker.conn, broker.publisher, config.brokerPrefix, logger, { metrics: registry });
      await runners.start();
      const wired = createServices({
        orm,
        conn: broker.conn,
        publisher: broker.publisher,
        brokerPrefix: config.brokerPrefix,
        secrets,
        guardUrl,
        sessionTtlMs: config.sessionTtlMs,
        runners,
        logger,
        clock: opts.clock,
        egress,
        registry,
        dataPool,
        brokerAdmin: brokerAdminFrom(config.brokerAdmin),
      });
      await wired.waiter.start();
      await wired.ops.start();
      services = wired;
      // Live test runs and the live tail (socket.io on the same port).
      wired.runs.events = { output: (runId, seq, data) => hub.runOutput(runId, seq, data), result: (run) => hub.runResult(run) };
      // Runs nobody will finish (their API process died, their end could not be written) end as failed.
      wired.runs.sweeper.start();
      feed = new TelemetryFeed(broker.conn, broker.publisher, config.brokerPrefix, wired.runs, hub, logger);
      hub.tailBindings = feed.tail;
      await feed.start();
      hub.attach(app.server);
      await app.listen({ port: config.port, host: config.host });
      const addr = app.server.address();
      if (addr && typeof addr === 'object') boundPort = addr.port;
      // Started once connected (or stopped meanwhile), as before; /readyz meanwhile says what the broker is doing.
      await broker.conn.start();
    },
    async stop() {
      // Stop taking requests, then release ?wait=1 requests (they answer 202) so closing does not wait them out.
      await hub.close();
      const closing = app.close();
      await services?.waiter.stop().catch(() => undefined);
      // Kakao callbacks the waiter just released are sent (or given up) before the database closes.
      await services?.kakao.skill.settle();
      await services?.ops.stop();
      await feed?.stop();
      feed = null;
      await closing;
      // Runs in hand end as KB_ERR_NO_RUNNER ("caller stopping") and are recorded before the database closes.
      await runners?.stop().catch(() => undefined);
      runners = null;
      await services?.runs.settle();
      await services?.runs.sweeper.stop();
      services = null;
      await conn?.close();
      conn = null;
      await orm?.close(true);
      orm = null;
      await dataPool?.end().catch(() => undefined);
      dataPool = null;
    },
  };
}
