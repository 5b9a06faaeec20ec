import type { ErrorReplyView } from '@domaeka/broker/contracts';
import { ERROR_REPLY_MAX_CHARS, invisibleIn, roomMessageFor } from '@domaeka/core';
import { Tenant } from '../db/entities/index.js';
import type { Caller } from './caller.js';
import type { ChangeNotifier } from '../bus/change-notifier.js';
import type { Orm } from '../db/em.js';
import { apiErrors } from '../errors.js';

/**
 * The tenant's own words for a room when its command's code fails
 * (`tenants.error_reply`; CODE_ERRORS in services/core/src/errors.ts say
 * which failures). The room never reads a line number or a traceback: the
 * editor and the logs keep those. A save tells the dispatcher, which reads
 * it with the bot (`changed` {entity:'bot'}, every bot of the tenant).
 */
export class ErrorReplyService {
  constructor(
    private readonly orm: Orm,
    private readonly notifier: ChangeNotifier,
  ) {}

  async view(caller: Caller): Promise<ErrorReplyView> {
    const tenant = await this.orm.em.fork().findOneOrFail(Tenant, { id: caller.tenantId });
    return viewOf(tenant.errorReply);
  }

  /** Empty or only spaces: back to the default. */
  async set(caller: Caller, text: string | null): Promise<ErrorReplyView> {
    const errorReply = checkErrorReply(text);
    await this.orm.em.fork().nativeUpdate(Tenant, { id: caller.tenantId }, { errorReply });
    this.notifier.changed('bot', caller.tenantId, null);
    return viewOf(errorReply);
  }
}

/** The text as stored: trimmed, null when empty; 400 KB_ERR_VALIDATION when too long or holding control characters. */
export function checkErrorReply(text: string | null): string | null {
  const t = (text ?? '').replace(/\r\n?/g, '\n').trim();
  if (!t) return null;
  if ([...t].length > ERROR_REPLY_MAX_CHARS) {
    throw apiErrors.validation(`안내 문장은 ${ERROR_REPLY_MAX_CHARS}자까지입니다 / the error reply is longer than ${ERROR_REPLY_MAX_CHARS} characters`);
  }
  // Line breaks are fine; control, bidi and zero-width characters would reach a chat room as they are (emoji joiners are kept).
  const invisible = t.split('\n').map(invisibleIn).find((c) => c !== null);
  if (invisible) {
    throw apiErrors.validation(`안내 문장에 보이지 않는 문자나 제어 문자(${invisible})는 쓸 수 없습니다 / the error reply holds a control or invisible character (${invisible})`);
  }
  return t;
}

function viewOf(errorReply: string | null): ErrorReplyView {
  return { errorReply, defaultReply: roomMessageFor('KB_ERR_USER_EXCEPTION'), maxChars: ERROR_REPLY_MAX_CHARS };
}
