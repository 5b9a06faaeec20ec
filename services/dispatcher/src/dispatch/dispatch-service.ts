import { performance } from 'node:perf_hooks';
import type { AnalyzePayload, CallLogPayload, EnvelopeOf, ReplyPayload } from '@domaeka/broker';
import { failure, type Resolution, type TargetResult } from '@domaeka/calls';
import type { Logger } from 'pino';
import type { BotContext, BotInfo } from '../bots/bot-context.js';
import type { CommandCache, CommandDef } from '../commands/command-cache.js';
import type { EventOutcome, DispatcherMetrics } from '../metrics.js';
import type { ApiLogEntry, Claim, OutboxEntry, OutboxStore } from '../outbox/outbox-store.js';
import type { ReplyPublisher } from '../replies/reply-publisher.js';
import type { EgressCache } from '../egress/egress-cache.js';
import type { SecretCache } from '../secrets/secret-cache.js';
import { type Target } from '../targets/target.js';
import { FOREIGN_KEY_VIOLATION, MAX_ATTEMPTS, givenUpResult, sqlState, storableResult, storeFailureKind, unstoredResult } from './poison-guard.js';
import { RoomCallsInHand } from './room-calls-in-hand.js';
import { EventsInHand } from './events-in-hand.js';
import type { HeldEvents } from '../approvals/held-events.js';
import type { SendDelivery } from '../sends/send-delivery.js';

export interface DispatchDeps {
  bots: BotContext;
  commands: CommandCache;
  secrets: SecretCache;
  egress: EgressCache;
  outbox: OutboxStore;
  targets: { http: Target; sandbox: Target; reply: Target };
  replies: ReplyPublisher;
  metrics: DispatcherMetrics;
  logger: Logger;
  /**
   * True while sandbox calls are waiting for a runner (none alive: a runner
   * restarting). Such calls hold no runner slot and the outage is ours, not
   * the tenant's load: they are not answered busy (issue 12: a restart
   * costs no answers). Absent: never.
   */
  runnerOutage?: () => boolean;
  /** Commands of pending phones, kept to be answered once the phone is approved (issue 16). Absent: dropped, as before. */
  held?: HeldEvents;
  /** Delivers what sandbox code sent with `send(room, text)` (issue 15). Absent: such messages are dropped. */
  sends?: SendDelivery;
}

type Analyze = EnvelopeOf<AnalyzePayload>;

/** Results kept across a database outage (see keepUnstored); the events held meanwhile are bounded by the prefetch. */
const UNSTORED_MAX = 1000;

/**
 * One analyze event, start to finish: resolve first (most chat is not a
 * command, and nothing is written for it), check approval, claim the
 * outbox row (dedupe), call the target, store reply and log row together,
 * publish the reply, announce dispatch.done. Database errors before the
 * call propagate (the consumer holds the message and retries it, or
 * dead-letters an event the database can never store); after the call,
 * only an outage does (see `store`).
 */
export class DispatchService {
  private readonly inHand = new RoomCallsInHand();
  private readonly eventsInHand = new EventsInHand();
  private readonly unstored = new Map<string, TargetResult>();

  constructor(private readonly d: DispatchDeps) {}

  async handle(env: Analyze): Promise<void> {
    const started = performance.now();
    const timing = { targetMs: 0 };
    try {
      await this.eventsInHand.run(env.id, () => this.process(env, timing));
    } catch (err) {
      // The bot (or its tenant) was deleted after we cached it: forget it, so the redelivery sees it gone.
      if ((err as { code?: string }).code === FOREIGN_KEY_VIOLATION) this.d.bots.forget(env.payload.botId);
      throw err;
    }
    // What we add around the tenant's own time (DESIGN.md section 7: p50 <= 2 ms).
    this.d.metrics.overhead((performance.now() - started - timing.targetMs) / 1000);
  }

  private async process(env: Analyze, timing: { targetMs: number }): Promise<void> {
    const e = env.payload;
    const bot = await this.d.bots.bot(e.botId);
    if (!bot) {
      this.d.logger.info({ eventId: env.id, botId: e.botId }, 'event of a bot that no longer exists: ignored');
      return this.finish(env, null, 'ignored', null);
    }
    if (!bot.isActive) {
      this.d.logger.debug({ eventId: env.id, botId: bot.id }, 'event of an inactive bot: ignored');
      return this.recordOrFinish(env, bot, 'ignored');
    }

    const resolved = (await this.d.commands.forTenant(bot.tenantId)).resolve(e.text);

    if (e.source === 'phone') {
      const device = e.deviceId ? await this.d.bots.deviceStatus(bot.id, e.deviceId, e.heldForApproval === true) : 'missing';
      if (device !== 'approved') {
        if (resolved) this.unapproved(env, 'device', device);
        if (resolved && device === 'pending') this.d.held?.hold(e);
        return this.finish(env, bot.tenantId, resolved ? 'ignored' : 'no_match', null);
      }
    }
    const room = await this.d.bots.roomStatus(bot, { channelId: e.channelId, room: e.room, isGroupChat: e.isGroupChat });
    if (!resolved) return this.recordOrFinish(env, bot, 'no_match');
    if (room !== 'approved') {
      this.unapproved(env, 'room', room);
      return this.recordOrFinish(env, bot, 'ignored', resolved.command.id);
    }
    return this.run(env, bot, resolved, timing);
  }

  private async run(env: Analyze, bot: BotInfo, resolved: Resolution<CommandDef>, timing: { targetMs: number }): Promise<void> {
    const e = env.payload;
    const claim = await this.timed('claim', this.d.outbox.claim(this.entry(env, bot, resolved.command.id)));
    if (claim.kind === 'duplicate') {
      this.d.logger.debug({ eventId: env.id, firstEventId: claim.eventId, logId: e.logId }, 'same chat message relayed twice: duplicate');
      return this.finish(env, bot.tenantId, 'duplicate', null);
    }
    if (claim.kind === 'completed') {
      // A redelivery: answer with what was stored, never call the target twice.
      if (claim.reply && e.replyRoute) {
        await this.d.replies.reply(e.replyRoute, env.id, claim.reply);
        this.d.metrics.republished();
      }
      return this.finish(env, bot.tenantId, claim.status, claim.reply);
    }

    const command = resolved.command;
    // A retry of ours whose call did happen (only its store met a database outage) stores that result: no second call.
    const known = (claim.kind === 'retry' ? this.takeUnstored(env.id) : undefined) ?? this.refusal(env, claim);
    // A call that runs holds one of its tenant's slots until it is stored and sent.
    const slot = !known && (this.inHand.tryTake(bot.tenantId, bot.plan.roomCallsInFlight) || this.waitsOutOutage(command, bot.tenantId));
    try {
      let result = known ?? (slot ? null : this.busy(env, bot));
      if (!result) {
        const timeoutMs = Math.min(command.timeoutMs, bot.timeoutMaxMs);
        // Cached per tenant; read before the target so a database outage holds the event (retried) instead of failing the call.
        const secrets = await this.d.secrets.forTenant(bot.tenantId);
        const egress = command.target.type === 'sandbox' && bot.plan.network === 'allowlist' ? await this.d.egress.forTenant(bot.tenantId) : null;
        const targetStarted = performance.now();
        result = await this.callTarget(command, {
          eventId: env.id,
          occurredAt: env.occurredAt,
          event: e,
          command,
          parameters: resolved.parameters,
          timeoutMs,
          plan: bot.plan,
          secrets,
          egress,
          errorReply: bot.errorReply,
        });
        timing.targetMs = performance.now() - targetStarted;
      }
      // The one place where what a target returned becomes storable (NUL -> U+FFFD), for the room and the rows alike.
      await this.deliver(env, bot, resolved, storableResult(result));
    } finally {
      if (slot) this.inHand.release(bot.tenantId);
    }
  }

  /**
   * Stores the reply with its log row and sends it to the room, side by side
   * (both finish before the ack). A store the database refuses after the
   * call (content, or a bug of ours) is answered with an error in place of
   * the result, stored in its turn: the target is never called again for it.
   * The room gets one message: the reply already sent, else that error.
   */
  private async deliver(env: Analyze, bot: BotInfo, resolved: Resolution<CommandDef>, result: TargetResult): Promise<void> {
    const e = env.payload;
    const command = resolved.command;
    const reply = this.replyOf(env, bot, result);
    const sent = reply !== null && e.replyRoute !== null;
    const [stored] = await Promise.all([
      this.store(env, bot, command.id, result, reply),
      sent ? this.timed('reply', this.d.replies.reply(e.replyRoute!, env.id, reply)) : undefined,
    ]);
    let said = reply;
    if (stored !== result) {
      said = sent ? reply : this.replyOf(env, bot, stored);
      if (!sent && said && e.replyRoute) await this.d.replies.reply(e.replyRoute, env.id, said);
      result = stored;
    }
    const call: CallLogPayload = {
      eventId: env.id,
      tenantId: bot.tenantId,
      botId: bot.id,
      commandId: command.id,
      command: command.command,
      room: e.room,
      channelId: e.channelId,
      sender: e.sender,
      text: e.text,
      parameters: resolved.parameters,
      reply: said ? { type: said.type, text: said.text } : null,
      errorCode: result.log.errorCode,
      errorMessage: result.log.errorMessage,
      responseTimeMs: result.log.responseTimeMs,
      source: e.source,
      at: Date.now(),
    };
    if (result.log.errorCode) {
      this.d.logger.info(
        { eventId: env.id, commandId: command.id, code: result.log.errorCode, reason: result.log.errorMessage },
        'command target failed; room told',
      );
    }
    // After the call's own reply, the messages its code sent to other rooms (only a call that ended well has any).
    if (result.sends?.length) await this.d.sends?.deliver({ eventId: env.id, tenantId: bot.tenantId, commandId: command.id, sends: result.sends });
    return this.finish(env, bot.tenantId, 'replied', said, call);
  }

  /**
   * The completion, judged when it fails (poison-guard.ts): a database
   * outage or a deleted bot propagates (the redelivery retries, or finds the
   * bot gone); anything else would fail again on every delivery, so the
   * result is replaced by an error and that is stored. Resolves to what was
   * stored. Nothing is added on the normal path.
   */
  private async store(env: Analyze, bot: BotInfo, commandId: string, result: TargetResult, reply: ReplyPayload | null): Promise<TargetResult> {
    try {
      await this.timed('store', this.d.outbox.complete(env.id, reply, this.logOf(env, bot, commandId, result)));
      return result;
    } catch (err) {
      const kind = storeFailureKind(err);
      if (kind === 'transient') this.keepUnstored(env.id, result);
      if (kind === 'transient' || kind === 'vanished') throw err;
      this.d.metrics.unstorable(kind);
      this.d.logger.error(
        { eventId: env.id, commandId, tenantId: bot.tenantId, code: sqlState(err), kind, err: String(err) },
        'result could not be stored: the room gets an error instead, the target is not called again',
      );
      const replacement = unstoredResult(kind, err, result);
      // Should this fail too, it propagates: the consumer judges it (analyzeFailureKind).
      await this.d.outbox.complete(env.id, this.replyOf(env, bot, replacement), this.logOf(env, bot, commandId, replacement));
      return replacement;
    }
  }

  /**
   * A result whose store met a database outage. The consumer holds its event
   * and delivers it again in this process; that retry stores this result
   * instead of calling the target again (the call did happen). Bounded: past
   * the limit the oldest are forgotten, and their retry calls again, as
   * after a crash (when this memory is gone too).
   */
  private keepUnstored(eventId: string, result: TargetResult): void {
    this.unstored.delete(eventId);
    this.unstored.set(eventId, result);
    if (this.unstored.size > UNSTORED_MAX) this.unstored.delete(this.unstored.keys().next().value!);
  }

  private takeUnstored(eventId: string): TargetResult | undefined {
    if (this.unstored.size === 0) return undefined;
    const r = this.unstored.get(eventId);
    this.unstored.delete(eventId);
    return r;
  }

  /** The reply for the event's room; the answer's parts (`rich`) only for the channel that draws them (the Kakao skill). */
  private replyOf(env: Analyze, bot: BotInfo, result: TargetResult): ReplyPayload | null {
    const e = env.payload;
    if (!result.reply) return null;
    const { rich, ...content } = result.reply;
    return { botId: bot.id, botName: e.botName, room: e.room, channelId: e.channelId, ...content, ...(rich && e.source === 'kakao-skill' ? { rich } : {}) };
  }

  private logOf(env: Analyze, bot: BotInfo, commandId: string, result: TargetResult): ApiLogEntry {
    return { ...result.log, tenantId: bot.tenantId, commandId, eventId: env.id, botId: bot.id, channelId: env.payload.channelId, source: env.payload.source };
  }

  /**
   * A call answered without calling its target: past the day's quota (a
   * first delivery), or a retry past MAX_ATTEMPTS (the room is told instead
   * of the target being called a fourth time).
   */
  private refusal(env: Analyze, claim: Extract<Claim, { kind: 'new' | 'retry' }>): TargetResult | null {
    if (claim.kind === 'new') return this.quotaRefusal(claim);
    if (claim.attempts <= MAX_ATTEMPTS) return null;
    this.d.metrics.givenUp();
    this.d.logger.warn({ eventId: env.id, attempts: claim.attempts }, 'room call retried too often: answered with an error, target not called again');
    return givenUpResult(claim.attempts);
  }

  /**
   * The tenant already holds its plan's room calls in hand here: answered
   * at once and acked, so this tenant's flood frees the shared prefetch and
   * other tenants' calls pass. The log row (error_code KB_ERR_BUSY) is what
   * the ops dashboard shows as "throttled".
   */
  /** Over its cap during a runner outage, a sandbox call still takes a slot (see DispatchDeps.runnerOutage). */
  private waitsOutOutage(command: CommandDef, tenantId: string): boolean {
    if (command.target.type !== 'sandbox' || !this.d.runnerOutage?.()) return false;
    return this.inHand.tryTake(tenantId, Number.POSITIVE_INFINITY);
  }

  private busy(env: Analyze, bot: BotInfo): TargetResult {
    this.d.metrics.busy();
    const cap = bot.plan.roomCallsInFlight;
    this.d.logger.debug({ eventId: env.id, tenantId: bot.tenantId, cap }, 'tenant has its room calls in hand: busy');
    return failure('KB_ERR_BUSY', `${cap} room calls of this tenant already in hand at this dispatcher (plan ${bot.plan.id}); not run`);
  }

  /**
   * A room call beyond the plan's runs of the day is not run: the room is
   * told in Korean, the log row says KB_ERR_QUOTA_EXCEEDED. A retry (our
   * row without a reply: a crash between claim and completion) was counted
   * on its first delivery and runs: the verdict is not stored, and one call
   * too many after a crash harms less than refusing one within the limit.
   */
  private quotaRefusal(claim: Extract<Claim, { kind: 'new' }>): TargetResult | null {
    if (claim.quota.call <= claim.quota.limit) return null;
    this.d.metrics.quotaExceeded();
    return failure('KB_ERR_QUOTA_EXCEEDED', `daily limit of ${claim.quota.limit} room calls reached (call ${claim.quota.call} of this KST day); not run`);
  }

  private async callTarget(command: CommandDef, call: Parameters<Target['call']>[0]): Promise<TargetResult> {
    const target = this.d.targets[command.target.type];
    const started = performance.now();
    let result: TargetResult;
    try {
      result = await target.call(call);
    } catch (err) {
      // Targets turn every failure into a result; reaching here is a bug of ours, not the tenant's.
      this.d.logger.error({ eventId: call.eventId, err: String(err) }, 'target call threw');
      result = failure('KB_ERR_INTERNAL', `dispatcher error: ${String(err)}`);
    }
    this.d.metrics.targetCall(command.target.type, result.log.errorCode, (performance.now() - started) / 1000);
    return result;
  }

  /**
   * The API's ingresses (HTTP, the Kakao channel skill) always get an outbox
   * row, so the API can read the outcome when the `dispatch.done` notice was
   * dropped (`GET /messages/:eventId`, a skill call's fallback text).
   */
  private async recordOrFinish(env: Analyze, bot: BotInfo, status: 'no_match' | 'ignored', commandId: string | null = null): Promise<void> {
    if (env.payload.source !== 'http' && env.payload.source !== 'kakao-skill') return this.finish(env, bot.tenantId, status, null);
    const claim = await this.d.outbox.record(this.entry(env, bot, commandId), status);
    if (claim.kind === 'duplicate') return this.finish(env, bot.tenantId, 'duplicate', null);
    if (claim.kind === 'retry') {
      // Our row from an earlier delivery that resolved then; the command is gone now.
      await this.d.outbox.settle(env.id, status);
      return this.finish(env, bot.tenantId, status, null);
    }
    if (claim.kind === 'completed') {
      return this.finish(env, bot.tenantId, claim.status, claim.reply);
    }
    return this.finish(env, bot.tenantId, status, null);
  }

  /** The step's time goes to kb_dispatcher_stage_seconds (what the overhead is made of). */
  private async timed<T>(stage: 'claim' | 'store' | 'reply', step: Promise<T>): Promise<T> {
    const started = performance.now();
    const out = await step;
    this.d.metrics.stage(stage, performance.now() - started);
    return out;
  }

  private unapproved(env: Analyze, kind: 'device' | 'room', status: string): void {
    this.d.metrics.unapproved(kind);
    const e = env.payload;
    this.d.logger.info(
      { eventId: env.id, botId: e.botId, deviceKey: e.deviceKey, channelId: e.channelId, kind, status },
      `command from an unapproved ${kind}: not answered`,
    );
  }

  private entry(env: Analyze, bot: BotInfo, commandId: string | null): OutboxEntry {
    const e = env.payload;
    return {
      eventId: env.id,
      tenantId: bot.tenantId,
      botId: bot.id,
      channelId: e.channelId,
      logId: e.logId,
      commandId,
      source: e.source,
      replyRoute: e.replyRoute,
    };
  }

  /** The event is finished: counted, and announced with the room call it made (`call`), if any. */
  private finish(env: Analyze, tenantId: string | null, status: EventOutcome, reply: ReplyPayload | null, call?: CallLogPayload): void {
    this.d.metrics.event(status);
    this.d.replies.done(env.payload.source, {
      eventId: env.id,
      tenantId,
      botId: env.payload.botId,
      status,
      reply: reply ? { type: reply.type, text: reply.text, ...(reply.rich ? { rich: reply.rich } : {}) } : null,
      ...(call ? { call } : {}),
    });
  }
}
