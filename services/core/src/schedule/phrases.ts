import { CronError, parseCron } from './cron.js';

/**
 * Plain Korean schedule phrases <-> cron (read in KST). The picker offers
 * these; anything else is a cron expression. `phraseToCron` throws
 * CronError with a Korean message saying what it understands.
 *
 *   30분마다 · 2시간마다 · 매시 정각 · 매시 15분
 *   [매일 | 평일 | 주말 | 매주 월요일 | 매주 월,수,금요일 | 매월 1일] <시각>
 *   <시각> = [오전|오후|아침|낮|저녁|밤] N시 [M분 | 반 | 정각] | HH:MM | 정오 | 자정
 */
const WEEKDAYS = ['일', '월', '화', '수', '목', '금', '토'] as const;
const MINUTE_STEPS = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30];
const HOUR_STEPS = [1, 2, 3, 4, 6, 8, 12];

export const PHRASE_EXAMPLES = ['매일 오전 9시', '매일 18시 30분', '평일 18시', '주말 오전 10시', '매주 월요일 9시', '30분마다', '매시 정각', '매월 1일 오전 9시'] as const;

function unknown(phrase: string): CronError {
  return new CronError(`'${phrase}'을(를) 이해하지 못했습니다. 예: ${PHRASE_EXAMPLES.join(', ')} (또는 cron 식 '0 9 * * *')`);
}

function parseTime(text: string, phrase: string): { hour: number; minute: number } {
  if (text === '정오') return { hour: 12, minute: 0 };
  if (text === '자정') return { hour: 0, minute: 0 };
  const clock = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (clock) return checked(Number(clock[1]), Number(clock[2]), phrase);
  const m = /^(?:(오전|오후|아침|낮|저녁|밤)\s?)?(\d{1,2})시(?:\s?(?:(정각)|(반)|(\d{1,2})분))?$/.exec(text);
  if (!m) throw unknown(phrase);
  let hour = Number(m[2]);
  const minute = m[4] ? 30 : m[5] ? Number(m[5]) : 0;
  const part = m[1];
  if (part) {
    if (hour < 1 || hour > 12) throw new CronError(`'${part} ${hour}시'는 없는 시각입니다 (${part} 1시~12시)`);
    const pm = part === '오후' || part === '저녁' || part === '밤' || (part === '낮' && hour < 6);
    if (pm && hour < 12) hour += 12;
    if (!pm && hour === 12) hour = 0;
  }
  return checked(hour, minute, phrase);
}

function checked(hour: number, minute: number, phrase: string): { hour: number; minute: number } {
  if (hour > 23) throw new CronError(`'${phrase}': 시는 0~23 사이여야 합니다`);
  if (minute > 59) throw new CronError(`'${phrase}': 분은 0~59 사이여야 합니다`);
  return { hour, minute };
}

function weekdayList(text: string, phrase: string): string {
  // 월요일 · 월,수,금요일 · 월·수·금 · 월요일, 목요일
  const days = text.replace(/요일/g, '').split(/[,·\s]+/).filter(Boolean);
  if (days.length === 0) throw unknown(phrase);
  const nums = days.map((d) => {
    const i = WEEKDAYS.indexOf(d as (typeof WEEKDAYS)[number]);
    if (i < 0) throw new CronError(`'${d}'은(는) 요일이 아닙니다 (월, 화, 수, 목, 금, 토, 일)`);
    return i;
  });
  return [...new Set(nums)].sort((a, b) => a - b).join(',');
}

/** A Korean phrase as a cron expression (KST). Throws CronError (Korean) for a phrase it does not know. */
export function phraseToCron(input: string): string {
  const phrase = input.trim().replace(/\s+/g, ' ');
  if (phrase === '') throw new CronError('일정을 입력해 주세요. 예: ' + PHRASE_EXAMPLES.join(', '));
  let m = /^(\d{1,2}) ?분 ?마다$/.exec(phrase);
  if (m) {
    const n = Number(m[1]);
    if (!MINUTE_STEPS.includes(n)) throw new CronError(`'${n}분마다'는 정각에 맞지 않습니다. 가능한 값: ${MINUTE_STEPS.join(', ')}분`);
    return n === 1 ? '* * * * *' : `*/${n} * * * *`;
  }
  m = /^(\d{1,2}) ?시간 ?마다$/.exec(phrase);
  if (m) {
    const n = Number(m[1]);
    if (!HOUR_STEPS.includes(n)) throw new CronError(`'${n}시간마다'는 자정에 맞지 않습니다. 가능한 값: ${HOUR_STEPS.join(', ')}시간`);
    return n === 1 ? '0 * * * *' : `0 */${n} * * *`;
  }
  m = /^매 ?시(?:간)? (?:(정각)|(\d{1,2})분|(반))$/.exec(phrase);
  if (m) {
    const minute = m[1] ? 0 : m[3] ? 30 : Number(m[2]);
    if (minute > 59) throw new CronError(`'${phrase}': 분은 0~59 사이여야 합니다`);
    return `${minute} * * * *`;
  }
  let dom = '*';
  let dow = '*';
  let rest = phrase;
  if ((m = /^(매일|날마다) ?(.*)$/.exec(phrase))) rest = m[2]!;
  else if ((m = /^평일 ?(.*)$/.exec(phrase))) [dow, rest] = ['1-5', m[1]!];
  else if ((m = /^주말 ?(.*)$/.exec(phrase))) [dow, rest] = ['0,6', m[1]!];
  else if ((m = /^(?:매주 )?((?:[월화수목금토일](?:요일)?[,·]? ?)+요일|[월화수목금토일](?:[,·][월화수목금토일])+) ?(.*)$/.exec(phrase))) {
    [dow, rest] = [weekdayList(m[1]!, phrase), m[2]!];
  } else if ((m = /^매 ?(?:월|달) (\d{1,2})일 ?(.*)$/.exec(phrase))) {
    const day = Number(m[1]);
    if (day < 1 || day > 31) throw new CronError(`'${day}일'은 없는 날짜입니다 (1일~31일)`);
    [dom, rest] = [String(day), m[2]!];
  }
  if (rest === '') throw new CronError(`'${phrase}'에 시각이 없습니다. 예: ${phrase} 오전 9시`);
  const { hour, minute } = parseTime(rest, phrase);
  return `${minute} ${hour} ${dom} * ${dow}`;
}

function timeLabel(hour: number, minute: number): string {
  const h12 = hour === 0 ? 12 : hour > 12 ? hour - 12 : hour;
  return `${hour < 12 ? '오전' : '오후'} ${h12}시${minute ? ` ${minute}분` : ''}`;
}

const single = (f: string) => /^\d{1,2}$/.test(f);

/** A Korean label for a cron expression (KST); the phrases' shapes read back as phrases, others as `cron 식 (…)`. */
export function cronLabel(expr: string): string {
  const spec = parseCron(expr);
  const [mi, h, d, mo, w] = spec.expr.split(' ') as [string, string, string, string, string];
  const custom = `사용자 지정 일정 (cron ${spec.expr})`;
  if (mo !== '*') return custom;
  const everyDay = d === '*' && w === '*';
  if (everyDay && h === '*' && mi === '*') return '매분';
  if (everyDay && h === '*' && /^\*\/\d+$/.test(mi)) return `${mi.slice(2)}분마다`;
  if (everyDay && h === '*' && single(mi)) return Number(mi) === 0 ? '매시 정각' : `매시 ${Number(mi)}분`;
  if (everyDay && /^\*\/\d+$/.test(h) && single(mi)) return `${h.slice(2)}시간마다${Number(mi) ? ` ${Number(mi)}분` : ''}`;
  if (!single(mi) || !single(h)) return custom;
  const time = timeLabel(Number(h), Number(mi));
  if (everyDay) return `매일 ${time}`;
  if (single(d) && w === '*') return `매월 ${Number(d)}일 ${time}`;
  if (d !== '*') return custom;
  const days = [...spec.weekdays].sort((a, b) => a - b);
  if (days.join(',') === '1,2,3,4,5') return `평일 ${time}`;
  if (days.join(',') === '0,6') return `주말 ${time}`;
  return `매주 ${days.map((x) => WEEKDAYS[x]).join('·')}요일 ${time}`;
}

/** A phrase or a cron expression -> `{cron, label}`; what looks like cron (digits, `*`, 5 fields) is read as cron. */
export function readSchedule(input: { phrase?: string; cron?: string }): { cron: string; label: string } {
  const cron = input.cron !== undefined && input.cron.trim() !== '' ? parseCron(input.cron).expr : phraseToCron(input.phrase ?? '');
  return { cron, label: cronLabel(cron) };
}
