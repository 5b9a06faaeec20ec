"""
📅 예약 받기

"예약 12/24 18:30 4" 처럼 보내면 그 시간에 4명 예약을 받습니다 (같은 시간은 한 팀만).
"예약 목록" 은 오늘부터의 예약을, "예약 취소 12/24 18:30" 은 보낸 사람의 예약을 취소합니다.
예약은 '예약' 표에 남고, 데이터 메뉴에서 보고 고칠 수 있습니다.
  - 명령어: 예약
  - 패턴: 예약 뒤의 글자 전부 → params["parameters"][0]

아침 공지 템플릿이 이 표에서 오늘 예약을 읽습니다.
"""
import re
from datetime import datetime, timedelta, timezone

from domaeka import db

KST = timezone(timedelta(hours=9))
OPEN_HOUR, CLOSE_HOUR = 11, 21  # 예약받는 시간 (11시 ~ 21시)
MAX_PEOPLE = 8
SLOT = re.compile(r"(\d{1,2})/(\d{1,2})\s+(\d{1,2}):(\d{2})(?:\s+(\d+))?")


def ensure_table():
    db.execute(
        "create table if not exists 예약 (시간 timestamptz primary key, 이름 text not null, 인원 integer not null, 만든때 timestamptz not null default now())"
    )


def parse_slot(text):
    m = SLOT.search(text)
    if not m:
        return None, None
    month, day, hour, minute, people = m.groups()
    now = datetime.now(KST)
    when = datetime(now.year, int(month), int(day), int(hour), int(minute), tzinfo=KST)
    if when < now - timedelta(days=1):
        when = when.replace(year=now.year + 1)  # 12월에 1월 예약
    return when, int(people or 2)


def label(when):
    days = "월화수목금토일"
    return f"{when.month}월 {when.day}일({days[when.weekday()]}) {when:%H:%M}"


def handle_command(params):
    text = ((params.get("parameters") or [""])[0] or "").strip()
    sender = params.get("sender") or "손님"
    ensure_table()

    if text.startswith("목록"):
        rows = db.query("select 시간, 이름, 인원 from 예약 where 시간 >= date_trunc('day', now()) order by 시간 limit 20")
        if not rows:
            return "📅 앞으로 잡힌 예약이 없어요."
        return "\n".join(["📅 예약 목록"] + [f"· {label(r['시간'].astimezone(KST))} {r['이름']} {r['인원']}명" for r in rows])

    when, people = parse_slot(text)
    if when is None:
        return "✍️ 이렇게 보내 주세요: 예약 12/24 18:30 4  (목록: 예약 목록, 취소: 예약 취소 12/24 18:30)"

    if text.startswith("취소"):
        gone = db.execute("delete from 예약 where 시간 = $1 and 이름 = $2", [when.isoformat(), sender])
        return f"🗑️ {label(when)} 예약을 취소했어요." if gone else f"😥 {sender}님의 {label(when)} 예약을 찾지 못했어요."

    if not OPEN_HOUR <= when.hour < CLOSE_HOUR:
        return f"⏰ 예약은 {OPEN_HOUR}시부터 {CLOSE_HOUR}시 전까지 받아요."
    if not 1 <= people <= MAX_PEOPLE:
        return f"👥 한 번에 1명부터 {MAX_PEOPLE}명까지 예약할 수 있어요."
    made = db.execute(
        "insert into 예약 (시간, 이름, 인원) values ($1, $2, $3) on conflict (시간) do nothing",
        [when.isoformat(), sender, people],
    )
    if not made:
        return f"😥 {label(when)}은 이미 예약이 있어요. 다른 시간을 골라 주세요."
    return f"✅ {sender}님, {label(when)} {people}명 예약되었어요."
