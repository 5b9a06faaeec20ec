import type { AnalyzePayload, ReplyPayload } from '@domaeka/broker';
import { roomMessageFor } from '@domaeka/core';
import { restRequestBody } from '@domaeka/calls';
import type { PlanLimits } from '../bots/bot-context.js';
import type { CommandDef } from '../commands/command-cache.js';
import type { TenantSecrets } from '../secrets/secret-cache.js';

/** What the room gets (the reply payload minus its addressing). */
export type ReplyContent = Pick<ReplyPayload, 'type' | 'text' | 'media'>;

export interface TargetCall {
  eventId: string;
  /** Envelope time, used when the phone did not say when it saw the message. */
  occurredAt: string;
  event: AnalyzePayload;
  command: CommandDef;
  parameters: string[];
  /** The command's timeout capped by the plan's maximum. */
  timeoutMs: number;
  /** The tenant's plan: a sandbox run gets its limits. */
  plan: PlanLimits;
  /** The tenant's secrets: `os.environ` of its code, `{{secret:NAME}}` in its HTTP headers. Never logged. */
  secrets: TenantSecrets;
  /** The tenant's egress domain allowlist when its plan allows egress (sandbox code only); null: no network. */
  egress: readonly string[] | null;
}

/** The call's part of the kb_api_logs row. */
export interface CallLog {
  requestData: string | null;
  responseData: string | null;
  statusCode: number | null;
  responseTimeMs: number;
  errorCode: string | null;
  errorMessage: string | null;
}

export interface TargetResult {
  /** null: the target chose to say nothing (empty answer). */
  reply: ReplyContent | null;
  log: CallLog;
}

export interface Target {
  call(call: TargetCall): Promise<TargetResult>;
}

const ERROR_MESSAGE_MAX = 1000;


/** The seed's REST standard request (also what a sandbox would receive). */
export function restRequest(c: TargetCall): Record<string, unknown> {
  const e = c.event;
  return restRequestBody({
    command: c.command.command,
    parameters: c.parameters,
    text: e.text,
    sender: e.sender,
    room: e.room,
    channelId: e.channelId,
    timestamp: e.sentAt ?? c.occurredAt,
    deviceKey: e.deviceKey,
    botName: e.botName,
    eventId: c.eventId,
  });
}

export function textReply(text: string): ReplyContent {
  return { type: 'text', text, media: [] };
}

/** A failed call: the room gets the short Korean text of the code, the log row the details. */
export function failure(code: string, message: string, log: Partial<CallLog> = {}): TargetResult {
  return {
    reply: textReply(roomMessageFor(code)),
    log: {
      requestData: null,
      responseData: null,
      statusCode: null,
      responseTimeMs: 0,
      ...log,
      errorCode: code,
      errorMessage: message.slice(0, ERROR_MESSAGE_MAX),
    },
  };
}
