import type { AnalyzePayload } from '@domaeka/broker';
import { restRequestBody, type TargetResult } from '@domaeka/calls';
import type { PlanLimits } from '../bots/bot-context.js';
import type { CommandDef } from '../commands/command-cache.js';
import type { TenantSecrets } from '../secrets/secret-cache.js';

// What a call gives (reply + log row fields) is @domaeka/calls', shared with the API's test call.

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
  /** What the room reads when the tenant's code fails (`failureReplyFor`); null: the platform's default. */
  errorReply: string | null;
  /** Set when a schedule fired this call (no chat message): the target reads it as `metadata.schedule`. */
  schedule?: { id: string; fireAt: string; label: string };
}

export interface Target {
  call(call: TargetCall): Promise<TargetResult>;
}

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
    ...(e.kakao ? { kakao: e.kakao } : {}),
    ...(c.schedule ? { schedule: c.schedule } : {}),
  });
}
