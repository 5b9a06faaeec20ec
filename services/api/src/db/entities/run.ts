import { BigIntType, EntitySchema } from '@mikro-orm/core';
import type { RunStatus } from '@domaeka/broker/contracts';
import { createdAtColumn, foreignKey } from './columns.js';

/** A test run of tenant code (`kb_runs`, `POST /api/v1/runs`). */
export interface Run {
  id: string;
  tenantId: string;
  userId: string | null;
  commandId: number | null;
  status: RunStatus;
  code: string;
  /** The request dict handed to `handle_command(params)`. */
  input: Record<string, unknown>;
  result: Record<string, unknown> | null;
  /** `{code, message, line?}`. */
  error: Record<string, unknown> | null;
  output: string;
  durationMs: number | null;
  cpuMs: number | null;
  peakMemoryBytes: number | null;
  createdAt: Date;
  finishedAt: Date | null;
  /** When no runner can still be on it: a run still queued/running later is swept to failed. Null on rows from before. */
  deadlineAt: Date | null;
}

export const Run = new EntitySchema<Run>({
  name: 'Run',
  tableName: 'kb_runs',
  indexes: [
    { name: 'kb_runs_tenant_idx', expression: 'create index kb_runs_tenant_idx on kb_runs(tenant_id, created_at desc)' },
    { name: 'kb_runs_unfinished_idx', expression: "create index kb_runs_unfinished_idx on kb_runs(deadline_at) where status in ('queued','running')" },
  ],
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: foreignKey('Tenant', 'kb_runs', 'tenant_id'),
    userId: foreignKey('User', 'kb_runs', 'user_id', { nullable: true }),
    commandId: foreignKey('Command', 'kb_runs', 'command_id', { nullable: true }),
    status: { enum: true, items: ['queued', 'running', 'succeeded', 'failed'], columnType: 'text' },
    code: { type: 'string', columnType: 'text' },
    input: { type: 'json', columnType: 'jsonb' },
    result: { type: 'json', columnType: 'jsonb', nullable: true },
    error: { type: 'json', columnType: 'jsonb', nullable: true },
    output: { type: 'string', columnType: 'text', default: '' },
    durationMs: { type: 'integer', fieldName: 'duration_ms', nullable: true },
    cpuMs: { type: 'double', columnType: 'double precision', fieldName: 'cpu_ms', nullable: true },
    peakMemoryBytes: { type: new BigIntType('number'), fieldName: 'peak_memory_bytes', nullable: true },
    createdAt: createdAtColumn('created_at'),
    finishedAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'finished_at', nullable: true },
    deadlineAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'deadline_at', nullable: true },
  },
});
