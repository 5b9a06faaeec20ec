import { createLogger, runService } from '@domaeka/core';
import { buildScheduler } from './app.js';
import { parseSchedulerConfig } from './config.js';

const config = parseSchedulerConfig();
const logger = createLogger('scheduler', config.logLevel);
const scheduler = buildScheduler(config, { logger, instanceId: process.env.SCHEDULER_INSTANCE_ID || undefined });
await runService(scheduler, logger, () => [
  { url: `http://${config.httpHost}:${scheduler.httpPort}`, instanceId: scheduler.instanceId },
  'scheduler ready (/healthz /readyz /metrics)',
]);
