"""
📦 재고 (우리 가게 표)

채팅방에서 "재고 사과" 처럼 보내면 '재고' 표에서 이름에 '사과'가 들어간 품목의 수량을 알려 줍니다.
"재고" 만 보내면 전체 목록을 보여 줍니다. 수량을 늘리는 "입고" 템플릿과 같은 표를 씁니다.
  - 명령어: 재고
  - 패턴: "재고" 뒤의 글자 전부 → params["parameters"][0]

표는 데이터 메뉴에서 엑셀(.xlsx)이나 CSV 파일을 올려 만들 수 있습니다.
첫 줄(제목)을 품목, 수량, 단위 로 적고 표 이름을 '재고' 로 올리세요.
표가 아직 없으면 이 명령어가 예시 품목 몇 개로 표를 만들어 둡니다.
"""
from domaeka import db

# 이 수량 이하이면 '곧 품절' 로 알려 줍니다.
LOW_STOCK = 5

SAMPLE_ROWS = [
    ("사과 (5kg)", 12, "박스"),
    ("배 (7.5kg)", 3, "박스"),
    ("감귤 (3kg)", 0, "박스"),
]


def ensure_table():
    """표가 없으면 예시 품목으로 만듭니다 (있으면 그대로 둡니다)."""
    db.execute("create table if not exists 재고 (품목 text primary key, 수량 integer not null default 0, 단위 text)")
    if not db.query("select 1 from 재고 limit 1"):
        for 품목, 수량, 단위 in SAMPLE_ROWS:
            db.execute("insert into 재고 (품목, 수량, 단위) values ($1, $2, $3) on conflict do nothing", [품목, 수량, 단위])


def stock_line(row):
    qty = row["수량"] or 0
    if qty <= 0:
        state = "❌ 품절"
    elif qty <= LOW_STOCK:
        state = "⚠️ 곧 품절"
    else:
        state = "✅"
    return f"{state} {row['품목']}: {qty}{row.get('단위') or '개'}"


def handle_command(params):
    keyword = ((params.get("parameters") or [""])[0] or "").strip()
    ensure_table()
    rows = db.query(
        "select 품목, 수량, 단위 from 재고 where replace(품목, ' ', '') ilike '%' || replace($1, ' ', '') || '%' order by 품목 limit 20",
        [keyword],
    )
    if not rows:
        return f"😥 '{keyword}' 품목을 찾지 못했어요. '재고' 만 보내면 전체 목록을 볼 수 있어요."
    title = f"📦 '{keyword}' 재고" if keyword else "📦 전체 재고"
    return "\n".join([title] + [stock_line(r) for r in rows])
