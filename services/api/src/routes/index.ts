import type { FastifyInstance } from 'fastify';
import { registerAuth } from '../http/auth.js';
import { adminRoutes } from './admin.js';
import { adminBrokerRoutes } from './admin-broker.js';
import { apiKeyRoutes } from './api-keys.js';
import { authRoutes } from './auth.js';
import { botRoutes } from './bots.js';
import { bridgeScriptRoutes } from './bridge-script.js';
import { commandRoutes } from './commands.js';
import { dataRoutes } from './data.js';
import { backupRoutes } from './backup.js';
import { editorRoutes } from './editor.js';
import { egressRoutes } from './egress.js';
import { errorReplyRoutes } from './error-reply.js';
import { kakaoRoutes } from './kakao.js';
import type { RouteDeps } from './deps.js';
import { logRoutes } from './logs.js';
import { messageRoutes } from './messages.js';
import { onboardingRoutes } from './onboarding.js';
import { planRoutes } from './plans.js';
import { platformRoutes } from './platform.js';
import { runRoutes } from './runs.js';
import { scheduleRoutes } from './schedules.js';
import { secretRoutes } from './secrets.js';
import { statsRoutes } from './stats.js';
import { templateRoutes } from './templates.js';

export type { RouteDeps } from './deps.js';

/** Everything under `/api/v1`: the auth hook first, then the route groups. */
export async function apiV1(app: FastifyInstance, opts: RouteDeps): Promise<void> {
  // Not `opts` itself: it carries the `/api/v1` prefix, which children would add again.
  const deps: RouteDeps = { services: opts.services, config: opts.config, registry: opts.registry };
  registerAuth(app, deps.services, deps.config);
  await app.register(authRoutes, deps);
  await app.register(apiKeyRoutes, deps);
  await app.register(botRoutes, deps);
  await app.register(bridgeScriptRoutes, deps);
  await app.register(commandRoutes, deps);
  await app.register(editorRoutes, deps);
  await app.register(messageRoutes, deps);
  await app.register(logRoutes, deps);
  await app.register(runRoutes, deps);
  await app.register(planRoutes, deps);
  await app.register(platformRoutes, deps);
  await app.register(adminRoutes, deps);
  await app.register(adminBrokerRoutes, deps);
  await app.register(secretRoutes, deps);
  await app.register(egressRoutes, deps);
  await app.register(errorReplyRoutes, deps);
  await app.register(kakaoRoutes, deps);
  await app.register(statsRoutes, deps);
  await app.register(templateRoutes, deps);
  await app.register(onboardingRoutes, deps);
  await app.register(scheduleRoutes, deps);
  await app.register(dataRoutes, deps);
  await app.register(backupRoutes, deps);
}
