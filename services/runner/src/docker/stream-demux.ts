/**
 * Docker's multiplexed attach stream (non-TTY containers): frames of an
 * 8-byte header (stream type: 1 stdout, 2 stderr; 3 zero bytes; 4-byte
 * big-endian length) and that many bytes. Pure, so it is unit-tested; the
 * runtime's own framing rides inside the stdout frames.
 */
export class StreamDemux {
  private buf: Buffer = Buffer.alloc(0);

  constructor(
    private readonly onStdout: (chunk: Buffer) => void,
    private readonly onStderr: (chunk: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const type = this.buf[0]!;
      const len = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + len) return;
      const body = this.buf.subarray(8, 8 + len);
      this.buf = this.buf.subarray(8 + len);
      if (type === 2) this.onStderr(body);
      else this.onStdout(body);
    }
  }
}
