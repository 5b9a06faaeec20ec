import { openOrm, parseCoreConfig } from '@domaeka/core';
import { AccountService } from './services/account-service.js';
import { SESSION_TTL_MS } from './config.js';

/**
 * Operator commands. `npm run cli -- admin <email>` makes an existing
 * account an administrator.
 */
const [command, ...args] = process.argv.slice(2);
const usage = 'usage: npm run cli -- admin <email>';

async function main(): Promise<number> {
  if (command !== 'admin' || args.length !== 1) {
    console.error(usage);
    return 2;
  }
  const email = args[0]!;
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

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(String(err));
    process.exit(1);
  },
);
