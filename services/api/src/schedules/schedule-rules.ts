import { CronError, MISSED_FIRE_POLICY, nextFires, parseCron, readSchedule } from '@domaeka/core';
import type { MissedFirePolicyView, SchedulePreviewView } from '@domaeka/broker/contracts';
import { apiErrors } from '../errors.js';

export const MAX_SCHEDULES_PER_TENANT = 50;
export const MAX_ROOMS_PER_SCHEDULE = 20;
export const INPUT_MAX_CHARS = 2000;
export const PREVIEW_COUNT = 5;

export const missedFirePolicy: MissedFirePolicyView = { graceMs: MISSED_FIRE_POLICY.graceMs, ko: MISSED_FIRE_POLICY.ko, en: MISSED_FIRE_POLICY.en };

/** A phrase or a cron expression -> `{cron, label}`; a Korean 400 (`KB_ERR_INVALID_SCHEDULE`) for what cannot be read. */
export function scheduleOf(input: { phrase?: string; cron?: string }): { cron: string; label: string } {
  if ((input.phrase === undefined || input.phrase.trim() === '') && (input.cron === undefined || input.cron.trim() === '')) {
    throw apiErrors.invalidSchedule('일정을 "매일 오전 9시" 같은 말(phrase)이나 cron 식(cron)으로 알려 주세요 / give a phrase or a cron expression');
  }
  try {
    const read = readSchedule(input);
    if (nextFires(parseCron(read.cron), Date.now(), 1).length === 0) {
      throw new CronError(`'${read.cron}'은(는) 실제로 오지 않는 날짜입니다 (예: 2월 30일)`);
    }
    return read;
  } catch (err) {
    if (err instanceof CronError) throw apiErrors.invalidSchedule(err.message);
    throw err;
  }
}

/** KST wall time `YYYY-MM-DD HH:mm`. */
export function kstText(d: Date | number): string {
  return new Date((typeof d === 'number' ? d : d.getTime()) + 9 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');
}

export function preview(input: { phrase?: string; cron?: string }, now: number): SchedulePreviewView {
  const { cron, label } = scheduleOf(input);
  const next = nextFires(parseCron(cron), now, PREVIEW_COUNT);
  return { cron, label, next: next.map((t) => new Date(t).toISOString()), nextKst: next.map(kstText) };
}

export function checkInput(input: string): string {
  if (input.length > INPUT_MAX_CHARS) throw apiErrors.invalidSchedule(`입력 문장은 ${INPUT_MAX_CHARS}자까지입니다 / input is at most ${INPUT_MAX_CHARS} characters`);
  return input;
}

export const FIRE_STATE_LABELS = { claimed: '실행 대기', published: '실행됨', skipped: '건너뜀 (놓친 실행)' } as const;
