import { Consumer, messages, names, type AnalyzePayload, type BrokerConnection, type Publisher } from '@domaeka/broker';
import type { DispatchService } from '../dispatch/dispatch-service.js';
import { analyzeFailureKind } from '../dispatch/poison-guard.js';

export interface AnalyzeConsumerOptions {
  prefix: string;
  /** Bounded: while the database is down, at most this many events are held (unacked) and none more taken. */
  prefetch: number;
  onDependency?: (down: boolean) => void;
}

/**
 * `<prefix>.dispatch`: validate (the wrapper dead-letters what does not
 * fit the schema, with the reason) -> dispatch -> ack. A database that is
 * down is a dependency failure: the event is held and retried, never
 * nacked (that would burn the delivery limit and dead-letter good messages).
 * An event holding what the database can never store (a data exception,
 * e.g. NUL in a room name) is dead-lettered once, with the reason.
 */
export function createAnalyzeConsumer(
  conn: BrokerConnection,
  publisher: Publisher,
  service: DispatchService,
  opts: AnalyzeConsumerOptions,
): Consumer<AnalyzePayload> {
  return new Consumer<AnalyzePayload>(conn, publisher, {
    queue: names(opts.prefix).dispatchQueue,
    def: messages.analyze,
    prefetch: opts.prefetch,
    handler: (env) => service.handle(env),
    classify: analyzeFailureKind,
    onDependency: opts.onDependency,
  });
}
