import { createHash } from 'node:crypto';
import {
  Consumer,
  RefusedMessageError,
  assertReplyQueue,
  messages,
  names,
  routingKeys,
  type AnalyzePayload,
  type BrokerConnection,
  type IngressAnalyzePayload,
  type Publisher,
} from '@domaeka/broker';
import { hasUnstorable, isDatabaseDown, storableText, type Logger } from '@domaeka/core';
import type { PacketAuthenticator } from '../auth/packet-auth.js';
import type { BotDirectory } from '../bots/bot-directory.js';
import type { GatewayMetrics } from '../metrics.js';

export interface IngressVerifierDeps {
  conn: BrokerConnection;
  publisher: Publisher;
  prefix: string;
  bots: BotDirectory;
  auth: PacketAuthenticator;
  metrics: GatewayMetrics;
  logger: Logger;
  prefetch: number;
}

/**
 * Verifies events that external bot servers publish to `kb.ingress`
 * (broker/README.md): the same bot signature as the phones, the 5-minute
 * window measured when we receive it, each signature once per log id. Valid
 * events go on to the dispatch path with their own id (so a redelivery is
 * deduplicated there); the rest are dead-lettered with the reason.
 *
 * Characters PostgreSQL refuses (NUL, lone surrogates) get the phones' rule:
 * an identifier holding one is refused by name (dead-lettered as
 * `unstorable_field: room`, never forwarded to wedge its room), free text
 * (text, sender) is replaced visibly with U+FFFD and the command answers.
 */
export function createIngressVerifier(deps: IngressVerifierDeps): Consumer<IngressAnalyzePayload> {
  const n = names(deps.prefix);
  const readyRoutes = new Set<string>();

  const refuse = (reason: string, detail?: string): never => {
    deps.metrics.rejected(`ingress_${reason}`);
    throw new RefusedMessageError(detail ? `${reason}: ${detail}` : reason);
  };

  /** The first identifier PostgreSQL cannot store (the room row, the outbox key, the logs hold them); one regex test each. */
  const unstorableId = (p: IngressAnalyzePayload): string | null => {
    if (hasUnstorable(p.botName)) return 'botName';
    if (hasUnstorable(p.room)) return 'room';
    if (hasUnstorable(p.channelId)) return 'channelId';
    if (p.logId && hasUnstorable(p.logId)) return 'logId';
    if (p.senderHash && hasUnstorable(p.senderHash)) return 'senderHash';
    if (hasUnstorable(p.auth.deviceUUID)) return 'auth.deviceUUID';
    return null;
  };

  /** The reply queue exists before the first reply is routed to it (the platform also creates it with the bot's user). */
  async function ensureReplyQueue(route: string): Promise<void> {
    if (readyRoutes.has(route)) return;
    const ch = await deps.conn.createChannel();
    try {
      await assertReplyQueue(ch, deps.prefix, route);
    } finally {
      await ch.close().catch(() => undefined);
    }
    readyRoutes.add(route);
  }

  return new Consumer<IngressAnalyzePayload>(deps.conn, deps.publisher, {
    queue: n.ingressQueue,
    def: messages.ingressAnalyze,
    prefetch: deps.prefetch,
    classify: (err) => (isDatabaseDown(err) ? 'dependency' : undefined),
    handler: async (env, msg) => {
      const p = env.payload;
      // Before the bot look-up: a NUL in botName would fail that query, not answer it.
      const bad = unstorableId(p);
      if (bad) return refuse('unstorable_field', bad);
      const bot = await deps.bots.get(p.botName);
      if (!bot || !bot.active) return refuse('unknown or disabled bot');
      const discriminator = p.logId ?? createHash('sha256').update(`${p.channelId}\n${p.text}`).digest('hex');
      const verdict = deps.auth.verify(p.auth, { botName: bot.name, deviceID: p.auth.deviceUUID, secretKey: bot.secretKey, salt: bot.salt }, 'ingress.analyze', discriminator);
      if (!verdict.ok) {
        // Our own redelivery of a message we already forwarded (channel lost before the ack) is not a replay.
        if (!(verdict.reason === 'replayed' && msg.fields.redelivered)) refuse(verdict.reason);
      } else if (!deps.auth.accept(verdict) && !msg.fields.redelivered) {
        refuse('replayed');
      }
      const route = `ext.${bot.id}`;
      await ensureReplyQueue(route);
      const payload: AnalyzePayload = {
        source: 'ingress',
        botId: bot.id,
        botName: bot.name,
        deviceId: null,
        deviceKey: p.auth.deviceUUID,
        room: p.room,
        channelId: p.channelId,
        sender: storableText(p.sender),
        senderHash: p.senderHash ?? null,
        text: storableText(p.text),
        isGroupChat: p.isGroupChat ?? true,
        isMention: p.isMention ?? false,
        logId: p.logId ?? null,
        sentAt: p.sentAt && !hasUnstorable(p.sentAt) ? p.sentAt : null,
        replyRoute: route,
      };
      await deps.publisher.publish(messages.analyze, routingKeys.analyze, { ...env, type: messages.analyze.type, version: messages.analyze.version, payload });
      deps.logger.debug({ eventId: env.id, botId: bot.id }, 'ingress event verified');
    },
  });
}
