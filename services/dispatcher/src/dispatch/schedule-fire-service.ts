import type { AnalyzePayload, CallLogPayload, EnvelopeOf, ReplyPayload, ScheduleFirePayload } from '@domaeka/broker';
import { failure, splitWords, type TargetResult } from '@domaeka/calls';
import type { Logger } from 'pino';
import type { BotContext, BotInfo } from '../bots/bot-context.js';
import type { CommandCache, CommandDef } from '../commands/command-cache.js';
import type { EgressCache } from '../egress/egress-cache.js';
import type { DispatcherMetrics } from '../metrics.js';
import type { OutboxStore } from '../outbox/outbox-store.js';
import { roomReplyId } from '../replies/room-reply-id.js';
import type { ReplyPublisher } from '../replies/reply-publisher.js';
import type { ReachableRoom, ScheduleRooms } from '../schedules/schedule-rooms.js';
import type { SendDelivery } from '../sends/send-delivery.js';
import type { SecretCache } from '../secrets/secret-cache.js';
import type { Target } from '../targets/target.js';
import { MAX_ATTEMPTS, givenUpResult, storableResult } from './poison-guard.js';

export interface ScheduleFireDeps {
  bots: BotContext;
  commands: CommandCache;
  secrets: SecretCache;
  egress: EgressCache;
  outbox: OutboxStore;
  rooms: ScheduleRooms;
  targets: { http: Target; sandbox: Target; reply: Target };
  replies: ReplyPublisher;
  metrics: DispatcherMetrics;
  logger: Logger;
  /** Delivers what the fired code sent with `send(room, text)`, as scheduleMessage. Absent: dropped. */
  sends?: SendDelivery;
}

type Fire = EnvelopeOf<ScheduleFirePayload>;

/**
 * One schedule fire, start to finish: the rooms still reachable, the
 * command by id, the outbox claim on the fire's event id (a republished or
 * redelivered fire is answered from it, never run twice), one target call
 * with the schedule's input, one kb_api_logs row (`source: 'schedule'`),
 * then the reply to every room as `kind: 'schedule'` (the gateway writes
 * `scheduleMessage`). The outbox row is the first room's (its columns name
 * one bot and room); the call counts against the tenant's daily quota like
 * a room call.
 */
export class ScheduleFireService {
  constructor(private readonly d: ScheduleFireDeps) {}

  async handle(env: Fire): Promise<void> {
    const p = env.payload;
    const { reachable, unreachable } = await this.d.rooms.reachable(p.tenantId, p.rooms);
    if (unreachable.length > 0) {
      this.d.logger.info({ eventId: env.id, scheduleId: p.scheduleId, rooms: unreachable.map((r) => r.channelId) }, 'schedule rooms not reachable (room not approved, bot gone, or no phone): left out');
    }
    const first = reachable[0];
    const bot = first ? await this.d.bots.bot(first.botId) : null;
    const command = bot ? (await this.d.commands.forTenant(p.tenantId)).byId(p.commandId) : undefined;
    if (!first || !bot || !command) {
      this.d.logger.info({ eventId: env.id, scheduleId: p.scheduleId, rooms: reachable.length, command: !!command }, 'schedule fire with no room to reach or no active command: not run');
      this.d.metrics.event('ignored');
      return;
    }
    const claim = await this.d.outbox.claim({
      eventId: env.id,
      tenantId: p.tenantId,
      botId: first.botId,
      channelId: first.channelId,
      logId: null,
      commandId: command.id,
      source: 'schedule',
      replyRoute: first.route,
    });
    if (claim.kind === 'duplicate') return this.d.metrics.event('duplicate');
    if (claim.kind === 'completed') {
      // Republished or redelivered: the stored reply again (the gateway drops ids it already wrote); no second call.
      if (claim.reply) await this.sendAll(env, reachable, claim.reply);
      this.d.metrics.republished();
      return this.d.metrics.event(claim.status);
    }
    let result: TargetResult | null = null;
    if (claim.kind === 'retry' && claim.attempts > MAX_ATTEMPTS) result = givenUpResult(claim.attempts);
    if (claim.kind === 'new' && claim.quota.call > claim.quota.limit) {
      this.d.metrics.quotaExceeded();
      result = failure('KB_ERR_QUOTA_EXCEEDED', `daily limit of ${claim.quota.limit} room calls reached (schedule fire); not run`);
    }
    result = storableResult(result ?? (await this.call(env, bot, command, first)));
    const reply = this.replyFor(first, result);
    await Promise.all([
      this.d.outbox.complete(env.id, reply, {
        ...result.log,
        tenantId: p.tenantId,
        commandId: command.id,
        eventId: env.id,
        botId: first.botId,
        channelId: first.channelId,
        source: 'schedule',
      }),
      reply ? this.sendAll(env, reachable, reply) : undefined,
    ]);
    if (result.sends?.length) await this.d.sends?.deliver({ eventId: env.id, tenantId: p.tenantId, commandId: command.id, sends: result.sends, kind: 'schedule' });
    const call: CallLogPayload = {
      eventId: env.id,
      tenantId: p.tenantId,
      botId: first.botId,
      commandId: command.id,
      command: command.command,
      room: reachable.map((r) => r.room).join(', ').slice(0, 500),
      channelId: first.channelId,
      sender: `⏰ ${p.label}`,
      text: p.input,
      parameters: splitWords(p.input),
      reply: reply ? { type: reply.type, text: reply.text } : null,
      errorCode: result.log.errorCode,
      errorMessage: result.log.errorMessage,
      responseTimeMs: result.log.responseTimeMs,
      source: 'schedule',
      at: Date.now(),
    };
    this.d.replies.done('schedule', {
      eventId: env.id,
      tenantId: p.tenantId,
      botId: first.botId,
      status: reply ? 'replied' : 'no_match',
      reply: call.reply,
      call,
    });
    this.d.logger.info({ eventId: env.id, scheduleId: p.scheduleId, fireAt: p.fireAt, rooms: reachable.length, code: result.log.errorCode }, 'schedule fired');
    this.d.metrics.event(reply ? 'replied' : 'no_match');
  }

  private async call(env: Fire, bot: BotInfo, command: CommandDef, first: ReachableRoom): Promise<TargetResult> {
    const p = env.payload;
    const event: AnalyzePayload = {
      source: 'schedule',
      botId: first.botId,
      botName: first.botName,
      deviceId: null,
      deviceKey: null,
      room: first.room,
      channelId: first.channelId,
      sender: '',
      senderHash: null,
      text: p.input,
      isGroupChat: true,
      isMention: false,
      logId: null,
      sentAt: p.fireAt,
      replyRoute: null,
    };
    const secrets = await this.d.secrets.forTenant(p.tenantId);
    const egress = command.target.type === 'sandbox' && bot.plan.network === 'allowlist' ? await this.d.egress.forTenant(p.tenantId) : null;
    const target = this.d.targets[command.target.type];
    const started = performance.now();
    let result: TargetResult;
    try {
      result = await target.call({
        eventId: env.id,
        occurredAt: env.occurredAt,
        event,
        command,
        parameters: splitWords(p.input),
        timeoutMs: Math.min(command.timeoutMs, bot.timeoutMaxMs),
        plan: bot.plan,
        secrets,
        egress,
        errorReply: bot.errorReply,
        schedule: { id: p.scheduleId, fireAt: p.fireAt, label: p.label },
      });
    } catch (err) {
      this.d.logger.error({ eventId: env.id, err: String(err) }, 'target call threw');
      result = failure('KB_ERR_INTERNAL', `dispatcher error: ${String(err)}`);
    }
    this.d.metrics.targetCall(command.target.type, result.log.errorCode, (performance.now() - started) / 1000);
    return result;
  }

  private replyFor(room: ReachableRoom, result: TargetResult): ReplyPayload | null {
    if (!result.reply) return null;
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const { rich, ...content } = result.reply;
    return { ...content, botId: room.botId, botName: room.botName, room: room.room, channelId: room.channelId, kind: 'schedule' };
  }

  /** The reply to every room, each on its own route and with its own id (roomReplyId). */
  private async sendAll(env: Fire, rooms: readonly ReachableRoom[], reply: ReplyPayload): Promise<void> {
    await Promise.all(
      rooms.map((r) =>
        this.d.replies.reply(r.route, roomReplyId(env.id, r.botId, r.channelId), {
          ...reply,
          botId: r.botId,
          botName: r.botName,
          room: r.room,
          channelId: r.channelId,
          kind: 'schedule',
        }),
      ),
    );
  }
}
