"""
📅 예약 확인

채팅방에서 "예약 확인 5678" 처럼 예약할 때 적은 전화번호 뒤 4자리를 보내면
예약 날짜·시간·인원을 알려 줍니다.
  - 명령어: 예약 확인 (두 단어)
  - 패턴: "예약 확인" 뒤의 한 덩어리를 잡습니다 → params["parameters"][0]

지금은 아래 SAMPLE_RESERVATIONS(예시 예약)에서 찾습니다.
예약 관리 서버와 연결하려면:
  1) 설정 > 비밀 값에 BOOKING_API_URL 과 BOOKING_API_TOKEN 을 저장하고
  2) 아래 USE_LIVE_API 를 True 로 바꾸세요.
  그리고 ⚙ 설정 > 외부 접속 도메인에 BOOKING_API_URL 의 도메인도 넣어 주세요. (외부 접속은 프리미엄 요금제에서 동작합니다.)
  서버는 GET {BOOKING_API_URL}/reservations?phone_last4=5678 에
  SAMPLE_RESERVATIONS 와 같은 모양의 목록(JSON)으로 답한다고 가정했습니다.

🔒 단톡방에서는 누구나 볼 수 있으니 이름은 가리고, 전화번호는 보여 주지 않습니다.
"""
import os
from datetime import date

USE_LIVE_API = False

# ─────────────────────────────────────────────────────────────
# 📦 예시 데이터 (SAMPLE): 가짜 예약입니다.
# ─────────────────────────────────────────────────────────────
SAMPLE_RESERVATIONS = [
    {"name": "이지은", "phone": "010-1234-5678", "date": "2025-12-05", "time": "18:30",
     "people": 4, "memo": "창가 자리", "status": "확정"},
    {"name": "박서준", "phone": "010-9876-4321", "date": "2025-12-06", "time": "12:00",
     "people": 2, "memo": "", "status": "대기"},
]

DAY_NAMES = ["월", "화", "수", "목", "금", "토", "일"]
STATUS_EMOJI = {"확정": "✅", "대기": "⏳", "취소": "❌"}


def mask_name(name):
    """이지은 → 이*은"""
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def pretty_date(text):
    """예: 2025-12-05 → 12월 5일(금)"""
    d = date.fromisoformat(text)
    return f"{d.month}월 {d.day}일({DAY_NAMES[d.weekday()]})"


def handle_command(params):
    parameters = params.get("parameters") or [""]
    # "5678" 도, "010-1234-5678" 도 됩니다: 숫자만 모아 뒤 4자리를 씁니다.
    digits = "".join(ch for ch in parameters[0] if ch.isdigit())
    if len(digits) < 4:
        return "예약하신 전화번호 뒤 4자리를 함께 보내 주세요. 예) 예약 확인 5678"
    last4 = digits[-4:]

    if USE_LIVE_API:
        base_url = os.environ.get("BOOKING_API_URL")
        token = os.environ.get("BOOKING_API_TOKEN")
        if not base_url or not token:
            return "⚠️ BOOKING_API_URL / BOOKING_API_TOKEN 비밀 값이 없어요. 설정 > 비밀 값에서 추가해 주세요."
        found = fetch_live_reservations(base_url, token, last4)
    else:
        found = [r for r in SAMPLE_RESERVATIONS if r["phone"].replace("-", "").endswith(last4)]

    if not found:
        return f"😥 전화번호 뒤 4자리가 {last4}인 예약이 없어요. 번호를 다시 확인해 주세요."

    lines = [f"📅 전화번호 뒤 4자리 {last4} 예약"]
    for r in found:
        emoji = STATUS_EMOJI.get(r["status"], "📅")
        line = f"{emoji} {mask_name(r['name'])}님 · {pretty_date(r['date'])} {r['time']} · {r['people']}명 ({r['status']})"
        if r.get("memo"):
            line += f"\n   메모: {r['memo']}"
        lines.append(line)
    if not USE_LIVE_API:
        lines.append("※ 예시 데이터입니다")
    return "\n".join(lines)


def fetch_live_reservations(base_url, token, last4):
    """예약 관리 서버에서 전화번호 뒤 4자리로 예약 목록을 가져옵니다."""
    import requests  # 진짜 API를 쓸 때만 불러옵니다

    response = requests.get(
        f"{base_url.rstrip('/')}/reservations",
        params={"phone_last4": last4},
        headers={"Authorization": f"Bearer {token}"},
        timeout=3,
    )
    response.raise_for_status()
    return response.json()
