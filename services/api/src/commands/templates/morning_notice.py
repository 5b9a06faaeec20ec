"""
☀️ 아침 공지 (예약 실행용)

매일 아침 정해진 시간에 채팅방으로 오늘의 공지를 보냅니다: 날짜, 오늘 예약 수, 가게가 정한 공지.
명령어를 저장한 뒤 명령어 화면의 '예약 실행'에서 "매일 오전 9시" 와 보낼 방을 고르세요.
채팅방에서 "아침공지" 라고 보내도 같은 내용을 볼 수 있습니다.
"공지 설정 오늘은 딸기 케이크 할인!" 처럼 보내면 다음 공지부터 그 문장이 들어갑니다.
  - 명령어: 아침공지 (공지 설정은 같은 명령어에 '설정'을 붙입니다)
  - 패턴: 아침공지 뒤의 글자 → params["parameters"][0]

예약 받기 템플릿의 '예약' 표가 있으면 오늘 예약도 세어 줍니다.
"""
from datetime import datetime, timedelta, timezone

from domaeka import DbError, db, store

KST = timezone(timedelta(hours=9))
DEFAULT_NOTICE = "오늘도 좋은 하루 보내세요! 🙂"


def today_reservations():
    """'예약' 표가 없으면 0 (아직 예약 템플릿을 안 쓴 가게)."""
    try:
        rows = db.query(
            "select count(*) as n from 예약 where 시간 >= date_trunc('day', now()) and 시간 < date_trunc('day', now()) + interval '1 day'"
        )
        return rows[0]["n"]
    except DbError:
        return 0


def handle_command(params):
    text = ((params.get("parameters") or [""])[0] or "").strip()
    if text.startswith("설정"):
        notice = text[len("설정"):].strip()
        if not notice:
            return "✍️ 이렇게 보내 주세요: 아침공지 설정 오늘은 딸기 케이크 할인!"
        store.set("아침공지", notice)
        return f"📝 다음 아침 공지부터 이 문장이 들어가요: {notice}"

    now = datetime.now(KST)
    days = "월화수목금토일"
    lines = [
        f"☀️ {now.month}월 {now.day}일 ({days[now.weekday()]}) 아침 공지",
        f"📅 오늘 예약: {today_reservations()}팀",
        f"📢 {store.get('아침공지') or DEFAULT_NOTICE}",
    ]
    return "\n".join(lines)
