import type { AttachedStdio } from '../docker/docker-engine.js';

/**
 * The runner's side of the sandbox runtime's framed protocol
 * (sandbox-image/README.md, "Protocol"): 4-byte big-endian length + one
 * UTF-8 JSON object, either way; responses in request order, one each.
 * Tenant code can reach the channel fds and write a frame of its own, so
 * every frame is validated (length cap, JSON object, the id of the oldest
 * outstanding request) and anything else ends the channel as a violation.
 */
export type Frame = Record<string, unknown>;

/** Results are capped at 1 MiB and output at 64 KiB by the runtime; anything far beyond is not the runtime. */
export const FRAME_MAX_BYTES = 4 * 1024 * 1024;

export class ChannelClosedError extends Error {
  readonly code = 'KB_ERR_SANDBOX_CRASHED';
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
      this.pending.push({ id, resolve, reject, onEvent });
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
      if (len > FRAME_MAX_BYTES) return this.fail(new ChannelClosedError(`frame of ${len} bytes exceeds the cap`));
      if (this.buf.length < 4 + len) return;
      const raw = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      let frame: unknown;
      try {
        frame = JSON.parse(raw.toString('utf8'));
      } catch {
        return this.fail(new ChannelClosedError('a frame that is not JSON'));
      }
      if (!frame || typeof frame !== 'object' || Array.isArray(frame)) return this.fail(new ChannelClosedError('a frame that is not an object'));
      this.deliver(frame as Frame);
      if (this.closedWith) return;
    }
  }

  private deliver(frame: Frame): void {
    if (this.onReady) {
      if (frame.ready !== true || frame.ok !== true) return this.fail(new ChannelClosedError('the first frame is not the ready frame'));
      const ready = this.onReady;
      this.onReady = null;
      this.onReadyFail = null;
      return ready(frame);
    }
    const head = this.pending[0];
    if (!head || frame.id !== head.id) return this.fail(new ChannelClosedError('a frame for no outstanding request'));
    if (frame.event !== undefined) {
      // Only output events, only for a request that asked to stream (tenant code can forge frames on the channel fd).
      if (frame.event !== 'output' || typeof frame.data !== 'string' || !head.onEvent) return this.fail(new ChannelClosedError('an event frame nobody asked for'));
      head.onEvent({ data: frame.data });
      return;
    }
    this.pending.shift();
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
