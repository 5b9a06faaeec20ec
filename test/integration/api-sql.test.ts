import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as accounts from '../../services/api/src/accounts/account-repository.js';
import * as apiKeys from '../../services/api/src/accounts/api-key-repository.js';
import * as usage from '../../services/api/src/accounts/usage-repository.js';
import * as attempts from '../../services/api/src/accounts/attempt-store.js';
import * as data from '../../services/api/src/data/data-repository.js';
import * as bridgeLinks from '../../services/api/src/bots/bridge-link-repository.js';
import * as messages from '../../services/api/src/messages/message-repository.js';
import * as logs from '../../services/api/src/logs/log-repository.js';
import * as kakao from '../../services/api/src/kakao/kakao-repository.js';
import * as deadLetters from '../../services/api/src/ops/dead-letter-repository.js';
import * as admin from '../../services/api/src/ops/admin-repository.js';
import * as onboarding from '../../services/api/src/onboarding/onboarding-repository.js';
import * as runLimits from '../../services/api/src/runs/run-limits.js';
import * as runs from '../../services/api/src/runs/run-repository.js';
import * as schedules from '../../services/api/src/schedules/schedule-repository.js';
import { migratedDatabase, prepareAll } from '../support/prepare-sql.js';

// Every raw SQL statement the API runs (through MikroORM's `execute`), from
// the repositories that run it. The entity test checks only what MikroORM
// builds itself; a migration that renamed a column one of these reads
// would otherwise show only when the route is called.
const STATEMENTS: Record<string, string> = {
  'accounts SIGNUP_LOCK_SQL': accounts.SIGNUP_LOCK_SQL,
  'accounts END_SESSION_SQL': accounts.END_SESSION_SQL,
  'accounts SESSION_CALLER_SQL': accounts.SESSION_CALLER_SQL,
  'api keys KEY_CALLER_SQL': apiKeys.KEY_CALLER_SQL,
  'api keys TOUCH_KEY_SQL': apiKeys.TOUCH_KEY_SQL,
  'usage COUNT_TEST_RUN_SQL': usage.COUNT_TEST_RUN_SQL,
  'usage PLAN_LIMITS_SQL': usage.PLAN_LIMITS_SQL,
  'usage USAGE_DAYS_SQL': usage.USAGE_DAYS_SQL,
  'attempts ADD_ATTEMPTS_SQL': attempts.ADD_ATTEMPTS_SQL,
  'attempts WITHDRAW_ATTEMPTS_SQL': attempts.WITHDRAW_ATTEMPTS_SQL,
  'attempts CLEAR_ATTEMPTS_SQL': attempts.CLEAR_ATTEMPTS_SQL,
  'attempts PURGE_ATTEMPTS_SQL': attempts.PURGE_ATTEMPTS_SQL,
  'bridge links SPEND_LINK_SQL': bridgeLinks.SPEND_LINK_SQL,
  'messages OUTCOME_SQL': messages.OUTCOME_SQL,
  'logs COMMAND_SQL': logs.COMMAND_SQL,
  'logs TOTALS_SQL': logs.TOTALS_SQL,
  'kakao SKILL_BOT_SQL': kakao.SKILL_BOT_SQL,
  'kakao COMMANDS_SQL': kakao.COMMANDS_SQL,
  'kakao OUTCOME_SQL': kakao.OUTCOME_SQL,
  'kakao CHANNEL_SQL': kakao.CHANNEL_SQL,
  'kakao FIRST_KEY_SQL': kakao.FIRST_KEY_SQL,
  'kakao ROTATE_KEY_SQL': kakao.ROTATE_KEY_SQL,
  'kakao FALLBACK_SQL': kakao.FALLBACK_SQL,
  'logs SERIES_SQL': logs.SERIES_SQL,
  'logs ALL_COMMANDS_SQL': logs.ALL_COMMANDS_SQL,
  'dead letters INSERT_DEAD_LETTER_SQL': deadLetters.INSERT_DEAD_LETTER_SQL,
  'dead letters DEAD_LETTER_COUNTS_SQL': deadLetters.DEAD_LETTER_COUNTS_SQL,
  'admin CALLS_SQL': admin.CALLS_SQL,
  'admin TOP_COMMANDS_SQL': admin.TOP_COMMANDS_SQL,
  'admin REPLY_ROUTES_SQL': admin.REPLY_ROUTES_SQL,
  'admin ALL_TENANTS_SQL': admin.ALL_TENANTS_SQL,
  'admin ONE_TENANT_SQL': admin.ONE_TENANT_SQL,
  'admin THROTTLE_SINCE_SQL': admin.THROTTLE_SINCE_SQL,
  'admin THROTTLED_SQL': admin.THROTTLED_SQL,
  'admin TENANT_NAMES_SQL': admin.TENANT_NAMES_SQL,
  'onboarding ONBOARDING_SQL': onboarding.ONBOARDING_SQL,
  'run limits TENANT_RUNS_LOCK_SQL': runLimits.TENANT_RUNS_LOCK_SQL,
  'run limits LOAD_SQL': runLimits.LOAD_SQL,
  'run limits WINDOW_WAIT_SQL': runLimits.WINDOW_WAIT_SQL,
  'run limits SLOT_WAIT_SQL': runLimits.SLOT_WAIT_SQL,
  'run limits THROTTLE_SQL': runLimits.THROTTLE_SQL,
  'run limits INSERT_SQL': runLimits.INSERT_SQL,
  'runs SWEEP_SQL': runs.SWEEP_SQL,
  'runs PURGE_THROTTLE_SQL': runs.PURGE_THROTTLE_SQL,
  'schedules LIST_SQL': schedules.LIST_SQL,
  'schedules ONE_SQL': schedules.ONE_SQL,
  'schedules COUNT_SQL': schedules.COUNT_SQL,
  'schedules COMMAND_SQL': schedules.COMMAND_SQL,
  'schedules ROOMS_SQL': schedules.ROOMS_SQL,
  'schedules CHOICES_SQL': schedules.CHOICES_SQL,
  'schedules INSERT_SQL': schedules.INSERT_SQL,
  'schedules UPDATE_SQL': schedules.UPDATE_SQL,
  'schedules DELETE_SQL': schedules.DELETE_SQL,
  'schedules FIRES_SQL': schedules.FIRES_SQL,
  'data LIMITS_SQL': data.LIMITS_SQL,
  'data SET_SQL': data.SET_SQL,
  'data DELETE_SQL': data.DELETE_SQL,
  'data LIST_SQL': data.LIST_SQL,
  'data USAGE_SQL': data.USAGE_SQL,
};

const API_SRC = join(import.meta.dirname, '../../services/api/src');

/** Every `export const X_SQL` of the API's source (tests aside), as `path X_SQL` with its text. */
async function exportedStatements(): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const file of await readdir(API_SRC, { recursive: true })) {
    if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
    const names = [...(await readFile(join(API_SRC, file), 'utf8')).matchAll(/^export const (\w+_SQL)\b/gm)].map((m) => m[1]!);
    if (names.length === 0) continue;
    const mod = (await import(join(API_SRC, file))) as Record<string, unknown>;
    for (const name of names) found.set(`${relative(API_SRC, join(API_SRC, file))} ${name}`, String(mod[name]));
  }
  return found;
}

describe('the API raw SQL against the migrated schema', () => {
  const db = migratedDatabase('apisql');

  it('prepares every statement', async () => {
    const names = Object.keys(STATEMENTS);
    expect(names).toHaveLength(59);
    for (const name of names) expect(STATEMENTS[name], name).toMatch(/\b(select|insert|update|delete)\b/i);
    const failed = await prepareAll(db.client(), STATEMENTS);
    expect(Object.fromEntries(failed)).toEqual({});
  });

  it('lists every statement the API exports (a new one must be added above)', async () => {
    const listed = new Set(Object.values(STATEMENTS));
    const missing = [...(await exportedStatements())].filter(([, sql]) => !listed.has(sql)).map(([where]) => where);
    expect(missing).toEqual([]);
  });

  it('fails the statements a renamed column breaks, and only those', async () => {
    // What a careless migration would do; this database is this file's own clone.
    await db.client().query('alter table kb_usage_daily rename column test_runs to test_runs_x');
    await db.client().query('alter table kb_dead_letters rename column detail to detail_x');
    const failed = await prepareAll(db.client(), STATEMENTS);
    expect([...failed.keys()].sort()).toEqual([
      'admin ALL_TENANTS_SQL',
      'admin ONE_TENANT_SQL',
      'dead letters INSERT_DEAD_LETTER_SQL',
      'usage COUNT_TEST_RUN_SQL',
      'usage USAGE_DAYS_SQL',
    ]);
    // 42703 undefined_column: the failure names what the migration broke.
    for (const reason of failed.values()) expect(reason).toMatch(/^42703: column .*(test_runs|detail)/);
  });
});
