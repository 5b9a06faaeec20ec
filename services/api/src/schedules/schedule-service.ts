import { randomUUID } from 'node:crypto';
import { nextFire, parseCron } from '@domaeka/core';
import type { ScheduleDetailView, ScheduleFireView, ScheduleListView, SchedulePreviewView, ScheduleRoomView, ScheduleView } from '@domaeka/broker/contracts';
import type { Caller } from '../accounts/caller.js';
import type { Orm } from '../db/em.js';
import { apiErrors } from '../errors.js';
import { ScheduleRepository, type FireRow, type ScheduleRow, type ScheduleWrite } from './schedule-repository.js';
import {
  FIRE_STATE_LABELS,
  MAX_ROOMS_PER_SCHEDULE,
  MAX_SCHEDULES_PER_TENANT,
  checkInput,
  kstText,
  missedFirePolicy,
  preview,
  scheduleOf,
} from './schedule-rules.js';

export interface ScheduleInput {
  commandId?: number;
  phrase?: string;
  cron?: string;
  rooms?: { botId: string; channelId: string }[];
  input?: string;
  enabled?: boolean;
}

const RECENT_FIRES = 20;

/**
 * A tenant's schedules: which command, when (a Korean phrase or cron, read
 * in KST), to which of its approved rooms, with what input. Saving sets
 * `next_fire_at`; the scheduler instances take it from there (they read
 * the table each tick, so no `changed` event is needed).
 */
export class ScheduleService {
  private readonly stored: ScheduleRepository;

  constructor(
    orm: Orm,
    private readonly clock: () => number,
  ) {
    this.stored = new ScheduleRepository(orm);
  }

  preview(input: { phrase?: string; cron?: string }): SchedulePreviewView {
    return preview(input, this.clock());
  }

  async list(caller: Caller): Promise<ScheduleListView> {
    const rows = await this.stored.list(caller.tenantId);
    return { items: rows.map(toView), missedFirePolicy };
  }

  /** The approved rooms of the tenant's bots (what the picker offers). */
  async roomChoices(caller: Caller): Promise<ScheduleRoomView[]> {
    return (await this.stored.roomChoices(caller.tenantId)).map((r) => ({ botId: r.bot_id, botName: r.bot_name, room: r.room, channelId: r.channel_id }));
  }

  async get(caller: Caller, id: string): Promise<ScheduleDetailView> {
    const row = await this.stored.one(caller.tenantId, id);
    if (!row) throw apiErrors.notFound('schedule');
    const fires = await this.stored.fires(caller.tenantId, id, RECENT_FIRES);
    return { ...toView(row), recentFires: fires.map(fireView), missedFirePolicy };
  }

  async create(caller: Caller, input: ScheduleInput & { commandId: number; rooms: { botId: string; channelId: string }[] }): Promise<ScheduleDetailView> {
    if ((await this.stored.count(caller.tenantId)) >= MAX_SCHEDULES_PER_TENANT) {
      throw apiErrors.invalidSchedule(`일정은 ${MAX_SCHEDULES_PER_TENANT}개까지 만들 수 있습니다 / at most ${MAX_SCHEDULES_PER_TENANT} schedules per tenant`);
    }
    const id = randomUUID();
    await this.stored.insert(caller.tenantId, id, await this.write(caller, input, null));
    return this.get(caller, id);
  }

  async update(caller: Caller, id: string, patch: ScheduleInput): Promise<ScheduleDetailView> {
    const row = await this.stored.one(caller.tenantId, id);
    if (!row) throw apiErrors.notFound('schedule');
    await this.stored.update(caller.tenantId, id, await this.write(caller, patch, row));
    return this.get(caller, id);
  }

  async remove(caller: Caller, id: string): Promise<void> {
    if (!(await this.stored.remove(caller.tenantId, id))) throw apiErrors.notFound('schedule');
  }

  /** What to store: everything checked (command, rooms, schedule, input); the next period recomputed when the timing or the switch changed. */
  private async write(caller: Caller, input: ScheduleInput, before: ScheduleRow | null): Promise<ScheduleWrite> {
    const commandId = input.commandId ?? Number(before!.command_id);
    if (input.commandId !== undefined && !(await this.stored.commandExists(caller.tenantId, commandId))) throw apiErrors.notFound('command');
    const timing = input.phrase !== undefined || input.cron !== undefined ? scheduleOf(input) : { cron: before!.cron, label: before!.label };
    const rooms = input.rooms !== undefined ? await this.rooms(caller, input.rooms) : before!.rooms;
    const enabled = input.enabled ?? before?.enabled ?? true;
    const retimed = !before || timing.cron !== before.cron || enabled !== before.enabled;
    const next = retimed ? (enabled ? nextFire(parseCron(timing.cron), this.clock()) : null) : before.next_fire_at ? new Date(before.next_fire_at).getTime() : null;
    return {
      commandId,
      cron: timing.cron,
      label: timing.label,
      rooms,
      input: checkInput(input.input ?? before?.input_text ?? ''),
      enabled,
      nextFireAt: next === null ? null : new Date(next),
    };
  }

  private async rooms(caller: Caller, wanted: { botId: string; channelId: string }[]): Promise<ScheduleWrite['rooms']> {
    const unique = [...new Map(wanted.map((w) => [`${w.botId}/${w.channelId}`, w])).values()];
    if (unique.length === 0) throw apiErrors.invalidSchedule('메시지를 보낼 방을 하나 이상 골라 주세요 / choose at least one room');
    if (unique.length > MAX_ROOMS_PER_SCHEDULE) {
      throw apiErrors.invalidSchedule(`방은 ${MAX_ROOMS_PER_SCHEDULE}개까지 고를 수 있습니다 / at most ${MAX_ROOMS_PER_SCHEDULE} rooms`);
    }
    const found = await this.stored.rooms(caller.tenantId, unique);
    const byKey = new Map(found.map((r) => [`${r.bot_id}/${r.channel_id}`, r]));
    const missing = unique.filter((w) => !byKey.has(`${w.botId}/${w.channelId}`));
    if (missing.length > 0) {
      throw apiErrors.invalidSchedule(
        `이 계정의 봇이 알고 승인한 방이 아닙니다: ${missing.map((m) => m.channelId).join(', ')} / not an approved room of your bots`,
      );
    }
    return unique.map((w) => {
      const r = byKey.get(`${w.botId}/${w.channelId}`)!;
      return { botId: r.bot_id, room: r.room, channelId: r.channel_id };
    });
  }
}

/** MikroORM's `execute` hands timestamps over as text: read them as dates once here. */
const iso = (d: Date | string) => new Date(d).toISOString();

function toView(r: ScheduleRow): ScheduleView {
  return {
    id: r.id,
    commandId: Number(r.command_id),
    command: r.command,
    cron: r.cron,
    label: r.label,
    rooms: r.room_views.map((x) => ({ botId: x.botId, botName: x.botName, room: x.room, channelId: x.channelId })),
    input: r.input_text,
    enabled: r.enabled,
    nextFireAt: r.next_fire_at ? iso(r.next_fire_at) : null,
    nextFireAtKst: r.next_fire_at ? kstText(new Date(r.next_fire_at)) : null,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

function fireView(f: FireRow): ScheduleFireView {
  return {
    fireAt: iso(f.fire_at),
    fireAtKst: kstText(new Date(f.fire_at)),
    state: f.state,
    stateLabel: FIRE_STATE_LABELS[f.state],
    eventId: f.event_id,
    lateMs: f.late_ms,
    outcome: f.log_at ? { errorCode: f.error_code, responseTimeMs: f.response_time, at: iso(f.log_at) } : null,
  };
}
