import { Consumer, messages, names, type BrokerConnection, type Publisher, type ScheduleFirePayload } from '@domaeka/broker';
import type { ScheduleFireService } from '../dispatch/schedule-fire-service.js';
import { analyzeFailureKind } from '../dispatch/poison-guard.js';

/**
 * `<prefix>.schedule`: schedule fires, with the analyze consumer's rules
 * (schema check and dead-letter with the reason, database down = hold).
 * Its own queue and prefetch: a burst of 9 o'clock fires never waits
 * behind room messages, nor room messages behind it.
 */
export function createScheduleConsumer(
  conn: BrokerConnection,
  publisher: Publisher,
  service: ScheduleFireService,
  opts: { prefix: string; prefetch: number; onDependency?: (down: boolean) => void },
): Consumer<ScheduleFirePayload> {
  return new Consumer<ScheduleFirePayload>(conn, publisher, {
    queue: names(opts.prefix).scheduleQueue,
    def: messages.scheduleFire,
    prefetch: opts.prefetch,
    handler: (env) => service.handle(env),
    classify: analyzeFailureKind,
    onDependency: opts.onDependency,
  });
}
