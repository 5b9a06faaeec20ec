import { renderButtons, type AnswerReplier, type RestAnswer, type TargetResult } from '@domaeka/calls';
import type { Target, TargetCall } from './target.js';

/**
 * A fixed reply (issue 16, item 4): no call, the stored answer with
 * `{sender}`, `{room}` and `{params}` filled from the room message. It goes
 * through the same `AnswerReplier` as an HTTP or sandbox answer, so its
 * image is fetched from its URL through the egress policy, its buttons
 * become `label: url` lines for a phone's room and stay buttons for the
 * Kakao channel (`rich`), and the call is logged and counted like any other.
 */
export class ReplyTarget implements Target {
  constructor(private readonly replier: AnswerReplier) {}

  async call(c: TargetCall): Promise<TargetResult> {
    const target = c.command.target;
    if (target.type !== 'reply') throw new Error('ReplyTarget called for a command of another type');
    const started = performance.now();
    const text = fillPlaceholders(target.text, c);
    const parts = target.buttons.length > 0 || target.imageUrl ? { parts: { text, buttons: target.buttons, imageUrl: target.imageUrl } } : {};
    const full = renderButtons(text, target.buttons);
    const answer: RestAnswer = target.imageUrl ? { kind: 'image', caption: full, url: target.imageUrl, ...parts } : { kind: 'text', text: full, ...parts };
    const log = {
      requestData: JSON.stringify({ command: c.command.command, parameters: c.parameters, sender: c.event.sender, room: c.event.room }),
      responseData: JSON.stringify({ text, imageUrl: target.imageUrl, buttons: target.buttons }),
      statusCode: null,
      responseTimeMs: 0,
      errorCode: null,
      errorMessage: null,
    };
    const result = await this.replier.toReply(answer, log, c.timeoutMs);
    return { ...result, log: { ...result.log, responseTimeMs: Math.round(performance.now() - started) } };
  }
}

const PLACEHOLDER = /\{(sender|room|params)\}/g;
const KAKAO_SENDER = '고객';

/** `{sender}`, `{room}`, `{params}` (the words after the command, or what the pattern captured); other braces stay as written. */
export function fillPlaceholders(text: string, c: Pick<TargetCall, 'parameters'> & { event: Pick<TargetCall['event'], 'sender' | 'room' | 'source'> }): string {
  return text.replace(PLACEHOLDER, (_m, name: string) => {
    // The Kakao channel names its user by an opaque key (userRequest.user.id), never a name: "고객님" reads right.
    if (name === 'sender') return c.event.source === 'kakao-skill' ? KAKAO_SENDER : c.event.sender;
    if (name === 'room') return c.event.room;
    return c.parameters.filter(Boolean).join(' ');
  });
}
