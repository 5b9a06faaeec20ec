import { describe, expect, it } from 'vitest';
import { CronError } from './cron.js';
import { cronLabel, phraseToCron, readSchedule } from './phrases.js';

describe('phraseToCron', () => {
  const cases: [string, string, string][] = [
    ['매일 오전 9시', '0 9 * * *', '매일 오전 9시'],
    ['매일 18시 30분', '30 18 * * *', '매일 오후 6시 30분'],
    ['평일 18시', '0 18 * * 1-5', '평일 오후 6시'],
    ['주말 오전 10시', '0 10 * * 0,6', '주말 오전 10시'],
    ['매주 월요일 9시', '0 9 * * 1', '매주 월요일 오전 9시'],
    ['30분마다', '*/30 * * * *', '30분마다'],
    ['매시 정각', '0 * * * *', '매시 정각'],
    ['매월 1일 오전 9시', '0 9 1 * *', '매월 1일 오전 9시'],
    ['매주 월,수,금요일 오후 2시 반', '30 14 * * 1,3,5', '매주 월·수·금요일 오후 2시 30분'],
    ['2시간마다', '0 */2 * * *', '2시간마다'],
    ['매시 15분', '15 * * * *', '매시 15분'],
    ['매일 밤 11시', '0 23 * * *', '매일 오후 11시'],
    ['매일 오전 12시', '0 0 * * *', '매일 오전 12시'],
    ['매일 정오', '0 12 * * *', '매일 오후 12시'],
    ['매일 07:45', '45 7 * * *', '매일 오전 7시 45분'],
    ['일요일 20시', '0 20 * * 0', '매주 일요일 오후 8시'],
    ['  매일   오전  9시 ', '0 9 * * *', '매일 오전 9시'],
    ['1분마다', '* * * * *', '매분'],
  ];
  it.each(cases)('%s -> %s -> %s', (phrase, cron, label) => {
    expect(phraseToCron(phrase)).toBe(cron);
    expect(cronLabel(cron)).toBe(label);
  });

  it('a phrase it does not know gets a Korean error with examples', () => {
    expect(() => phraseToCron('가끔 아무 때나')).toThrow(CronError);
    expect(() => phraseToCron('가끔 아무 때나')).toThrow(/이해하지 못했습니다.*매일 오전 9시/);
    expect(() => phraseToCron('7분마다')).toThrow(/정각에 맞지 않습니다/);
    expect(() => phraseToCron('매일')).toThrow(/시각이 없습니다/);
    expect(() => phraseToCron('매일 25시')).toThrow(/0~23/);
    expect(() => phraseToCron('오후 13시')).toThrow(/없는 시각/);
    expect(() => phraseToCron('매월 32일 9시')).toThrow(/없는 날짜/);
    expect(() => phraseToCron('')).toThrow(/입력해 주세요/);
  });
});

describe('cronLabel and readSchedule', () => {
  it('labels other cron expressions as custom and normalises spacing', () => {
    expect(cronLabel('0 9 * 1 *')).toBe('사용자 지정 일정 (cron 0 9 * 1 *)');
    expect(readSchedule({ cron: ' 0  9 * * 1-5 ' })).toEqual({ cron: '0 9 * * 1-5', label: '평일 오전 9시' });
    expect(readSchedule({ phrase: '주말 오전 10시' })).toEqual({ cron: '0 10 * * 0,6', label: '주말 오전 10시' });
    expect(() => readSchedule({ cron: '0 9 * *' })).toThrow(/칸이 5개/);
  });
});
