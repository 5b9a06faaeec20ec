import { randomBytes } from 'node:crypto';
import { assertReplyQueue, names, type BrokerConnection } from '@domaeka/broker';
import { KbError } from '@domaeka/core';
import { withChannel } from '../bus/channels.js';
import { BrokerAdminError, type BrokerAdmin, type RemoveOutcome } from './broker-admin.js';

export interface BrokerUserGrant {
  username: string;
  /** Shown once; calling again rotates it. */
  password: string;
  vhost: string;
  exchange: string;
  routingKey: string;
  replyQueue: string;
}

/** RabbitMQ regexes match names literally only when their dots are escaped. */
const literal = (name: string) => `^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;

/**
 * RabbitMQ users for external bot servers (DESIGN.md section 6): each may
 * only publish to the ingress exchange and read its own reply queue; it can
 * declare nothing. Made through a BrokerAdmin (rabbitmqctl or the management
 * API, broker-admin.ts), deleted with its bot.
 */
export class BrokerUserService {
  constructor(
    private readonly conn: BrokerConnection,
    private readonly prefix: string,
    private readonly admin: BrokerAdmin,
  ) {}

  static usernameFor(botId: string): string {
    return `kb-bot-${botId}`;
  }

  private replyRoute(botId: string): string {
    return `ext.${botId}`;
  }

  async provision(botId: string): Promise<BrokerUserGrant> {
    const n = names(this.prefix);
    // The reply queue exists before the user can read it.
    const replyQueue = await withChannel(this.conn, (ch) => assertReplyQueue(ch, this.prefix, this.replyRoute(botId)));
    const username = BrokerUserService.usernameFor(botId);
    // Hex keeps the password plain text on any line-oriented input and in a URL.
    const password = randomBytes(24).toString('hex');
    try {
      await this.admin.putUser(username, password);
      await this.admin.setPermissions(username, '^$', literal(n.ingress), literal(replyQueue));
    } catch (err) {
      throw toApiError(err);
    }
    return { username, password, vhost: '/', exchange: n.ingress, routingKey: 'analyze', replyQueue };
  }

  /**
   * Deletes the bot's broker user (its permissions go with it) and its reply
   * queue; a user that does not exist counts as deleted, so this is safe to
   * repeat. Any other failure throws KB_ERR_BROKER_ADMIN (503): the caller
   * keeps the bot so the owner can retry, rather than leave a login behind
   * (as AWS IAM refuses to delete a user whose access keys remain).
   */
  async remove(botId: string): Promise<RemoveOutcome> {
    const username = BrokerUserService.usernameFor(botId);
    let outcome: RemoveOutcome;
    try {
      outcome = await this.admin.deleteUser(username);
    } catch (err) {
      if (!(err instanceof BrokerAdminError)) throw err;
      throw new KbError(
        'KB_ERR_BROKER_ADMIN',
        `메시지 브로커에서 이 봇의 사용자를 지우지 못해 봇을 삭제하지 않았습니다. 잠시 후 다시 시도해 주세요 / the bot's broker user could not be deleted, so the bot was kept: retry (${err.detail})`,
        503,
      );
    }
    // Only the user could read it; a queue that is not there is fine (RabbitMQ's delete is idempotent).
    await withChannel(this.conn, (ch) => ch.deleteQueue(names(this.prefix).replyQueue(this.replyRoute(botId))));
    return outcome;
  }
}

function toApiError(err: unknown): unknown {
  return err instanceof BrokerAdminError ? new KbError('KB_ERR_BROKER_ADMIN', err.message, 503) : err;
}
