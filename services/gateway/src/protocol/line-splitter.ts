const LF = 0x0a;
const CR = 0x0d;

export interface LineSplitterEvents {
  /** One complete line, without its `\n` (and without a trailing `\r`). */
  onLine(line: Buffer): void;
  /** The current line grew past the limit; the splitter discards input from now on. */
  onOverflow(bytesSeen: number): void;
}

/**
 * Splits a TCP byte stream into `\n`-terminated lines. It holds at most
 * `maxLineBytes` of an unfinished line: one byte more and it reports an
 * overflow and stops buffering, so a client can never make us hold an
 * unbounded amount of memory. Lines are cut on bytes (UTF-8 never uses 0x0A
 * inside a multi-byte character), then decoded by the caller.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private overflowed = false;
  private stopped = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly events: LineSplitterEvents,
  ) {}

  get buffered(): number {
    return this.size;
  }

  /** Drops whatever is buffered and ignores later input (the connection is closing). */
  stop(): void {
    this.stopped = true;
    this.parts = [];
    this.size = 0;
  }

  push(chunk: Buffer): void {
    if (this.overflowed || this.stopped) return;
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(LF, start);
      if (nl === -1) {
        const rest = chunk.length - start;
        if (this.size + rest > this.maxLineBytes) return this.overflow(this.size + rest);
        this.parts.push(start === 0 ? chunk : chunk.subarray(start));
        this.size += rest;
        return;
      }
      const piece = chunk.subarray(start, nl);
      if (this.size + piece.length > this.maxLineBytes) return this.overflow(this.size + piece.length);
      let line: Buffer;
      if (this.parts.length === 0) line = piece;
      else {
        this.parts.push(piece);
        line = Buffer.concat(this.parts, this.size + piece.length);
        this.parts = [];
        this.size = 0;
      }
      if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
      start = nl + 1;
      this.events.onLine(line);
      if (this.stopped) return;
    }
  }

  private overflow(bytes: number): void {
    this.overflowed = true;
    this.parts = [];
    this.size = 0;
    this.events.onOverflow(bytes);
  }
}
