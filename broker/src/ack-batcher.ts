/**
 * Acks of one channel, gathered (issue 19): a message handled is not acked
 * at once but at the end of the current turn of the event loop, and where
 * every message delivered before it is settled too, many go as ONE frame
 * (`basic.ack` with `multiple`), which the broker turns into one
 * settlement for the quorum queue instead of one each. Under load many
 * messages finish in the same turn; alone, a message waits for nothing but
 * the turn's end.
 *
 * `multiple` acks every unsettled delivery up to its tag, so it is only
 * used up to the first delivery still in hand (a slow call, a message held
 * while the database is down): acks above that one go one by one. A nack
 * goes at once and leaves the deliveries it settles out of every later
 * multiple.
 */
export interface AckTarget<M> {
  ack(msg: M, allUpTo?: boolean): void;
  nack(msg: M, allUpTo?: boolean, requeue?: boolean): void;
}

export class AckBatcher<M extends { fields: { deliveryTag: number } }> {
  /** Delivered and not yet acked or nacked, in delivery order (tags only grow on a channel). */
  private readonly unsettled: M[] = [];
  /** Handled: to be acked at the next flush. */
  private readonly done = new Set<number>();
  private scheduled = false;
  /** Frames sent, for tests and the bench: how many ack frames covered how many messages. */
  readonly sent = { frames: 0, messages: 0 };

  constructor(private readonly target: AckTarget<M>) {}

  /** A message arrived on the channel (call before handling it). */
  delivered(msg: M): void {
    this.unsettled.push(msg);
  }

  /** The message is handled: it is acked by the end of this turn of the event loop. */
  ack(msg: M): void {
    this.done.add(msg.fields.deliveryTag);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Rejects one message now (requeued by default). */
  nack(msg: M, requeue = true): void {
    const i = this.unsettled.indexOf(msg);
    if (i >= 0) this.unsettled.splice(i, 1);
    this.done.delete(msg.fields.deliveryTag);
    this.target.nack(msg, false, requeue);
  }

  /** Sends what is due: one multiple ack for the settled run at the front, single acks for the rest. */
  flush(): void {
    this.scheduled = false;
    if (this.done.size === 0) return;
    let run = 0;
    while (run < this.unsettled.length && this.done.has(this.unsettled[run]!.fields.deliveryTag)) run++;
    if (run > 0) {
      const last = this.unsettled[run - 1]!;
      this.target.ack(last, run > 1);
      this.sent.frames++;
      this.sent.messages += run;
      for (const m of this.unsettled.splice(0, run)) this.done.delete(m.fields.deliveryTag);
    }
    if (this.done.size === 0) return;
    // Handled behind one still in hand: one by one (a multiple ack would settle that one too).
    for (let i = this.unsettled.length - 1; i >= 0; i--) {
      const m = this.unsettled[i]!;
      if (!this.done.has(m.fields.deliveryTag)) continue;
      this.target.ack(m, false);
      this.sent.frames++;
      this.sent.messages++;
      this.done.delete(m.fields.deliveryTag);
      this.unsettled.splice(i, 1);
    }
  }
}
