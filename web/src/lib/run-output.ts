/**
 * What a run printed, put together from the two ways it arrives: chunks
 * from the run's socket.io room (`run:output {seq, data}`, seq from 0) and
 * snapshots (the `run:join` answer, `GET /runs/:id`).
 *
 * The API joins the room before it reads the run for the join answer, and a
 * socket delivers in order, so a chunk that arrives before the answer is
 * normally in it and a chunk after it is not. Normally: the answer reads the
 * row and the live buffer at slightly different moments, so a run that had
 * just started can be answered `queued` with no output while its first chunk
 * is already on the way. Hence two candidates, the longer one wins: every
 * chunk from seq 0 without a gap, or the latest snapshot plus the chunks
 * that came after it.
 */
export class RunOutput {
  private readonly chunks = new Map<number, string>();
  private snapshot = '';
  private after = '';

  /** A chunk from the room; false when it was seen already. */
  add(seq: number, data: string): boolean {
    if (this.chunks.has(seq)) return false;
    this.chunks.set(seq, data);
    this.after += data;
    return true;
  }

  /** The run's output as read by the API (what arrived before this is in it). */
  snapshotOf(output: string): void {
    this.snapshot = output;
    this.after = '';
  }

  text(): string {
    let contiguous = '';
    for (let seq = 0; this.chunks.has(seq); seq++) contiguous += this.chunks.get(seq);
    const fromSnapshot = this.snapshot + this.after;
    return contiguous.length >= fromSnapshot.length ? contiguous : fromSnapshot;
  }
}
