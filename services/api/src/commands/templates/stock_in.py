"""
🚚 입고 / 출고 (우리 가게 표)

"입고 사과 10" 처럼 보내면 '재고' 표의 그 품목 수량을 10 늘리고 지금 수량을 알려 줍니다.
"입고 사과 -3" 처럼 빼는 수를 보내면 출고로 처리합니다(0 아래로는 내려가지 않습니다).
표에 없는 품목은 새로 추가합니다. "재고" 템플릿과 같은 표를 씁니다.
  - 명령어: 입고
  - 패턴: 품목 이름과 마지막 숫자 → params["parameters"][0], [1]

가게 사람만 쓰게 하려면 STAFF 에 보낸 사람 이름을 적으세요 (비워 두면 누구나).
"""
from domaeka import db

STAFF = []


def handle_command(params):
    parameters = params.get("parameters") or ["", ""]
    item = (parameters[0] or "").strip()
    amount = (parameters[1] if len(parameters) > 1 else "") or ""
    if STAFF and params.get("sender") not in STAFF:
        return "🔒 입고는 가게 직원만 할 수 있어요."
    if not item or not amount.lstrip("-").isdigit():
        return "✍️ 이렇게 보내 주세요: 입고 사과 10 (빼려면 입고 사과 -3)"
    n = int(amount)
    db.execute("create table if not exists 재고 (품목 text primary key, 수량 integer not null default 0, 단위 text)")
    rows = db.query(
        "insert into 재고 (품목, 수량) values ($1, greatest($2, 0)) "
        "on conflict (품목) do update set 수량 = greatest(재고.수량 + $2, 0) returning 수량",
        [item, n],
    )
    verb = "입고" if n >= 0 else "출고"
    return f"🚚 {item} {abs(n)}개 {verb}: 지금 {rows[0]['수량']}개"
