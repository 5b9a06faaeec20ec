import { isDatabaseDown } from '@domaeka/core';

export interface WriteBatcherOptions {
  /** Most items in one statement. */
  maxBatch: number;
  /** Most statements in flight at once; items arriving meanwhile wait and go together. */
  maxInFlight: number;
}

/**
 * Groups writes that arrive close together into one statement (one round
 * trip, one commit). No timer: a write arriving while the database is idle
 * goes at once (next turn of the event loop, which gathers everything that
 * arrived in the same I/O phase); under load, writes queue behind the
 * statements in flight and leave together. A batch that fails for a reason
 * other than "database down" is retried item by item, so one bad row
 * cannot fail its neighbours.
 */
export class WriteBatcher<I, O> {
  private queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly write: (items: I[]) => Promise<O[]>,
    private readonly opts: WriteBatcherOptions,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.opts.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < this.opts.maxInFlight && this.queue.length > 0) {
        void this.flush(this.queue.splice(0, this.opts.maxBatch));
      }
    });
  }

  private async flush(batch: typeof this.queue): Promise<void> {
    this.inFlight++;
    try {
      const out = await this.write(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(out[i]!));
    } catch (err) {
      if (batch.length === 1 || isDatabaseDown(err)) {
        for (const b of batch) b.reject(err);
      } else {
        for (const b of batch) {
          try {
            b.resolve((await this.write([b.item]))[0]!);
          } catch (e) {
            b.reject(e);
          }
        }
      }
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }
}
