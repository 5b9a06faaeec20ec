import type { Channel, ConsumeMessage } from 'amqplib';
import { AckBatcher } from '../ack-batcher.js';

/** A member of a slot (a SharedSubscription), told when the channel goes. */
export interface SlotMember {
  detached(slot: ConsumerSlot): void;
}

/**
 * One channel shared by up to `capacity` consumers. Delivery tags are per
 * channel, so the acks of all its consumers go through one AckBatcher:
 * handled in the same turn, acked as one `multiple` frame where nothing
 * still in hand lies below. Acks and nacks on a closed channel are
 * dropped (the broker requeued those messages when it closed).
 */
export class ConsumerSlot {
  readonly members = new Set<SlotMember>();
  closed = false;
  private readonly acks: AckBatcher<ConsumeMessage>;

  constructor(
    readonly ch: Channel,
    readonly capacity: number,
  ) {
    const safely = (f: () => void) => {
      if (this.closed) return;
      try {
        f();
      } catch {
        /* channel gone: the broker requeued what it held */
      }
    };
    this.acks = new AckBatcher<ConsumeMessage>({
      ack: (m, all) => safely(() => ch.ack(m, all)),
      nack: (m, all, rq) => safely(() => ch.nack(m, all, rq)),
    });
  }

  get full(): boolean {
    return this.members.size >= this.capacity;
  }

  delivered(msg: ConsumeMessage): void {
    this.acks.delivered(msg);
  }

  ack(msg: ConsumeMessage): void {
    if (!this.closed) this.acks.ack(msg);
  }

  /** Back to the queue, now. */
  nack(msg: ConsumeMessage): void {
    if (!this.closed) this.acks.nack(msg, true);
  }

  leave(member: SlotMember): void {
    this.members.delete(member);
  }

  /** The channel closed: every member is told (their held messages went back with it). */
  lost(): void {
    if (this.closed) return;
    this.closed = true;
    for (const m of [...this.members]) m.detached(this);
    this.members.clear();
  }

  /** Acks gathered this turn go out, then the channel closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.acks.flush();
    this.lost();
    await this.ch.close().catch(() => undefined);
  }
}
