import { createLogger } from '@domaeka/core';
import { buildDispatcher } from './app.js';
import { parseDispatcherConfig } from './config.js';

const config = parseDispatcherConfig();
const logger = createLogger('dispatcher', config.logLevel);
const dispatcher = buildDispatcher(config, { logger });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  try {
    await dispatcher.stop();
    process.exit(0);
  } catch (err) {
    logger.error({ err: String(err) }, 'stop failed');
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

await dispatcher.start();
logger.info({ url: `http://${config.httpHost}:${dispatcher.httpPort}` }, 'dispatcher ready (/healthz /readyz /metrics)');
