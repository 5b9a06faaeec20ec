import { createLogger, runService } from '@domaeka/core';
import { buildApi } from './app.js';
import { parseApiConfig } from './config.js';

const config = parseApiConfig();
const logger = createLogger('api', config.logLevel);
const api = buildApi(config, { logger });
await runService(api, logger, () => [{ url: `http://${config.host}:${api.port}/api/v1` }, 'API listening']);
