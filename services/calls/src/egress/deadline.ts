import { KbError } from '@domaeka/core';

/**
 * One deadline over a whole exchange (DNS, connect, every redirect, body):
 * a target that answers each step slowly must still end within timeoutMs.
 */
export class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;

  constructor(readonly ms: number) {
    this.timer = setTimeout(() => this.controller.abort(), ms);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get expired(): boolean {
    return this.controller.signal.aborted;
  }

  error(): KbError {
    return new KbError('KB_ERR_TIMEOUT', `no complete answer within ${this.ms} ms`, 504);
  }

  /** Settles like `work`, or rejects with the timeout error when the deadline passes first. */
  race<T>(work: Promise<T>): Promise<T> {
    if (this.expired) return Promise.reject(this.error());
    let onAbort = (): void => {};
    const expiry = new Promise<never>((_, reject) => {
      onAbort = () => reject(this.error());
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
    return Promise.race([work, expiry]).finally(() => this.signal.removeEventListener('abort', onAbort));
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}
