import type { Socket } from 'node:net';
import { encodeError } from '../protocol/packet-codec.js';
import { describeRejection, type RejectionReason } from '../protocol/rejections.js';
import type { ConnectionDeps } from './connection.js';
import type { PhoneSession } from './phone-session.js';

export type Notice = { code: string; message: string };

/**
 * Every packet written to one phone goes through `send`: nothing is written
 * once the connection ends, and a phone that stops reading (its unread
 * bytes over `maxWriteBufferBytes`) is dropped rather than kept in memory.
 */
export class PhoneOutput {
  constructor(
    private readonly socket: Socket,
    private readonly session: PhoneSession,
    private readonly deps: Pick<ConnectionDeps, 'limits' | 'timezone' | 'metrics' | 'devices'>,
  ) {}

  send(data: string, cb?: (err?: Error | null) => void): void {
    if (this.session.ending || this.socket.destroyed) {
      cb?.(new Error('connection closed'));
      return;
    }
    this.socket.write(data, cb);
    if (this.socket.writableLength > this.deps.limits.maxWriteBufferBytes) {
      this.session.log.warn({ buffered: this.socket.writableLength }, 'phone does not read; dropping the connection');
      this.socket.destroy();
    }
  }

  /** The `error` packet of a notice (rejections.ts), e.g. the last line before a close. */
  notice(n: Notice): string {
    return encodeError(n.code, n.message, this.deps.timezone);
  }

  /** A refused packet: counted, logged and answered with an `error` packet naming the reason. */
  reject(reason: RejectionReason, event: string | null, detail?: string): void {
    this.deps.metrics.rejected(reason);
    if (this.session.deviceId) this.deps.devices.countRejected(this.session.deviceId);
    this.session.log.warn({ reason, event, detail }, 'packet rejected');
    const r = describeRejection(reason, detail);
    this.send(encodeError(r.code, r.message, this.deps.timezone, r.field));
  }
}
