import type { OutgoingMessage, ReplyPayload } from '@domaeka/broker';
import { roomMessageFor } from '@domaeka/core';

/** What the room gets (the reply payload minus its addressing), with the answer's parts for channels that draw them (`rich`). */
export type ReplyContent = Pick<ReplyPayload, 'type' | 'text' | 'media' | 'rich'>;

/** The call's part of the kb_api_logs row (the editor's test call shows the same fields). */
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
  /** Sandbox code's `send(room, text)` messages of a call that ended well, delivered after the reply (services/dispatcher/src/sends). */
  sends?: OutgoingMessage[];
}

const ERROR_MESSAGE_MAX = 1000;

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
