/**
 * How the consumer wrapper treats a handler's failure. This is the one place
 * that decides retry vs dead letter:
 * - `refuse`: the message itself is bad (schema, signature): dead-letter it
 *   with the reason, then ack. Never retried.
 * - `dependency`: a dependency (database, broker, engine) is down: hold the
 *   message unacked and retry with backoff until it works. Nacking would
 *   burn the delivery limit and dead-letter good messages.
 * - `poison`: anything else: nack with requeue; the queue's delivery limit
 *   dead-letters a message that keeps failing.
 */
export type FailureKind = 'refuse' | 'dependency' | 'poison';

export class RefusedMessageError extends Error {
  readonly failureKind = 'refuse' as const;
  constructor(readonly reason: string) {
    super(reason);
  }
}

export function failureKindOf(err: unknown): FailureKind {
  if (err && typeof err === 'object') {
    const e = err as { failureKind?: FailureKind; dependencyDown?: boolean };
    if (e.failureKind) return e.failureKind;
    if (e.dependencyDown) return 'dependency';
  }
  return 'poison';
}
