import type { Socket } from 'node:net';

export type PauseReason = 'busy' | 'inflight';

/**
 * Keeps one connection's input strictly ordered while some steps wait.
 * A step run with `exclusive` (bot look-up, counting) pauses the socket;
 * lines already split from the last chunk are parked and handled, in order,
 * once no step runs. Steps may nest. Pausing for other reasons (too many
 * unconfirmed publishes) uses the same switch, so the phone's TCP window,
 * not our memory, absorbs the wait.
 */
export class InputGate {
  private busy = 0;
  private readonly backlog: Buffer[] = [];
  private readonly pausedBy = new Set<PauseReason>();
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly handle: (line: Buffer) => void,
    private readonly onStepError: (err: unknown) => void,
  ) {}

  get paused(): boolean {
    return this.pausedBy.size > 0;
  }

  offer(line: Buffer): void {
    if (this.busy > 0) this.backlog.push(line);
    else this.handle(line);
  }

  exclusive(step: () => Promise<void>): void {
    this.busy++;
    this.pause('busy');
    step()
      .catch((err) => this.onStepError(err))
      .finally(() => {
        if (--this.busy > 0) return;
        while (this.busy === 0 && this.backlog.length > 0) this.handle(this.backlog.shift()!);
        if (this.busy === 0) this.unpause('busy');
      });
  }

  pause(reason: PauseReason): void {
    if (this.closed) return;
    if (this.pausedBy.size === 0) this.socket.pause();
    this.pausedBy.add(reason);
  }

  unpause(reason: PauseReason): void {
    if (!this.pausedBy.delete(reason)) return;
    if (this.pausedBy.size === 0 && !this.closed) this.socket.resume();
  }

  /** The connection is ending: drop parked lines and keep reading (the input is ignored from now on). */
  close(): void {
    this.closed = true;
    this.backlog.length = 0;
    this.pausedBy.clear();
    this.socket.resume();
  }
}
