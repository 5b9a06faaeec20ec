import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { assertReplyQueue, names, type BrokerConnection } from '@domaeka/broker';
import { KbError } from '@domaeka/core';
import { withChannel } from '../bus/channels.js';

export interface BrokerUserGrant {
  username: string;
  /** Shown once; calling again rotates it. */
  password: string;
  vhost: string;
  exchange: string;
  routingKey: string;
  replyQueue: string;
}

/** One `rabbitmqctl` step of a bot server user's life. */
export type CtlStep =
  | { op: 'add_user' | 'change_password'; username: string; password: string }
  | { op: 'set_permissions'; username: string; configure: string; write: string; read: string }
  | { op: 'delete_user'; username: string };

/**
 * The argv and standard input of a step. A password never goes in argv:
 * every local user reads argv in `ps` and /proc/<pid>/cmdline (rabbitmqctl's
 * wrapper scripts pass it down to `su`, `erl` and `beam.smp`, each listing it).
 * `rabbitmqctl add_user <name>` and `change_password <name>` read the
 * password from standard input when the argument is left out: RabbitMQ's
 * own answer to process-list eavesdropping (rabbitmq-cli issue #365; checked
 * here on 3.10.8), as `chpasswd` keeps passwords off the command line.
 */
export function rabbitmqctlCommand(step: CtlStep): { args: string[]; stdin: string } {
  switch (step.op) {
    case 'add_user':
    case 'change_password':
      return { args: ['-q', step.op, step.username], stdin: `${step.password}\n` };
    case 'set_permissions':
      return { args: ['-q', 'set_permissions', '-p', '/', step.username, step.configure, step.write, step.read], stdin: '' };
    case 'delete_user':
      return { args: ['-q', 'delete_user', step.username], stdin: '' };
  }
}

/** What `remove` did: `unmanaged` when no rabbitmqctl is installed here (then no user was made from here either). */
export type RemoveOutcome = 'removed' | 'absent' | 'unmanaged';

/** RabbitMQ regexes match names literally only when their dots are escaped. */
const literal = (name: string) => `^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;

class CtlError extends Error {
  constructor(
    readonly op: string,
    readonly detail: string,
    readonly missing: boolean,
  ) {
    super(`rabbitmqctl ${op} failed: ${detail}`);
  }
}

/**
 * RabbitMQ users for external bot servers (DESIGN.md section 6): each may
 * only publish to the ingress exchange and read its own reply queue; it can
 * declare nothing. Created with `rabbitmqctl` (RABBITMQCTL overrides the path),
 * deleted with its bot.
 */
export class BrokerUserService {
  constructor(
    private readonly conn: BrokerConnection,
    private readonly prefix: string,
    private readonly rabbitmqctl = process.env.RABBITMQCTL || 'rabbitmqctl',
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
    const added = await this.ctl({ op: 'add_user', username, password }).then(
      () => true,
      (err: unknown) => {
        if (err instanceof CtlError && /already exists|user_already_exists/i.test(err.detail)) return false;
        throw toApiError(err);
      },
    );
    try {
      if (!added) await this.ctl({ op: 'change_password', username, password });
      await this.ctl({ op: 'set_permissions', username, configure: '^$', write: literal(n.ingress), read: literal(replyQueue) });
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
      await this.ctl({ op: 'delete_user', username });
      outcome = 'removed';
    } catch (err) {
      if (!(err instanceof CtlError)) throw err;
      if (err.missing) outcome = 'unmanaged';
      else if (/does not exist|no_such_user/i.test(err.detail)) outcome = 'absent';
      else
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

  private ctl(step: CtlStep): Promise<string> {
    const { args, stdin } = rabbitmqctlCommand(step);
    return new Promise((resolve, reject) => {
      const child = execFile(this.rabbitmqctl, args, { timeout: 30_000 }, (err, stdout, stderr) => {
        if (err) {
          const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
          reject(new CtlError(step.op, String(stderr || err.message).trim().slice(0, 300), missing));
          return;
        }
        resolve(stdout);
      });
      // A command that reads nothing gets end-of-file at once; one that exits early must not crash us with EPIPE.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(stdin);
    });
  }
}

function toApiError(err: unknown): unknown {
  return err instanceof CtlError ? new KbError('KB_ERR_BROKER_ADMIN', err.message, 503) : err;
}
