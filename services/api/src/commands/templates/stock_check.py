"""
📊 재고 확인

채팅방에서 "재고 원두" 처럼 보내면 이름에 '원두'가 들어간 상품의 재고를 알려 줍니다.
"재고" 만 보내면 전체 목록을 보여 줍니다.
  - 명령어: 재고
  - 패턴: "재고" 뒤의 글자 전부(띄어쓰기 포함)를 상품 이름으로 잡습니다 → params["parameters"][0]

지금은 아래 SAMPLE_STOCK(예시 재고)에서 찾습니다.
구글 시트로 재고를 관리한다면:
  1) 시트의 '재고' 탭에 A열 상품명, B열 수량, C열 단위를 적고 (1행은 제목)
  2) Google Cloud 에서 Sheets API 키를 만들어 설정 > 비밀 값에 GOOGLE_SHEETS_API_KEY 로,
     시트 주소의 /d/ 와 /edit 사이 글자를 STOCK_SHEET_ID 로 저장하고
  3) 아래 USE_LIVE_API 를 True 로 바꾸세요. (시트는 '링크가 있는 모든 사용자' 보기 권한)
  그리고 ⚙ 설정 > 외부 접속 도메인에 sheets.googleapis.com도 넣어 주세요. (외부 접속은 프리미엄 요금제에서 동작합니다.)
"""
import os
from urllib.parse import quote

USE_LIVE_API = False

# 이 수량 이하이면 '곧 품절' 로 알려 줍니다.
LOW_STOCK = 5

# ─────────────────────────────────────────────────────────────
# 📦 예시 데이터 (SAMPLE): 상품명 → 수량, 단위
# ─────────────────────────────────────────────────────────────
SAMPLE_STOCK = {
    "아메리카노 원두 1kg": {"qty": 12, "unit": "봉"},
    "디카페인 원두 500g": {"qty": 0, "unit": "봉"},
    "드립백 세트 (10개입)": {"qty": 35, "unit": "박스"},
    "콜드브루 원액 1L": {"qty": 3, "unit": "병"},
    "종이컵 (1000개)": {"qty": 8, "unit": "박스"},
}


def simplify(text):
    """띄어쓰기와 대소문자를 무시하고 비교하려고 정리합니다."""
    return text.replace(" ", "").lower()


def stock_line(name, info):
    qty = info["qty"]
    if qty <= 0:
        state = "❌ 품절"
    elif qty <= LOW_STOCK:
        state = "⚠️ 곧 품절"
    else:
        state = "✅"
    return f"{state} {name}: {qty}{info['unit']}"


def handle_command(params):
    parameters = params.get("parameters") or [""]
    keyword = parameters[0].strip()

    if USE_LIVE_API:
        api_key = os.environ.get("GOOGLE_SHEETS_API_KEY")
        sheet_id = os.environ.get("STOCK_SHEET_ID")
        if not api_key or not sheet_id:
            return "⚠️ GOOGLE_SHEETS_API_KEY / STOCK_SHEET_ID 비밀 값이 없어요. 설정 > 비밀 값에서 추가해 주세요."
        stock = fetch_live_stock(api_key, sheet_id)
    else:
        stock = SAMPLE_STOCK

    # 이름에 검색어가 들어간 상품만 고릅니다 (검색어가 없으면 전부).
    found = {name: info for name, info in stock.items() if simplify(keyword) in simplify(name)}
    if not found:
        return f"😥 '{keyword}' 상품을 찾지 못했어요. '재고' 만 보내면 전체 목록을 볼 수 있어요."

    title = f"📊 '{keyword}' 재고" if keyword else "📊 전체 재고"
    lines = [title] + [stock_line(name, info) for name, info in found.items()]
    if not USE_LIVE_API:
        lines.append("※ 예시 데이터입니다")
    return "\n".join(lines)


def fetch_live_stock(api_key, sheet_id):
    """구글 시트 '재고' 탭 → SAMPLE_STOCK 과 같은 모양의 dict."""
    import requests  # 진짜 API를 쓸 때만 불러옵니다

    cell_range = quote("재고!A2:C")
    response = requests.get(
        f"https://sheets.googleapis.com/v4/spreadsheets/{sheet_id}/values/{cell_range}",
        params={"key": api_key},
        timeout=3,
    )
    response.raise_for_status()
    stock = {}
    for row in response.json().get("values", []):
        if len(row) < 2 or not row[1].strip().isdigit():
            continue  # 빈 줄이나 수량이 숫자가 아닌 줄은 건너뜁니다
        unit = row[2] if len(row) > 2 else "개"
        stock[row[0]] = {"qty": int(row[1]), "unit": unit}
    return stock
