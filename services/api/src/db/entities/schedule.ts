import { EntitySchema, type PrimaryKeyProp } from '@mikro-orm/core';
import { createdAtColumn, foreignKey } from './columns.js';

/**
 * A command run on a cron expression read in KST (`kb_schedules`); its
 * reply goes to `rooms` (`[{botId, room, channelId}]`, the tenant's
 * approved rooms). The API reads and writes it with raw statements
 * (`schedules/schedule-repository.ts`); the entity keeps the schema check honest.
 */
export interface Schedule {
  id: string;
  tenantId: string;
  commandId: number;
  cron: string;
  label: string;
  rooms: { botId: string; room: string; channelId: string }[];
  inputText: string;
  enabled: boolean;
  nextFireAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const Schedule = new EntitySchema<Schedule>({
  name: 'Schedule',
  tableName: 'kb_schedules',
  checks: [
    { name: 'kb_schedules_cron_check', expression: 'char_length(cron) <= 200' },
    { name: 'kb_schedules_label_check', expression: 'char_length(label) <= 200' },
    { name: 'kb_schedules_input_text_check', expression: 'char_length(input_text) <= 2000' },
  ],
  indexes: [
    { name: 'kb_schedules_due_idx', expression: 'create index kb_schedules_due_idx on kb_schedules(next_fire_at) where enabled' },
    { name: 'kb_schedules_tenant_idx', expression: 'create index kb_schedules_tenant_idx on kb_schedules(tenant_id, created_at)' },
  ],
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: foreignKey('Tenant', 'kb_schedules', 'tenant_id'),
    commandId: foreignKey('Command', 'kb_schedules', 'command_id'),
    cron: { type: 'string', columnType: 'text' },
    label: { type: 'string', columnType: 'text' },
    rooms: { type: 'json', columnType: 'jsonb', defaultRaw: "'[]'::jsonb" },
    inputText: { type: 'string', columnType: 'text', fieldName: 'input_text', defaultRaw: "''" },
    enabled: { type: 'boolean', default: true },
    nextFireAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'next_fire_at', nullable: true },
    createdAt: createdAtColumn('created_at'),
    updatedAt: createdAtColumn('updated_at'),
  },
});

/** One period of a schedule (`kb_schedule_fires`): its primary key makes the fire happen once across scheduler instances. */
export interface ScheduleFire {
  [PrimaryKeyProp]?: ['scheduleId', 'fireAt'];
  scheduleId: string;
  fireAt: Date;
  eventId: string;
  state: 'claimed' | 'published' | 'skipped';
  lateMs: number;
  claimedBy: string | null;
  claimedAt: Date;
  publishedAt: Date | null;
}

export const ScheduleFire = new EntitySchema<ScheduleFire>({
  name: 'ScheduleFire',
  tableName: 'kb_schedule_fires',
  uniques: [{ name: 'kb_schedule_fires_event_id_key', properties: ['eventId'] }],
  indexes: [
    {
      name: 'kb_schedule_fires_unpublished_idx',
      expression: "create index kb_schedule_fires_unpublished_idx on kb_schedule_fires(claimed_at) where state = 'claimed'",
    },
  ],
  properties: {
    scheduleId: { ...foreignKey('Schedule', 'kb_schedule_fires', 'schedule_id', { deleteRule: 'cascade' }), primary: true },
    fireAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'fire_at', primary: true },
    eventId: { type: 'uuid', fieldName: 'event_id' },
    state: { enum: true, items: ['claimed', 'published', 'skipped'], columnType: 'text' },
    lateMs: { type: 'integer', fieldName: 'late_ms', default: 0 },
    claimedBy: { type: 'string', columnType: 'text', fieldName: 'claimed_by', nullable: true },
    claimedAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'claimed_at' },
    publishedAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'published_at', nullable: true },
  },
});
