import { createLogger, runService } from '@domaeka/core';
import { buildGateway } from './app.js';
import { parseGatewayConfig } from './config.js';

const config = parseGatewayConfig();
const logger = createLogger('gateway', config.logLevel);
const gateway = buildGateway(config, { logger });
await runService(gateway, logger, () => [
  { bridge: `${config.tls ? 'tls' : 'tcp'}://${config.bridgeHost}:${gateway.bridgePort}`, ops: `http://${config.httpHost}:${gateway.httpPort}` },
  '게이트웨이 시작 / gateway started',
]);
