import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { names, routingKeys, type DispatchDonePayload, type EnvelopeOf } from '@domaeka/broker';
import { createPool, type Logger, type Pool } from '@domaeka/core';
import { buildApi, type ApiServer } from '../../services/api/src/app.js';
import { parseApiConfig } from '../../services/api/src/config.js';
import { buildDispatcher, type Dispatcher } from '../../services/dispatcher/src/app.js';
import { parseDispatcherConfig } from '../../services/dispatcher/src/config.js';
import { buildGateway, type Gateway } from '../../services/gateway/src/app.js';
import { buildRunner, type Runner } from '../../services/runner/src/app.js';
import { parseRunnerConfig } from '../../services/runner/src/config.js';
import { parseGatewayConfig } from '../../services/gateway/src/config.js';
import { createTestEnv, type TestEnv } from './env.js';
import { startStub, type Stub, type StubHandler } from './http-stub.js';
import { namesResolver } from './resolver.js';
import { waitFor } from './wait.js';

/**
 * The whole command path in one process: API, gateway and dispatcher on one
 * test database and broker prefix, a tenant HTTP stub that EGRESS_ALLOW lets
 * through, and a tap on `dispatch.done` so tests wait for outcomes instead
 * of sleeping.
 */
export interface Stack {
  env: TestEnv;
  api: ApiServer;
  gateway: Gateway;
  dispatcher: Dispatcher;
  /** A sandbox runner (real Docker) when asked for: `startStack(name, routes, { runner: true })`. */
  runner: Runner | null;
  stub: Stub;
  pool: Pool;
  /** Waits for the dispatcher's verdict on the event whose text/logId matches. */
  done(match: (p: DispatchDonePayload) => boolean, what?: string): Promise<DispatchDonePayload>;
  doneEvents: DispatchDonePayload[];
  amqp: ChannelModel;
  channel: Channel;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Also run a sandbox runner (own runner id, one warm container per profile). */
  runner?: boolean;
  /** Each service's logger (tests that read every log line); default: the service's own, to stdout. */
  logger?: (service: 'api' | 'dispatcher' | 'gateway' | 'runner') => Logger;
  /** Wall clock of the API and dispatcher (daily quotas count per KST day; the dispatcher's cache expiry too). */
  clock?: () => number;
  /**
   * Host names the runner's egress proxy resolves to the stub's address
   * (no DNS here), each also named in EGRESS_ALLOW with the stub's port, as
   * an operator lets a private address through. The tenant's allowlist
   * still decides whether its code may use them.
   */
  stubNames?: string[];
  /** Extra service settings (e.g. `DISPATCHER_PREFETCH`), given to every service of the stack. */
  env?: Record<string, string>;
}

export async function startStack(name: string, stubRoutes: Record<string, StubHandler> = {}, opts: StackOptions = {}): Promise<Stack> {
  const stub = await startStub(stubRoutes);
  const stubNames = opts.stubNames ?? [];
  const env = await createTestEnv(name, { EGRESS_ALLOW: [`127.0.0.1:${stub.port}`, ...stubNames.map((n) => `${n}:${stub.port}`)].join(','), ...opts.env });
  const e = {
    ...env.env,
    API_PORT: '0',
    BRIDGE_PORT: '0',
    BRIDGE_HOST: '127.0.0.1',
    GATEWAY_HTTP_PORT: '0',
    DISPATCHER_HTTP_PORT: '0',
    RUNNER_HTTP_PORT: '0',
    RUNNER_HTTP_HOST: '127.0.0.1',
    RUNNER_POOL_SIZE: '1',
    RUNNER_ID: `t-${env.brokerPrefix.replace(/[^A-Za-z0-9_-]/g, '-')}`,
  };
  const api = buildApi(parseApiConfig(e), { logger: opts.logger?.('api'), clock: opts.clock });
  const dispatcher = buildDispatcher(parseDispatcherConfig(e), { logger: opts.logger?.('dispatcher'), clock: opts.clock });
  const gateway = buildGateway(parseGatewayConfig(e), { logger: opts.logger?.('gateway') });
  const resolver = namesResolver(Object.fromEntries(stubNames.map((n) => [n, '127.0.0.1'])));
  const runner = opts.runner ? buildRunner(parseRunnerConfig(e), { logger: opts.logger?.('runner'), resolver }) : null;
  await api.start();
  // The runner first: the dispatcher learns of it from its first heartbeat.
  await runner?.start();
  await dispatcher.start();
  await gateway.start();

  const conn = await amqp.connect(env.amqpUrl);
  const channel = await conn.createChannel();
  const n = names(env.brokerPrefix);
  const q = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  await channel.bindQueue(q.queue, n.telemetry, routingKeys.dispatchDoneAll);
  const doneEvents: DispatchDonePayload[] = [];
  await channel.consume(
    q.queue,
    (m) => {
      if (m) doneEvents.push((JSON.parse(m.content.toString()) as EnvelopeOf<DispatchDonePayload>).payload);
    },
    { noAck: true },
  );
  const pool = createPool(env.databaseUrl, 2);

  return {
    env,
    api,
    gateway,
    dispatcher,
    runner,
    stub,
    pool,
    doneEvents,
    amqp: conn,
    channel,
    done: (match, what) => waitFor(() => doneEvents.find(match), { what: what ?? 'dispatch.done' }),
    async close() {
      await gateway.stop().catch(() => undefined);
      await dispatcher.stop().catch(() => undefined);
      await runner?.stop().catch(() => undefined);
      await api.stop().catch(() => undefined);
      await conn.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
      await stub.close();
      await env.cleanup();
    },
  };
}

export { TenantClient } from './tenant-client.js';
