import { createLogger, parseCoreConfig } from '@domaeka/core';
import { openOrm } from './db/orm.js';
import { Bot } from './db/entities/index.js';
import { connectBroker } from '@domaeka/broker';
import { AccountService } from './accounts/account-service.js';
import { BrokerUserService } from './bots/broker-user-service.js';
import { brokerAdminFrom } from './bots/broker-admin.js';
import { parseBrokerAdminConfig } from './config.js';
import { ChangeNotifier } from './bus/change-notifier.js';
import { SESSION_TTL_MS } from './config.js';

/**
 * Operator commands:
 *   npm run cli -- admin <email>              make an existing account an administrator
 *   npm run cli -- bot-server-user <botName>  RabbitMQ credentials for an external bot server
 *   npm run cli -- plan <email> <planId>      move that account's tenant to a plan (free, premium)
 */
const [command, ...args] = process.argv.slice(2);
const usage = 'usage: npm run cli -- admin <email> | bot-server-user <botName> | plan <email> <planId>';

async function admin(email: string): Promise<number> {
  const config = parseCoreConfig();
  const orm = await openOrm(config.databaseUrl);
  try {
    const ok = await new AccountService(orm, SESSION_TTL_MS).promoteAdmin(email);
    if (!ok) {
      console.error(`계정을 찾을 수 없습니다 / no account with email ${email}`);
      return 1;
    }
    console.log(`관리자로 지정했습니다 / ${email} is now an admin`);
    return 0;
  } finally {
    await orm.close(true);
  }
}

async function botServerUser(botName: string): Promise<number> {
  const config = parseCoreConfig();
  const orm = await openOrm(config.databaseUrl);
  try {
    const bot = await orm.em.fork().findOne(Bot, { name: botName });
    if (!bot) {
      console.error(`봇을 찾을 수 없습니다 / no bot named ${botName}`);
      return 1;
    }
    const logger = createLogger('cli', 'warn');
    const { conn } = await connectBroker({ url: config.amqpUrl, prefix: config.brokerPrefix, name: 'cli', logger });
    try {
      const grant = await new BrokerUserService(conn, config.brokerPrefix, brokerAdminFrom(parseBrokerAdminConfig())).provision(bot.id);
      console.log(JSON.stringify(grant, null, 2));
      console.log('비밀번호는 지금만 표시됩니다 / the password is shown only now (run again to rotate it)');
      return 0;
    } finally {
      await conn.close();
    }
  } finally {
    await orm.close(true);
  }
}

async function plan(email: string, planId: string): Promise<number> {
  const config = parseCoreConfig();
  const orm = await openOrm(config.databaseUrl);
  try {
    const r = await new AccountService(orm, SESSION_TTL_MS).setPlanByEmail(email, planId);
    if ('missing' in r) {
      console.error(r.missing === 'account' ? `계정을 찾을 수 없습니다 / no account with email ${email}` : `요금제를 찾을 수 없습니다 / no plan ${planId}`);
      return 1;
    }
    const logger = createLogger('cli', 'warn');
    const { conn, publisher } = await connectBroker({ url: config.amqpUrl, prefix: config.brokerPrefix, name: 'cli', logger });
    try {
      // The dispatcher's bot cache holds the plan: the next call must see the new one.
      new ChangeNotifier(publisher).changed('bot', r.tenantId, null);
      await conn.confirmChannel()?.waitForConfirms();
    } finally {
      await conn.close();
    }
    console.log(`요금제를 ${planId}(으)로 바꿨습니다 / ${email}'s tenant is now on ${planId}`);
    return 0;
  } finally {
    await orm.close(true);
  }
}

async function main(): Promise<number> {
  if (command === 'admin' && args.length === 1) return admin(args[0]!);
  if (command === 'bot-server-user' && args.length === 1) return botServerUser(args[0]!);
  if (command === 'plan' && args.length === 2) return plan(args[0]!, args[1]!);
  console.error(usage);
  return 2;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(String(err));
    process.exit(1);
  },
);
