"""
🏪 영업시간 안내

채팅방에서 "영업시간" 이라고 보내면 지금 영업 중인지와 요일별 영업시간을 알려 줍니다.
  - 명령어: 영업시간
  - 패턴: 없음 (명령어만 맞으면 실행)

외부 API 없이 동작합니다. 아래 SHOP, HOURS, BREAK_TIME, HOLIDAYS 를
우리 가게에 맞게 고치기만 하면 됩니다.
"""
from datetime import datetime
from zoneinfo import ZoneInfo

# ─────────────────────────────────────────────────────────────
# ✏️ 우리 가게 정보 (여기만 고치세요)
# ─────────────────────────────────────────────────────────────
SHOP = {
    "name": "도매까 커피",
    "phone": "031-123-4567",
    "address": "경기도 남양주시 화도읍 예시로 12",
}

# 요일별 영업시간: (여는 시각, 닫는 시각). 쉬는 날은 None.
# 순서: 월, 화, 수, 목, 금, 토, 일
HOURS = [
    None,                 # 월요일 정기 휴무
    ("10:00", "21:00"),   # 화
    ("10:00", "21:00"),   # 수
    ("10:00", "21:00"),   # 목
    ("10:00", "22:00"),   # 금
    ("11:00", "22:00"),   # 토
    ("11:00", "20:00"),   # 일
]

# 브레이크 타임 (없으면 None)
BREAK_TIME = ("15:00", "16:00")

# 임시 휴무일 ("연-월-일")
HOLIDAYS = {"2025-12-25", "2026-01-01"}

DAY_NAMES = ["월", "화", "수", "목", "금", "토", "일"]


def status_now(now):
    """지금 영업 중인지 한 줄로 알려 줍니다."""
    if now.strftime("%Y-%m-%d") in HOLIDAYS:
        return "🔒 오늘은 임시 휴무일이에요."
    today = HOURS[now.weekday()]  # weekday(): 월요일 0 ~ 일요일 6
    if today is None:
        return f"🔒 오늘({DAY_NAMES[now.weekday()]})은 정기 휴무일이에요."
    opens, closes = today
    clock = now.strftime("%H:%M")  # "14:05" 처럼 글자로 바꾸면 크기 비교가 쉬워요
    if clock < opens:
        return f"⏳ 아직 문 열기 전이에요. 오늘은 {opens}에 열어요."
    if clock >= closes:
        return "🌙 오늘 영업은 끝났어요. 다음에 만나요!"
    if BREAK_TIME and BREAK_TIME[0] <= clock < BREAK_TIME[1]:
        return f"☕ 브레이크 타임이에요. {BREAK_TIME[1]}에 다시 열어요."
    return f"✅ 지금 영업 중이에요! ({closes}까지)"


def handle_command(params):
    now = datetime.now(ZoneInfo("Asia/Seoul"))
    lines = [f"🏪 {SHOP['name']} 영업시간 안내", status_now(now), ""]
    for day, hours in zip(DAY_NAMES, HOURS):
        lines.append(f"{day}: 휴무" if hours is None else f"{day}: {hours[0]} ~ {hours[1]}")
    if BREAK_TIME:
        lines.append(f"브레이크 타임: {BREAK_TIME[0]} ~ {BREAK_TIME[1]}")
    lines.append("")
    lines.append(f"📞 {SHOP['phone']}")
    lines.append(f"📍 {SHOP['address']}")
    return "\n".join(lines)
