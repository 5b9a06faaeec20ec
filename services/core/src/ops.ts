import Fastify, { type FastifyInstance } from 'fastify';
import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Dependency checks for /readyz: true when the dependency answers; false,
 * or a string saying what is wrong ("connecting: broker handshake timed
 * out after 10000 ms (attempt 3)"), when it does not.
 */
export type ReadinessChecks = Record<string, () => Promise<boolean | string> | boolean | string>;

export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** `/healthz` (alive), `/readyz` (every dependency answers) and `/metrics` on an existing fastify app. */
export function registerOpsRoutes(app: FastifyInstance, checks: ReadinessChecks, registry: Registry): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const results: Record<string, boolean | string> = {};
    await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          results[name] = await withTimeout(Promise.resolve(check()), 2000);
        } catch {
          results[name] = false;
        }
      }),
    );
    const ready = Object.values(results).every((r) => r === true);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks: results });
  });
  app.get('/metrics', async (_req, reply) => {
    return reply.header('content-type', registry.contentType).send(await registry.metrics());
  });
}

/** A small HTTP server carrying only the ops routes (gateway, dispatcher, runner). */
export function createOpsServer(checks: ReadinessChecks, registry: Registry): FastifyInstance {
  const app = Fastify({ logger: false });
  registerOpsRoutes(app, checks, registry);
  return app;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
