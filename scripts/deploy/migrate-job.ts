/**
 * The `migrate` image's job (compose: the services start once it exits 0):
 * the database made if missing, the migrations applied, then the password
 * of the tenant-statement login `kb_data_gateway` (made without one by
 * migration 20261208000150) set from RUNNER_TABLES_DATABASE_URL, so the
 * runner can log in as it. One source for that password: the URL the runner
 * uses. Run again, it changes nothing but the password (kept in step with
 * the env file).
 */
import pg from 'pg';
import { ensureDatabase, parseCoreConfig } from '@domaeka/core';
import { migrate } from '../../migrations/migrate.js';

const GATEWAY_ROLE = 'kb_data_gateway';

const cfg = parseCoreConfig();
if (await ensureDatabase(cfg.databaseUrl)) console.log('데이터베이스를 만들었습니다 / created the database');
const applied = await migrate(cfg.databaseUrl);
console.log(applied.length ? `마이그레이션 / applied: ${applied.join(', ')}` : '스키마 최신 / schema up to date');

const tablesUrl = (process.env.RUNNER_TABLES_DATABASE_URL ?? '').trim();
if (tablesUrl) {
  const url = new URL(tablesUrl);
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  if (user !== GATEWAY_ROLE) throw new Error(`RUNNER_TABLES_DATABASE_URL must log in as ${GATEWAY_ROLE}, not "${user}"`);
  if (password.length < 16) throw new Error(`RUNNER_TABLES_DATABASE_URL: give ${GATEWAY_ROLE} a password of at least 16 characters`);
  const client = new pg.Client({ connectionString: cfg.databaseUrl });
  await client.connect();
  try {
    // ALTER ROLE takes no bind parameters; the literal is escaped by the driver.
    await client.query(`alter role ${GATEWAY_ROLE} with login password ${client.escapeLiteral(password)}`);
  } finally {
    await client.end();
  }
  console.log(`${GATEWAY_ROLE} 비밀번호 설정 / password set (RUNNER_TABLES_DATABASE_URL)`);
}
