"""
⭐ 포인트 적립

손님이 "포인트" 라고 보내면 지금까지 쌓인 포인트를 알려 줍니다.
가게 직원이 "포인트 적립 홍길동 500", "포인트 사용 홍길동 300" 처럼 보내면 쌓고 씁니다.
포인트는 플랫폼의 저장소(store)에 손님별로 남아서, 명령어가 다시 실행되어도 사라지지 않습니다.
  - 명령어: 포인트
  - 패턴: (적립|사용) 이름 숫자 → params["parameters"][0], [1], [2]

STAFF 에 직원 이름을 적어 두면 적립/사용은 직원만 할 수 있습니다 (비워 두면 누구나).
"""
from domaeka import store

STAFF = []
# 이 포인트가 모이면 쿠폰을 알려 줍니다.
COUPON_AT = 1000


def key(name):
    return "포인트:" + name


def handle_command(params):
    parameters = (params.get("parameters") or []) + ["", "", ""]
    action, name, amount = parameters[0], parameters[1].strip(), parameters[2]
    sender = params.get("sender") or "손님"

    if not action:
        points = store.get(key(sender)) or 0
        line = f"⭐ {sender}님의 포인트: {points:,}점"
        if points >= COUPON_AT:
            line += f"\n🎁 {COUPON_AT:,}점이 모였어요! 계산할 때 쿠폰으로 쓸 수 있어요."
        return line

    if STAFF and sender not in STAFF:
        return "🔒 포인트 적립과 사용은 가게 직원만 할 수 있어요."
    if not name or not amount.isdigit():
        return "✍️ 이렇게 보내 주세요: 포인트 적립 홍길동 500"
    n = int(amount)
    if action == "사용":
        left = store.get(key(name)) or 0
        if n > left:
            return f"😥 {name}님의 포인트가 모자라요 (지금 {left:,}점)."
        n = -n
    total = store.incr(key(name), n)
    verb = "적립" if n >= 0 else "사용"
    return f"⭐ {name}님 {abs(n):,}점 {verb}: 지금 {total:,}점"
