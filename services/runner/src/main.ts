import { createLogger, runService } from '@domaeka/core';
import { buildRunner } from './app.js';
import { parseRunnerConfig } from './config.js';

const config = parseRunnerConfig();
const logger = createLogger('runner', config.logLevel);
const runner = buildRunner(config, { logger });
try {
  await runService(runner, logger, () => [
    { url: `http://${config.httpHost}:${runner.httpPort}`, runnerId: runner.runnerId },
    'runner ready (/healthz /readyz /metrics)',
  ]);
} catch (err) {
  // Docker away or the image missing: say which in one line (the supervisor restarts us).
  logger.error({ err: String(err) }, 'runner could not start');
  await runner.stop().catch(() => undefined);
  process.exit(1);
}
