import type { AnalyzePayload, DispatchDonePayload } from '@domaeka/broker';
import { CommandSet } from '@domaeka/calls';
import { storableText, type Logger } from '@domaeka/core';
import { sha256Hex } from '../accounts/tokens.js';
import { WAIT_MARGIN_MS, type MessageService } from '../messages/message-service.js';
import { SKILL_KEY } from './kakao-channel-service.js';
import type { KakaoRepository, SkillBot } from './kakao-repository.js';
import type { KakaoMetrics, SkillCallbacks } from './skill-callbacks.js';
import { readSkillPayload, type SkillPayload, type SkillUtterance } from './skill-payload.js';
import { KAKAO_TEXTS, callbackAck, replyResponse, textResponse, type CallbackAck, type SkillReply, type SkillResponse } from './skill-response.js';

/**
 * Kakao waits 5 s for a skill's answer (its "skill timeout"), and a
 * callback URL is good for one POST within a minute of the call (the AI
 * chatbot callback guide).
 */
export interface SkillTiming {
  /** How long a call waits for the dispatcher before answering otherwise: under Kakao's 5 s, with room for the network. */
  answerByMs: number;
  /** A command allowed more than this (its timeout, capped by the plan) answers by callback at once, when the block has one. */
  longCommandMs: number;
  /** The final answer is POSTed by this long after the call came in (the URL's minute, with room to spare). */
  callbackWithinMs: number;
}

export const SKILL_TIMING: SkillTiming = { answerByMs: 3800, longCommandMs: 5000, callbackWithinMs: 55_000 };

export interface SkillDeps {
  repo: Pick<KakaoRepository, 'botBySkillKey' | 'commands' | 'outcome'>;
  messages: Pick<MessageService, 'dispatch'>;
  callbacks: Pick<SkillCallbacks, 'send'>;
  metrics: KakaoMetrics;
  logger: Logger;
  timing?: Partial<SkillTiming>;
}

type Outcome = { status: DispatchDonePayload['status'] | 'pending'; reply: SkillReply | null };

/**
 * `POST /kakao/skill/:skillKey`: an utterance on the tenant's official
 * KakaoTalk channel goes the way every message goes, as an analyze event
 * (source `kakao-skill`) through `MessageService.dispatch`, matched by the
 * dispatcher against the tenant's commands, counted against its plan and
 * logged; the `dispatch.done` notice (or, when that was dropped, the outbox)
 * gives the answer, which becomes a SkillResponse. An answer not ready in
 * time goes by the block's callback URL.
 */
export class KakaoSkillService {
  private readonly timing: SkillTiming;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly d: SkillDeps) {
    this.timing = { ...SKILL_TIMING, ...d.timing };
  }

  /** Null: no bot has this key (the route answers as for a path that does not exist). */
  async answer(skillKey: string, body: SkillPayload): Promise<SkillResponse | CallbackAck | null> {
    const started = Date.now();
    const bot = SKILL_KEY.test(skillKey) ? await this.d.repo.botBySkillKey(sha256Hex(skillKey)) : null;
    if (!bot) {
      this.d.metrics.call('unknown_key');
      return null;
    }
    const u = readSkillPayload(body);
    try {
      return await this.dispatch(bot, u, started);
    } catch (err) {
      // The broker or the database is away: the channel user still gets a polite word, not an error page.
      this.d.metrics.call('error');
      this.d.logger.error({ botId: bot.id, err: String(err) }, 'Kakao skill call failed before the dispatcher had it');
      return textResponse(KAKAO_TEXTS.error);
    }
  }

  /** Resolves when every callback still being prepared or sent is done (stopping). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private async dispatch(bot: SkillBot, u: SkillUtterance, started: number): Promise<SkillResponse | CallbackAck> {
    // Only with a callback URL does the guess change anything.
    const long = u.callbackUrl !== null && (await this.mayTakeLong(bot, u.text));
    const waitMs = Math.min(bot.timeoutMaxMs + WAIT_MARGIN_MS, this.timing.callbackWithinMs);
    const { eventId, done } = await this.d.messages.dispatch(bot.tenantId, analyzeOf(bot, u), waitMs);
    const fallback = bot.fallbackText ?? KAKAO_TEXTS.fallback;
    if (u.callbackUrl !== null && long) return this.byCallback(bot, eventId, done!, u.callbackUrl, started + this.timing.callbackWithinMs, fallback);

    const notice = await withinOrLate(done!, started + this.timing.answerByMs - Date.now());
    if (notice !== 'late') {
      const outcome = await this.outcome(bot, eventId, notice);
      if (outcome.status !== 'pending') {
        this.d.metrics.call('answered');
        return responseFor(outcome, fallback);
      }
    }
    if (u.callbackUrl !== null) return this.byCallback(bot, eventId, done!, u.callbackUrl, started + this.timing.callbackWithinMs, fallback);
    // No callback option on the block: the command still runs and is logged, the user hears it is taking long.
    this.d.metrics.call('late');
    this.d.logger.info({ eventId, botId: bot.id }, 'Kakao skill call not answered in time and its block has no callback: told it takes long');
    return textResponse(KAKAO_TEXTS.late);
  }

  /** Answers "잠시만요" now; the final answer is POSTed to the callback URL once the dispatcher is done (or has given up). */
  private byCallback(bot: SkillBot, eventId: string, done: Promise<DispatchDonePayload | null>, url: string, deadline: number, fallback: string): CallbackAck {
    this.d.metrics.call('callback');
    const task = (async () => {
      const outcome = await this.outcome(bot, eventId, await done);
      await this.d.callbacks.send(url, responseFor(outcome, fallback), deadline, { eventId, botId: bot.id });
    })()
      .catch((err) => this.d.logger.error({ eventId, botId: bot.id, err: String(err) }, 'Kakao callback could not be prepared'))
      .finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
    return callbackAck(KAKAO_TEXTS.wait);
  }

  /** The notice, or when it did not come (droppable telemetry), what the outbox says. */
  private async outcome(bot: SkillBot, eventId: string, notice: DispatchDonePayload | null): Promise<Outcome> {
    if (notice) return { status: notice.status, reply: notice.reply };
    const row = await this.d.repo.outcome(bot.tenantId, eventId);
    if (!row) return { status: 'pending', reply: null };
    const r = row.reply;
    const reply = r && typeof r.text === 'string' ? { type: typeof r.type === 'string' ? r.type : 'text', text: r.text, ...(r.rich ? { rich: r.rich as SkillReply['rich'] } : {}) } : null;
    return { status: row.status, reply };
  }

  /** Whether the command this utterance will likely resolve to may run longer than Kakao waits (the dispatcher decides for real). */
  private async mayTakeLong(bot: SkillBot, text: string): Promise<boolean> {
    const rows = await this.d.repo.commands(bot.tenantId);
    const set = new CommandSet(rows.map((r) => ({ id: r.id, command: r.command, pattern: r.pattern, createdAt: r.created_ms, timeout: r.timeout })));
    const hit = set.resolve(text);
    return hit !== null && Math.min(hit.command.timeout, bot.timeoutMaxMs) > this.timing.longCommandMs;
  }
}

/** The analyze event of an utterance: the Kakao user is the sender, the channel the room. */
function analyzeOf(bot: SkillBot, u: SkillUtterance): AnalyzePayload {
  return {
    source: 'kakao-skill',
    botId: bot.id,
    botName: bot.name,
    deviceId: null,
    deviceKey: null,
    room: storableText(u.room),
    channelId: u.channelId,
    sender: storableText(u.sender),
    senderHash: u.senderHash,
    text: storableText(u.text),
    // A channel chat is one user talking to the business.
    isGroupChat: false,
    isMention: false,
    logId: null,
    sentAt: null,
    replyRoute: null,
    kakao: u.kakao,
  };
}

function responseFor(o: Outcome, fallback: string): SkillResponse {
  switch (o.status) {
    case 'replied':
      // A command that chose to say nothing: the channel cannot stay silent.
      return o.reply ? replyResponse(o.reply) : textResponse(fallback);
    case 'no_match':
      return textResponse(fallback);
    case 'ignored':
      return textResponse(KAKAO_TEXTS.ignored);
    default:
      return textResponse(KAKAO_TEXTS.error);
  }
}

/** The promise's value if it settles within `ms`, else 'late' (the promise goes on). */
async function withinOrLate<T>(p: Promise<T>, ms: number): Promise<T | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), Math.max(0, ms));
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
