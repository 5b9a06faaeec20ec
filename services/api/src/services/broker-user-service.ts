import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { assertReplyQueue, names, type BrokerConnection } from '@domaeka/broker';
import { KbError } from '@domaeka/core';

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
 * declare nothing. Created with `rabbitmqctl` (RABBITMQCTL overrides the path).
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

  async provision(botId: string): Promise<BrokerUserGrant> {
    const n = names(this.prefix);
    const route = `ext.${botId}`;
    // The reply queue exists before the user can read it.
    const ch = await this.conn.createChannel();
    let replyQueue: string;
    try {
      replyQueue = await assertReplyQueue(ch, this.prefix, route);
    } finally {
      await ch.close().catch(() => undefined);
    }
    const username = BrokerUserService.usernameFor(botId);
    // Hex, not base64url: rabbitmqctl reads an argument starting with '-' as an option (1 password in 64 did; found by CI).
    const password = randomBytes(24).toString('hex');
    const added = await this.ctl(['add_user', username, password]).then(
      () => true,
      (err: Error) => {
        if (/already exists|user_already_exists/i.test(err.message)) return false;
        throw err;
      },
    );
    if (!added) await this.ctl(['change_password', username, password]);
    await this.ctl(['set_permissions', '-p', '/', username, '^$', literal(n.ingress), literal(replyQueue)]);
    return { username, password, vhost: '/', exchange: n.ingress, routingKey: 'analyze', replyQueue };
  }

  async remove(botId: string): Promise<void> {
    await this.ctl(['delete_user', BrokerUserService.usernameFor(botId)]).catch(() => undefined);
  }

  private ctl(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(this.rabbitmqctl, ['-q', ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
        if (err) {
          // Never echo the arguments: one of them is the password.
          reject(
            new KbError('KB_ERR_BROKER_ADMIN', `rabbitmqctl ${args[0]} failed: ${String(stderr || err.message).trim().slice(0, 300)}`, 503),
          );
          return;
        }
        resolve(stdout);
      });
    });
  }
}
