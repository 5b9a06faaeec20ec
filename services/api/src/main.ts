import { createLogger } from '@domaeka/core';
import { buildApi } from './app.js';
import { parseApiConfig } from './config.js';

const config = parseApiConfig();
const logger = createLogger('api', config.logLevel);
const api = buildApi(config, { logger });
await api.start();
logger.info({ url: `http://${config.host}:${api.port}/api/v1` }, 'API listening');

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  try {
    await api.stop();
    process.exit(0);
  } catch (err) {
    logger.error({ err }, 'stop failed');
    process.exit(1);
  }
};
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
