import { envelope, messages, routingKeys, type AnalyzePayload, type DispatchDonePayload, type Publisher } from '@domaeka/broker';
import { hasUnstorable, storableText } from '@domaeka/core';
import { apiErrors } from '../errors.js';
import type { Caller } from '../accounts/caller.js';
import type { DispatchWaiter } from './dispatch-waiter.js';
import type { Orm } from '../db/em.js';
import { MessageRepository } from './message-repository.js';

/** Extra wait beyond the plan's longest command timeout: the dispatcher's own hops. */
export const WAIT_MARGIN_MS = 2000;

export interface MessageInput {
  botName: string;
  room: string;
  channelId: string;
  sender: string;
  senderHash?: string;
  text: string;
  isGroupChat?: boolean;
  /** KakaoTalk's log id when relaying a real chat message: (bot, channel, messageId) is processed once. */
  messageId?: string;
}

export type MessageStatus = 'pending' | 'replied' | 'no_match' | 'ignored' | 'duplicate';
export interface ReplyView {
  type: string;
  text: string;
}
export interface MessageOutcome {
  eventId: string;
  status: MessageStatus;
  reply: ReplyView | null;
}

/**
 * HTTP ingress: a chat message posted by a tenant's own system becomes an
 * analyze event (source 'http'), exactly like one relayed by a phone.
 *
 * Characters PostgreSQL refuses (NUL, lone surrogates; the body parser lets
 * them through to this route) get the gateway's rule: an identifier holding
 * one is refused with KB_ERR_VALIDATION naming the field (it would key the
 * room row and the outbox), the text and the sender are replaced visibly
 * (U+FFFD) and the command answers.
 */
export class MessageService {
  private readonly ingress: MessageRepository;

  constructor(
    orm: Orm,
    private readonly publisher: Publisher,
    private readonly waiter: DispatchWaiter,
  ) {
    this.ingress = new MessageRepository(orm);
  }

  /** Publishes with confirm; with `wait`, returns the outcome when the dispatcher finishes in time, else null. */
  async submit(caller: Caller, input: MessageInput, wait: boolean): Promise<{ eventId: string; outcome: MessageOutcome | null }> {
    const bad = unstorableField(input);
    if (bad)
      throw apiErrors.validation(
        `저장할 수 없는 문자(NUL 또는 짝 없는 서로게이트)가 들어 있습니다: ${bad} / ${bad} holds a character that cannot be stored (NUL or a lone surrogate)`,
      );
    const bot = await this.ingress.botNamed(input.botName);
    if (!bot) throw apiErrors.notFound('bot');
    if (bot.tenantId !== caller.tenantId) throw apiErrors.forbidden('bot belongs to another tenant');

    const payload: AnalyzePayload = {
      source: 'http',
      botId: bot.id,
      botName: bot.name,
      deviceId: null,
      deviceKey: null,
      room: input.room,
      channelId: input.channelId,
      sender: storableText(input.sender),
      senderHash: input.senderHash ?? null,
      text: storableText(input.text),
      isGroupChat: input.isGroupChat ?? true,
      isMention: false,
      logId: input.messageId ?? null,
      sentAt: null,
      replyRoute: null,
    };
    const waitMs = wait ? (await this.ingress.timeoutMaxMs(caller.tenantId)) + WAIT_MARGIN_MS : null;
    const { eventId, done: pending } = await this.dispatch(caller.tenantId, payload, waitMs);
    if (!pending) return { eventId, outcome: null };

    const done = await pending;
    if (done) return { eventId, outcome: { eventId, status: done.status, reply: done.reply } };
    // The notice is droppable telemetry: the outbox may know although it never came.
    const stored = await this.outcome(caller, eventId);
    return { eventId, outcome: stored.status === 'pending' ? null : stored };
  }

  /**
   * The API's one door to the dispatcher, for `POST /messages` and the Kakao
   * channel skill: records whose event it is (`kb_ingress_events`, so its
   * outcome can be read later), listens for its `dispatch.done` when asked
   * (before publishing: a fast dispatcher must not finish before we look) and
   * publishes with confirm. Resolves once published; `done` then settles with
   * the notice, or null after `waitMs` (the notice is droppable: read the
   * outbox then).
   */
  async dispatch(
    tenantId: string,
    payload: AnalyzePayload,
    waitMs: number | null,
  ): Promise<{ eventId: string; done: Promise<DispatchDonePayload | null> | null }> {
    const env = envelope(messages.analyze, payload);
    const eventId = env.id;
    await this.ingress.recordIngress(tenantId, { eventId, botId: payload.botId, channelId: payload.channelId, logId: payload.logId });
    const pending = waitMs === null ? null : this.waiter.wait(eventId, waitMs);
    try {
      await this.publisher.publish(messages.analyze, routingKeys.analyze, env);
    } catch (err) {
      pending?.cancel();
      // Never leave an event the caller will poll forever as "pending".
      await this.ingress.forgetIngress(tenantId, eventId).catch(() => undefined);
      throw err;
    }
    return { eventId, done: pending?.done ?? null };
  }

  /** Outcome from the ingress row (tenant check) and the dispatcher's outbox row. */
  async outcome(caller: Caller, eventId: string): Promise<MessageOutcome> {
    const row = await this.ingress.outcome(caller.tenantId, eventId);
    if (!row) throw apiErrors.notFound('message');
    if (row.duplicate) return { eventId, status: 'duplicate', reply: null };
    return { eventId, status: (row.status ?? 'pending') as MessageStatus, reply: replyOf(row.reply) };
  }
}

/** The first identifier of the message PostgreSQL cannot store; one regex test each. */
function unstorableField(m: MessageInput): string | null {
  if (hasUnstorable(m.botName)) return 'botName';
  if (hasUnstorable(m.room)) return 'room';
  if (hasUnstorable(m.channelId)) return 'channelId';
  if (m.messageId !== undefined && hasUnstorable(m.messageId)) return 'messageId';
  if (m.senderHash !== undefined && hasUnstorable(m.senderHash)) return 'senderHash';
  return null;
}

/** The outbox keeps the whole reply; callers get its type and text. */
function replyOf(stored: Record<string, unknown> | null): ReplyView | null {
  if (!stored || typeof stored !== 'object') return null;
  const text = typeof stored.text === 'string' ? stored.text : '';
  const type = typeof stored.type === 'string' ? stored.type : 'text';
  return { type, text };
}
