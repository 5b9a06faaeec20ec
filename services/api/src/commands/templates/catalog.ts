import { readFileSync } from 'node:fs';
import type { TemplateView } from '@domaeka/broker/contracts';

/**
 * The Python template library (issue 4 item 9): starting points a shop owner
 * picks in the editor, fills in and saves as a sandbox command. Each
 * template's code is a real `.py` file beside this module (readable,
 * runnable with `python3`), read once at startup; everything else about it
 * is here. Until the egress proxy exists every template answers offline:
 * the ones that would call an API carry `SAMPLE_...` data and the real call
 * behind `USE_LIVE_API = False`, its key read from `os.environ` (secrets).
 */

/** A template as the tests know it: what `GET /templates` shows, and what its test input must answer. */
export interface Template extends TemplateView {
  /** A substring the result's text has for `testInput` (checked by the tests; not sent to clients). */
  expect: string;
}

type Entry = Omit<Template, 'code'> & { file: string };

const ENTRIES: Entry[] = [
  {
    id: 'weather',
    file: 'weather.py',
    name: '날씨 안내',
    description: '"날씨 화도읍"처럼 지역을 보내면 하늘, 기온, 습도를 알려 줍니다. 예시 데이터로 동작하고, OpenWeatherMap API 키를 넣으면 실제 날씨로 바뀝니다.',
    command: '날씨',
    pattern: '^날씨\\s*(.*)',
    testInput: { command: '날씨', parameters: ['화도읍'], raw_text: '날씨 화도읍', sender: '테스터' },
    expect: '화도읍 날씨',
    liveOutput: false,
  },
  {
    id: 'exchange-rate',
    file: 'exchange_rate.py',
    name: '환율 조회',
    description: '"환율 달러 100"처럼 보내면 원화로 얼마인지 계산해 줍니다. 예시 환율로 동작하고, 한국수출입은행 API 키를 넣으면 실제 환율로 바뀝니다.',
    command: '환율',
    pattern: '^환율\\s*(\\S*)\\s*(\\S*)',
    testInput: { command: '환율', parameters: ['달러', '100'], raw_text: '환율 달러 100', sender: '테스터' },
    expect: '100 USD = 138,550원',
    liveOutput: false,
  },
  {
    id: 'order-lookup',
    file: 'order_lookup.py',
    name: '주문 조회',
    description: '"주문 조회 1001"처럼 주문번호를 보내면 주문 상태, 상품, 배송 조회 버튼을 보여 줍니다. 주문자 이름은 가려서 보여 줍니다.',
    command: '주문 조회',
    pattern: '^주문\\s+조회\\s*(\\S*)',
    testInput: { command: '주문 조회', parameters: ['1001'], raw_text: '주문 조회 1001', sender: '테스터' },
    expect: '주문 1001 : 배송 중',
    liveOutput: false,
  },
  {
    id: 'stock-check',
    file: 'stock_check.py',
    name: '재고 확인',
    description: '"재고 원두"처럼 보내면 이름에 그 말이 들어간 상품의 남은 수량을 알려 주고, 품절이 가까우면 표시합니다. 구글 시트와 연결할 수 있습니다.',
    command: '재고',
    pattern: '^재고\\s*(.*)',
    testInput: { command: '재고', parameters: ['원두'], raw_text: '재고 원두', sender: '테스터' },
    expect: '아메리카노 원두 1kg: 12봉',
    liveOutput: false,
  },
  {
    id: 'news-headlines',
    file: 'news_headlines.py',
    name: '뉴스 헤드라인',
    description: '"뉴스 경제"처럼 주제를 보내면 최신 뉴스 제목을 5개까지 보여 줍니다. 예시 기사로 동작하고, 네이버 검색 API 키를 넣으면 실제 뉴스로 바뀝니다.',
    command: '뉴스',
    pattern: '^뉴스\\s*(.*)',
    testInput: { command: '뉴스', parameters: ['경제'], raw_text: '뉴스 경제', sender: '테스터' },
    expect: '경제 뉴스 헤드라인',
    liveOutput: false,
  },
  {
    id: 'countdown-timer',
    file: 'countdown_timer.py',
    name: '카운트다운 타이머',
    description: '"타이머 3"처럼 보내면 초를 센 뒤 알려 줍니다. 실행하면 3, 2, 1이 실행 결과 창에 실시간으로 찍혀서 print(flush=True)가 어떻게 보이는지 확인할 수 있습니다.',
    command: '타이머',
    pattern: '^타이머\\s*(\\d*)',
    testInput: { command: '타이머', parameters: ['3'], raw_text: '타이머 3', sender: '테스터' },
    expect: '3초 타이머가 끝났어요',
    liveOutput: true,
  },
  {
    id: 'business-hours',
    file: 'business_hours.py',
    name: '영업시간 안내',
    description: '"영업시간"이라고 보내면 지금 영업 중인지(휴무일, 브레이크 타임 포함)와 요일별 영업시간, 전화번호, 주소를 알려 줍니다. 가게 정보만 고치면 됩니다.',
    command: '영업시간',
    pattern: null,
    testInput: { command: '영업시간', parameters: [], raw_text: '영업시간', sender: '테스터' },
    expect: '영업시간 안내',
    liveOutput: false,
  },
  {
    id: 'reservation-lookup',
    file: 'reservation_lookup.py',
    name: '예약 확인',
    description: '"예약 확인 5678"처럼 전화번호 뒤 4자리를 보내면 예약 날짜, 시간, 인원을 알려 줍니다. 이름은 가리고 전화번호는 보여 주지 않습니다.',
    command: '예약 확인',
    pattern: '^예약\\s+확인\\s*(\\S*)',
    testInput: { command: '예약 확인', parameters: ['5678'], raw_text: '예약 확인 5678', sender: '테스터' },
    expect: '12월 5일(금) 18:30 · 4명',
    liveOutput: false,
  },
  {
    id: 'stock-sheet',
    file: 'stock_sheet.py',
    name: '재고 (우리 가게 표)',
    description: '"재고 사과"처럼 보내면 가게의 \'재고\' 표(엑셀이나 CSV로 올린 표)에서 수량을 찾아 알려 줍니다. "입고" 템플릿과 같은 표를 씁니다. 표가 없으면 예시 품목으로 만들어 둡니다.',
    command: '재고',
    pattern: '^재고\\s*(.*)',
    testInput: { command: '재고', parameters: ['사과'], raw_text: '재고 사과', sender: '테스터' },
    expect: '사과 (5kg): ',
    liveOutput: false,
  },
  {
    id: 'stock-in',
    file: 'stock_in.py',
    name: '입고 / 출고',
    description: '"입고 사과 10"처럼 보내면 \'재고\' 표의 수량을 늘리고(빼는 수면 출고) 지금 수량을 알려 줍니다. 표에 없는 품목은 새로 넣습니다.',
    command: '입고',
    pattern: '^입고\\s*(.*?)\\s*(-?\\d*)\\s*$',
    testInput: { command: '입고', parameters: ['배 (7.5kg)', '10'], raw_text: '입고 배 (7.5kg) 10', sender: '테스터' },
    expect: '배 (7.5kg) 10개 입고: 지금 ',
    liveOutput: false,
  },
  {
    id: 'points-card',
    file: 'points_card.py',
    name: '포인트 적립',
    description: '손님이 "포인트"라고 보내면 쌓인 포인트를, 직원이 "포인트 적립 홍길동 500"처럼 보내면 적립하고 씁니다. 포인트는 플랫폼 저장소에 손님별로 남습니다.',
    command: '포인트',
    pattern: '^포인트\\s*(적립|사용)?\\s*(\\S*)\\s*(\\d*)',
    testInput: { command: '포인트', parameters: ['적립', '테스터', '500'], raw_text: '포인트 적립 테스터 500', sender: '테스터' },
    expect: '테스터님 500점 적립: 지금 ',
    liveOutput: false,
  },
  {
    id: 'reservation-book',
    file: 'reservation_book.py',
    name: '예약 받기',
    description: '"예약 12/24 18:30 4"처럼 보내면 그 시간에 예약을 받고(한 시간에 한 팀), "예약 목록"과 "예약 취소"도 됩니다. 예약은 \'예약\' 표에 남아 데이터 메뉴에서 볼 수 있습니다.',
    command: '예약',
    pattern: '^예약\\s*(.*)',
    testInput: { command: '예약', parameters: ['12/24 18:30 4'], raw_text: '예약 12/24 18:30 4', sender: '테스터' },
    expect: '12월 24일',
    liveOutput: false,
  },
  {
    id: 'morning-notice',
    file: 'morning_notice.py',
    name: '아침 공지 (예약 실행)',
    description: '매일 아침 정해진 시간에 오늘 날짜, 오늘 예약 수, 가게가 정한 공지를 채팅방에 보냅니다. 저장한 뒤 \'예약 실행\'에서 "매일 오전 9시"와 보낼 방을 고르세요.',
    command: '아침공지',
    pattern: '^아침공지\\s*(.*)',
    testInput: { command: '아침공지', parameters: [''], raw_text: '아침공지', sender: '테스터' },
    expect: '📅 오늘 예약: ',
    liveOutput: false,
  },
];

/** Every template, code loaded from the `.py` files beside this module (a missing file fails at startup, not on a request). */
export const TEMPLATES: readonly Template[] = ENTRIES.map(({ file, ...entry }) => ({
  ...entry,
  code: readFileSync(new URL(`./${file}`, import.meta.url), 'utf8'),
}));

const BY_ID = new Map(TEMPLATES.map((t) => [t.id, t]));

export function templateById(id: string): Template | undefined {
  return BY_ID.get(id);
}

export function templateView({ expect: _expect, ...view }: Template): TemplateView {
  return view;
}
