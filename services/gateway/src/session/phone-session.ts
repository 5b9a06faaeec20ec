import { setTimeout as sleep } from 'node:timers/promises';
import { isDatabaseDown, type Logger } from '@domaeka/core';
import type { BotEntry } from '../bots/bot-directory.js';
import type { DeviceStatus } from '../devices/device-store.js';
import type { HandshakeInfo } from '../protocol/inbound.js';

export type SessionState = 'handshake' | 'open' | 'closing' | 'closed';

/**
 * What one connection knows of its phone, shared by the steps that handle
 * its packets (handshake, signed packets, output): the state, the
 * handshake's claims, the bot and device once known, and whether the
 * connection counts for its device.
 */
export class PhoneSession {
  state: SessionState = 'handshake';
  hs: HandshakeInfo | null = null;
  bot: BotEntry | null = null;
  /** devices.id once known: from the handshake look-up, or recorded when the connection counts. */
  deviceId: string | null = null;
  /** The device's approval as its row said when the connection counted (for `device.presence`). */
  deviceStatus: DeviceStatus | null = null;
  counted = false;
  retired = false;

  /** Gains the bot and device key once the handshake is answered. */
  constructor(public log: Logger) {}

  get ending(): boolean {
    return this.state === 'closing' || this.state === 'closed';
  }

  /** Runs a database step, holding the connection (with backoff up to 5 s) while the database is down, until it ends. */
  async untilDbUp<T>(fn: () => Promise<T>): Promise<T> {
    let backoff = 200;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!isDatabaseDown(err) || this.ending) throw err;
        this.log.warn({ err: String(err), retryInMs: backoff }, 'database down; holding the connection');
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }
}
