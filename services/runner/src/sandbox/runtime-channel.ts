import type { AttachedStdio } from '../docker/docker-engine.js';
import { EventBudget } from './call-budget.js';

/**
 * The runner's side of the sandbox runtime's framed protocol
 * (sandbox-image/README.md, "Protocol"): 4-byte big-endian length + one
 * UTF-8 JSON object, either way; responses in request order, one each.
 * The runtime keeps the channel out of tenant code's reach (its supervisor
 * process holds it; sandbox-image/README.md, "Supervisor and worker"), and
 * the runner still trusts no frame: every frame is validated (length cap,
 * JSON object, the id of the call in flight, one response per call, output
 * events only for a call that asked and within the call's budget:
 * call-budget.ts); anything else ends the channel as a misuse
 * (ChannelMisuseError), which fails the call and removes the container.
 */
export type Frame = Record<string, unknown>;

/** Results are capped at 1 MiB and output at 64 KiB by the runtime; anything far beyond is not the runtime. */
export const FRAME_MAX_BYTES = 4 * 1024 * 1024;

export class ChannelClosedError extends Error {
  readonly code = 'KB_ERR_SANDBOX_CRASHED';
}

/** How every misuse of the channel is worded (answers, logs, tests). */
export const MISUSE = 'the runtime channel was misused';

/** Something on the channel that the runtime never sends (a forged or broken frame): the container is not reused. */
export class ChannelMisuseError extends ChannelClosedError {
  constructor(what: string) {
    super(`${MISUSE}: ${what}`);
  }
}

/** An answer that says the channel was misused (the runner made it: ChannelMisuseError or a refused result). */
export function isMisuse(error: { message: string } | null | undefined): boolean {
  return error?.message.startsWith(MISUSE) === true;
}

/** An event frame ahead of a response: `{id, event: 'output', data}` (requests with `stream: true`). */
export interface OutputEvent {
  data: string;
}

interface Pending {
  id: number;
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
  onEvent: ((e: OutputEvent) => void) | undefined;
  events: EventBudget;
}

export class RuntimeChannel {
  private buf: Buffer = Buffer.alloc(0);
  private readonly pending: Pending[] = [];
  private nextId = 1;
  private closedWith: Error | null = null;
  private readyFrame: Promise<Frame>;
  private onReady: ((f: Frame) => void) | null = null;
  private onReadyFail: ((e: Error) => void) | null = null;
  private stderrTail = '';
  private closedWaiters: Array<() => void> = [];
  /** The id of the last call answered: a frame for it afterwards is a second response. */
  private lastAnswered = 0;

  constructor(private readonly stdio: AttachedStdio) {
    this.readyFrame = new Promise((resolve, reject) => {
      this.onReady = resolve;
      this.onReadyFail = reject;
    });
    // Nobody may be awaiting it yet: do not let an early failure be "unhandled".
    this.readyFrame.catch(() => undefined);
    stdio.onStdout((chunk) => this.push(chunk));
    // The runtime's own fatal errors (tenant output never reaches fd 2 of the container); kept for diagnostics.
    stdio.onStderr((chunk) => (this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2000)));
    stdio.onEnd(() => this.fail(new ChannelClosedError('the sandbox closed its channel')));
  }

  /** The runtime's ready frame (`{id:null, ok:true, ready:true, protocol, runtime, ...}`). */
  ready(): Promise<Frame> {
    return this.readyFrame;
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  /** Why the channel ended (null while open). */
  get failure(): Error | null {
    return this.closedWith;
  }

  /** Resolves when the channel ends, for whatever reason. */
  closedPromise(): Promise<void> {
    if (this.closedWith) return Promise.resolve();
    return new Promise((resolve) => this.closedWaiters.push(resolve));
  }

  /** What the runtime wrote to its stderr (interpreter failures), last 2000 characters. */
  get stderr(): string {
    return this.stderrTail;
  }

  request(body: Frame, onEvent?: (e: OutputEvent) => void): Promise<Frame> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    const data = Buffer.from(JSON.stringify({ ...body, id }), 'utf8');
    const header = Buffer.alloc(4);
    header.writeUInt32BE(data.length, 0);
    return new Promise<Frame>((resolve, reject) => {
      this.pending.push({ id, resolve, reject, onEvent, events: new EventBudget() });
      this.stdio.write(Buffer.concat([header, data]));
    });
  }

  close(): void {
    this.fail(new ChannelClosedError('channel closed by the runner'));
    this.stdio.close();
  }

  private push(chunk: Buffer): void {
    if (this.closedWith) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (len > FRAME_MAX_BYTES) return this.fail(new ChannelMisuseError(`a frame of ${len} bytes (cap ${FRAME_MAX_BYTES})`));
      if (this.buf.length < 4 + len) return;
      const raw = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      let frame: unknown;
      try {
        frame = JSON.parse(raw.toString('utf8'));
      } catch {
        return this.fail(new ChannelMisuseError('a frame that is not JSON'));
      }
      if (!frame || typeof frame !== 'object' || Array.isArray(frame)) return this.fail(new ChannelMisuseError('a frame that is not an object'));
      this.deliver(frame as Frame, 4 + len);
      if (this.closedWith) return;
    }
  }

  private deliver(frame: Frame, bytes: number): void {
    if (this.onReady) {
      if (frame.ready !== true || frame.ok !== true) return this.fail(new ChannelClosedError('the first frame is not the ready frame'));
      const ready = this.onReady;
      this.onReady = null;
      this.onReadyFail = null;
      return ready(frame);
    }
    const head = this.pending[0];
    if (!head || frame.id !== head.id) {
      const what = frame.id === this.lastAnswered && this.lastAnswered !== 0 ? `a second response for call ${this.lastAnswered}` : `a frame for call ${String(frame.id).slice(0, 40)}, not the call in flight (${head?.id ?? 'none'})`;
      return this.fail(new ChannelMisuseError(what));
    }
    if (frame.event !== undefined) {
      // Only output events, only for a request that asked to stream, only within the call's output budget.
      if (frame.event !== 'output' || typeof frame.data !== 'string' || !head.onEvent) return this.fail(new ChannelMisuseError('an event frame the call did not ask for'));
      const data = head.events.take(frame.data, bytes);
      if (data === null) return this.fail(new ChannelMisuseError('output events past the output limit'));
      if (data) head.onEvent({ data });
      return;
    }
    this.pending.shift();
    this.lastAnswered = head.id;
    head.resolve(frame);
  }

  private fail(err: Error): void {
    if (this.closedWith) return;
    this.closedWith = err;
    this.onReadyFail?.(err);
    this.onReady = null;
    this.onReadyFail = null;
    for (const p of this.pending.splice(0)) p.reject(err);
    for (const w of this.closedWaiters.splice(0)) w();
  }
}
