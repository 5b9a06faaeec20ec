import { createLogger, runService } from '@domaeka/core';
import { buildDispatcher } from './app.js';
import { parseDispatcherConfig } from './config.js';

const config = parseDispatcherConfig();
const logger = createLogger('dispatcher', config.logLevel);
const dispatcher = buildDispatcher(config, { logger });
await runService(dispatcher, logger, () => [
  { url: `http://${config.httpHost}:${dispatcher.httpPort}` },
  'dispatcher ready (/healthz /readyz /metrics)',
]);
