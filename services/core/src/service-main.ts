import type { Logger } from 'pino';

export interface RunnableService {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * What every service's main.ts does: start, say where it listens, and on
 * SIGTERM/SIGINT stop once (gracefully) and exit 0, or 1 if stopping failed.
 * Signal handlers are installed before start so a signal during start-up
 * still stops cleanly.
 */
export async function runService(service: RunnableService, logger: Logger, started: () => [object, string]): Promise<void> {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    try {
      await service.stop();
      process.exit(0);
    } catch (err) {
      logger.error({ err: String(err) }, 'stop failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  await service.start();
  const [fields, message] = started();
  logger.info(fields, message);
}
