import { messages, routingKeys, type BrokerConnection, type Consumer, type DispatchDonePayload, type Publisher } from '@domaeka/broker';
import { subscribeTelemetry } from '../bus/subscription.js';

/**
 * Waits for the dispatcher's `dispatch.done` of given events. ONE exclusive,
 * auto-delete queue per API process (re-declared after every reconnect),
 * shared by all waiting requests through a map eventId -> resolver; other
 * events' notices are ignored (every API process sees them all).
 */
export class DispatchWaiter {
  private readonly waiting = new Map<string, (done: DispatchDonePayload | null) => void>();
  private readonly consumer: Consumer<DispatchDonePayload>;

  constructor(conn: BrokerConnection, publisher: Publisher, prefix: string) {
    this.consumer = subscribeTelemetry<DispatchDonePayload>(conn, publisher, prefix, {
      def: messages.dispatchDone,
      // The API's two ingresses: POST /messages?wait=1 and the Kakao channel skill.
      routingKeys: [routingKeys.dispatchDoneOf('http'), routingKeys.dispatchDoneOf('kakao-skill')],
      prefetch: 100,
      handle: (done) => this.waiting.get(done.eventId)?.(done),
    });
  }

  /** Subscribes; call before any `wait` so no notice can pass unseen. */
  start(): Promise<void> {
    return this.consumer.start();
  }

  get waiters(): number {
    return this.waiting.size;
  }

  /**
   * Registers interest in one event BEFORE its analyze event is published;
   * resolves with the notice, or null after `timeoutMs`.
   */
  wait(eventId: string, timeoutMs: number): { done: Promise<DispatchDonePayload | null>; cancel(): void } {
    let settle!: (done: DispatchDonePayload | null) => void;
    const done = new Promise<DispatchDonePayload | null>((resolve) => {
      const timer = setTimeout(() => settle(null), timeoutMs);
      settle = (value) => {
        clearTimeout(timer);
        this.waiting.delete(eventId);
        resolve(value);
      };
    });
    this.waiting.set(eventId, settle);
    return { done, cancel: () => settle(null) };
  }

  /** Releases every waiting request (they fall back to 202) and unsubscribes. */
  async stop(): Promise<void> {
    for (const settle of [...this.waiting.values()]) settle(null);
    await this.consumer.stop();
  }
}
