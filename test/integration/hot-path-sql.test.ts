import { describe, expect, it } from 'vitest';
import * as deviceStore from '../../services/gateway/src/devices/device-store.js';
import * as botDirectory from '../../services/gateway/src/bots/bot-directory.js';
import * as botContext from '../../services/dispatcher/src/bots/bot-context.js';
import * as outbox from '../../services/dispatcher/src/outbox/outbox-store.js';
import * as retention from '../../services/dispatcher/src/retention/retention-job.js';
import * as secretCache from '../../services/dispatcher/src/secrets/secret-cache.js';
import * as egressCache from '../../services/dispatcher/src/egress/egress-cache.js';
import * as commandCache from '../../services/dispatcher/src/commands/command-cache.js';
import * as store from '../../services/runner/src/store/store-database.js';
import * as scheduleRooms from '../../services/dispatcher/src/schedules/schedule-rooms.js';
import * as fireStore from '../../services/scheduler/src/fires/fire-store.js';
import * as sendDelivery from '../../services/dispatcher/src/sends/send-delivery.js';
import { migratedDatabase, prepareAll } from '../support/prepare-sql.js';

// The raw SQL the gateway, the dispatcher and the runner (the store) send through pg, beside the
// entities that describe the same tables. Only the entities are checked by
// the migration tests, so a migration that renames a column one of these
// reads would only show up in a room; here it fails CI instead.
const STATEMENTS: Record<string, string> = {
  'gateway devices FIND_SQL': deviceStore.FIND_SQL,
  'gateway devices UPSERT_SQL': deviceStore.UPSERT_SQL,
  'gateway devices STATS_SQL': deviceStore.STATS_SQL,
  'gateway bots LOAD_SQL': botDirectory.LOAD_SQL,
  'dispatcher bot-context BOT_SQL': botContext.BOT_SQL,
  'dispatcher bot-context DEVICE_SQL': botContext.DEVICE_SQL,
  'dispatcher bot-context ROOM_SQL': botContext.ROOM_SQL,
  'dispatcher outbox INSERT_SQL': outbox.INSERT_SQL,
  'dispatcher outbox EXISTING_SQL': outbox.EXISTING_SQL,
  'dispatcher outbox SETTLE_SQL': outbox.SETTLE_SQL,
  'dispatcher outbox COMPLETE_SQL': outbox.COMPLETE_SQL,
  'dispatcher retention PURGE_LOGS': retention.PURGE_LOGS,
  'dispatcher retention PURGE_OUTBOX': retention.PURGE_OUTBOX,
  'dispatcher retention PURGE_INGRESS': retention.PURGE_INGRESS,
  'dispatcher retention PURGE_RUNS': retention.PURGE_RUNS,
  'dispatcher retention PURGE_USAGE': retention.PURGE_USAGE,
  'dispatcher secrets LOAD_SQL': secretCache.LOAD_SQL,
  'dispatcher egress LOAD_SQL': egressCache.LOAD_SQL,
  'dispatcher commands LOAD_SQL': commandCache.LOAD_SQL,
  'runner store GET_SQL': store.GET_SQL,
  'runner store SET_SQL': store.SET_SQL,
  'runner store INCR_SQL': store.INCR_SQL,
  'runner store DELETE_SQL': store.DELETE_SQL,
  'dispatcher schedule-rooms SCHEDULE_ROOMS_SQL': scheduleRooms.SCHEDULE_ROOMS_SQL,
  'scheduler fires CLAIM_DUE_SQL': fireStore.CLAIM_DUE_SQL,
  'scheduler fires INSERT_FIRES_SQL': fireStore.INSERT_FIRES_SQL,
  'scheduler fires ADVANCE_SQL': fireStore.ADVANCE_SQL,
  'scheduler fires UNPUBLISHED_SQL': fireStore.UNPUBLISHED_SQL,
  'scheduler fires MARK_PUBLISHED_SQL': fireStore.MARK_PUBLISHED_SQL,
  'scheduler fires PURGE_FIRES_SQL': fireStore.PURGE_FIRES_SQL,
  'runner store KEYS_SQL': store.KEYS_SQL,
  'runner store EXPIRED_TENANTS_SQL': store.EXPIRED_TENANTS_SQL,
  'runner store PURGE_SQL': store.PURGE_SQL,
  'dispatcher sends SEND_ROOMS_SQL': sendDelivery.SEND_ROOMS_SQL,
  'dispatcher sends SENDS_TODAY_SQL': sendDelivery.SENDS_TODAY_SQL,
  'dispatcher sends SEND_LOG_SQL': sendDelivery.SEND_LOG_SQL,
};

describe('hot-path raw SQL against the migrated schema', () => {
  const db = migratedDatabase('hotpathsql');

  it('prepares every statement', async () => {
    const names = Object.keys(STATEMENTS);
    expect(names).toHaveLength(36);
    for (const name of names) expect(STATEMENTS[name], name).toMatch(/\b(select|insert|update|delete)\b/i);
    const failed = await prepareAll(db.client(), STATEMENTS, names);
    expect(Object.fromEntries(failed)).toEqual({});
  });

  it('fails the statements a renamed column breaks, and only those', async () => {
    // What a careless migration would do; this database is this file's own clone.
    await db.client().query('alter table kb_outbox rename column reply to reply_x');
    await db.client().query('alter table devices rename column device_key to device_key_x');
    const failed = await prepareAll(db.client(), STATEMENTS);
    expect([...failed.keys()].sort()).toEqual([
      'dispatcher outbox COMPLETE_SQL',
      'dispatcher outbox EXISTING_SQL',
      'gateway devices FIND_SQL',
      'gateway devices UPSERT_SQL',
    ]);
    // 42703 undefined_column: the failure names what the migration broke.
    for (const reason of failed.values()) expect(reason).toMatch(/^42703: column .*(reply|device_key)/);
  });
});
