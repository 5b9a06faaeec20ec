/**
 * The events this dispatcher process is handling now, by id. When the
 * broker connection dies mid-handling, RabbitMQ hands the event out again
 * on the new connection while the first handling still runs here; the
 * outbox would take its row (claimed, no reply yet) for a crashed handling
 * and call the target a second time. A second delivery of an event in hand
 * waits for the first to end instead; then the outbox finds the reply
 * stored and republishes it (the gateway drops a reply id it already
 * wrote). Found by the cluster test's kill -9 case (2 of 600 events called
 * twice).
 */
export class EventsInHand {
  private readonly running = new Map<string, Promise<void>>();

  /** Runs `work` for the event once every earlier handling of the same id in this process has ended (however it ended). */
  async run(eventId: string, work: () => Promise<void>): Promise<void> {
    const earlier = this.running.get(eventId);
    const mine = earlier ? earlier.catch(() => undefined).then(work) : work();
    this.running.set(eventId, mine);
    try {
      await mine;
    } finally {
      if (this.running.get(eventId) === mine) this.running.delete(eventId);
    }
  }

  get size(): number {
    return this.running.size;
  }
}
