import { envelope, messages, routingKeys, type AnalyzePayload, type Publisher } from '@domaeka/broker';
import type { Logger } from 'pino';
import type { BotContext } from '../bots/bot-context.js';
import type { HeldEvents } from './held-events.js';

/**
 * Sends a phone's kept commands on once the owner approved it (issue 16).
 * The API's `changed` telemetry (entity `device`) names the bot whose
 * phones changed; the database says which of the phones with kept commands
 * were approved (the commands go out again as new analyze events marked
 * `heldForApproval`, so whichever dispatcher takes them reads the phone's
 * status afresh rather than from its cache) or blocked (the commands go).
 * Telemetry may be dropped: a phone whose approval we never hear of keeps
 * its commands until they expire, lost as they were before this existed.
 */
export class HeldRelease {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly held: HeldEvents,
    private readonly bots: BotContext,
    private readonly publisher: Publisher,
    private readonly logger: Logger,
  ) {}

  /** The bot's phones changed (null: any bot's). Checks run one after another, in the order the changes came. */
  devicesChanged(botId: string | null): Promise<void> {
    this.chain = this.chain
      .then(() => this.check(botId))
      .catch((err: unknown) => this.logger.warn({ err: String(err), botId }, 'kept commands: approval check failed; they wait for the next change or expire'));
    return this.chain;
  }

  private async check(botId: string | null): Promise<void> {
    for (const d of this.held.devicesOf(botId)) {
      const status = await this.bots.deviceStatus(d.botId, d.deviceId, true);
      if (status === 'pending') continue;
      if (status !== 'approved') {
        this.held.drop(d.deviceId);
        continue;
      }
      const payloads = this.held.release(d.deviceId);
      await Promise.all(payloads.map((p) => this.send(p)));
      if (payloads.length) this.logger.info({ deviceId: d.deviceId, commands: payloads.length }, 'phone approved: the commands it relayed while pending sent on');
    }
  }

  private async send(p: AnalyzePayload): Promise<void> {
    await this.publisher.publish(messages.analyze, routingKeys.analyze, envelope(messages.analyze, { ...p, heldForApproval: true })).catch((err: unknown) =>
      this.logger.error({ err: String(err), deviceId: p.deviceId, logId: p.logId }, 'kept command NOT sent on after approval'),
    );
  }
}
