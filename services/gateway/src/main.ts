import { createLogger } from '@domaeka/core';
import { buildGateway } from './app.js';
import { parseGatewayConfig } from './config.js';

const config = parseGatewayConfig();
const logger = createLogger('gateway', config.logLevel);
const gateway = buildGateway(config, { logger });
await gateway.start();
logger.info(
  { bridge: `${config.tls ? 'tls' : 'tcp'}://${config.bridgeHost}:${gateway.bridgePort}`, ops: `http://${config.httpHost}:${gateway.httpPort}` },
  '게이트웨이 시작 / gateway started',
);

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  gateway.stop().then(
    () => process.exit(0),
    (err) => {
      logger.error({ err: String(err) }, 'stop failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
